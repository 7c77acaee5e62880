import { Composer, InlineKeyboard } from 'grammy';
import { localize } from '../catalog/texts.js';
import type { BotContext } from '../bot/context.js';
import { encodeCallback } from '../bot/callback-data.js';
import { escapeHtml } from '../bot/html.js';
import type { Outbox } from '../outbox/outbox.js';
import { isEntitled } from './entitlement.js';

/**
 * Join requests: approved only for a customer entitled to that chat right now. Anyone else is
 * told why and offered the plans (while the request is pending Telegram lets the bot write to
 * them), then declined — so a shared link lets nobody in. Both go through the outbox.
 */
export function joinRequests(outbox: Outbox): Composer<BotContext> {
  const bot = new Composer<BotContext>();
  bot.on('chat_join_request', (ctx) => {
    const req = ctx.chatJoinRequest;
    const { db, clock, log } = ctx.deps;
    const chatId = req.chat.id;
    const userId = req.from.id;
    // Paid access is to the chat itself: also in a chat renamed or removed in the catalog since.
    if (isEntitled(db, ctx.catalog, userId, chatId, clock.now())) {
      outbox.enqueue({ kind: 'approve_join_request', chatId, userId }, { dedupeKey: `approve:${ctx.update.update_id}` });
      log.info({ chatId, userId }, 'join request approved');
      return;
    }
    const channel = [...ctx.catalog.channels.values()].find((c) => c.chatId === chatId);
    if (!channel) {
      log.info({ chatId, userId }, 'join request in a chat the catalog does not sell; left for its admins');
      return;
    }
    const title = localize(channel.title, ctx.lang, ctx.catalog.settings.defaultLanguage);
    const plans = [...ctx.catalog.plans.values()].filter((p) => !p.hidden && p.chats.some((c) => c.chatId === chatId));
    const keyboard = new InlineKeyboard();
    for (const p of plans.slice(0, 8)) keyboard.text(localize(p.title, ctx.lang, ctx.catalog.settings.defaultLanguage), encodeCallback({ type: 'item', id: p.id })).row();
    outbox.enqueue(
      {
        kind: 'decline_join_request',
        chatId,
        userId,
        text: escapeHtml(ctx.t('join_declined', { channel: title })),
        replyMarkup: { inline_keyboard: keyboard.inline_keyboard },
      },
      { dedupeKey: `decline:${ctx.update.update_id}` },
    );
    log.info({ chatId, userId }, 'join request declined: not entitled');
  });
  return bot;
}
