import { Composer } from 'grammy';
import { prepared } from '../storage/prepared.js';
import type { ChatMemberAdministrator, ChatMemberOwner } from 'grammy/types';
import type { BotContext } from '../bot/context.js';
import { escapeHtml } from '../bot/html.js';
import { localize, text } from '../catalog/texts.js';
import { isEntitled } from './entitlement.js';
import { resolveLanguage } from '../bot/flavor.js';
import { enqueueChannelAccess } from './fulfil-order.js';

/**
 * Someone joined through a link the bot issued. In invite_link mode the link is revoked at once (a
 * limit-1 link works again after the first joiner leaves). If the joiner is not the customer it
 * was made for, and has no access of their own, they are removed and told why, and the customer
 * gets a fresh link.
 */
function onJoinedByLink(ctx: BotContext, chatId: number, joiner: { id: number; language_code?: string }, link: string): void {
  const { db, clock, outbox } = ctx.deps;
  const now = clock.now();
  const issued = db.prepare<[string], { id: number; user_id: number }>('SELECT id, user_id FROM invite_links WHERE link = ?').get(link);
  if (!issued) return; // a link someone else made: not ours to judge
  db.transaction(() => {
    db.prepare('UPDATE invite_links SET used_at = coalesce(used_at, ?) WHERE id = ?').run(now, issued.id);
    if (ctx.catalog.settings.accessMode !== 'invite_link') return;
    outbox.enqueue({ kind: 'revoke_link', chatId, link }, { dedupeKey: `revoke:${issued.id}` });
    if (issued.user_id === joiner.id) return;
    const channel = [...ctx.catalog.channels.values()].find((c) => c.chatId === chatId);
    // The customer the link was made for still needs a way in, whoever used it.
    if (channel) {
      const owner = ctx.deps.customers.get(issued.user_id);
      enqueueChannelAccess(
        { db, outbox, catalog: ctx.catalog },
        issued.user_id,
        owner?.language ?? ctx.catalog.settings.defaultLanguage,
        [channel],
        `again ${issued.id}`,
        `misuse-regrant:${issued.id}`,
        'link_misused',
      );
    }
    if (isEntitled(db, ctx.catalog, joiner.id, chatId, now)) return; // they may be here on their own
    const lang = resolveLanguage(ctx.catalog, ctx.deps.customers.get(joiner.id)?.language, joiner.language_code).lang;
    const title = channel ? localize(channel.title, lang, ctx.catalog.settings.defaultLanguage) : String(chatId);
    outbox.enqueue({ kind: 'remove_member', chatId, userId: joiner.id }, { dedupeKey: `misuse-remove:${issued.id}:${joiner.id}` });
    outbox.enqueue(
      // They may never have written to the bot: then Telegram refuses the message, and that is fine.
      { kind: 'message', chatId: joiner.id, userId: joiner.id, text: escapeHtml(text(ctx.catalog, lang, 'link_not_yours', { channel: title })), optional: true },
      { dedupeKey: `misuse-tell:${issued.id}:${joiner.id}` },
    );
  })();
}

/** Rights the bot needs in every channel it sells, with the names Telegram's apps show. */
export const NEEDED_RIGHTS = [
  ['can_invite_users', 'Invite users via link'],
  ['can_restrict_members', 'Ban users'],
] as const;

const IN = new Set(['member', 'administrator', 'creator', 'restricted']);

/**
 * Keeps membership true: records joins and leaves from `chat_member` updates; reports to the
 * admins when the bot is added to a chat (its title, id and missing rights, so nobody has to dig
 * for a chat id) and alerts when it loses a needed right in a catalog channel. /whoami answers
 * anyone with their numeric id.
 */
export function membership(): Composer<BotContext> {
  const bot = new Composer<BotContext>();

  bot.on('chat_member', (ctx) => {
    const u = ctx.chatMember;
    prepared(ctx.deps.db, 
        'INSERT INTO memberships (chat_id, user_id, status, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at',
      )
      .run(u.chat.id, u.new_chat_member.user.id, IN.has(u.new_chat_member.status) ? 'member' : u.new_chat_member.status, ctx.deps.clock.now());
    if (u.invite_link && IN.has(u.new_chat_member.status) && !IN.has(u.old_chat_member.status)) {
      onJoinedByLink(ctx, u.chat.id, u.new_chat_member.user, u.invite_link.invite_link);
    }
  });

  bot.on('my_chat_member', async (ctx) => {
    const u = ctx.myChatMember;
    const chatId = u.chat.id;
    if (u.chat.type === 'private') {
      if (u.new_chat_member.status === 'kicked') ctx.deps.customers.setBlocked(chatId, true, ctx.deps.clock.now());
      return;
    }
    const { catalog, deps } = ctx;
    const channel = [...catalog.channels.values()].find((c) => c.chatId === chatId);
    const title = u.chat.title;
    const status = u.new_chat_member.status;
    const rights = status === 'administrator' ? (u.new_chat_member as ChatMemberAdministrator) : status === 'creator' ? (u.new_chat_member as ChatMemberOwner) : undefined;
    const missing = NEEDED_RIGHTS.filter(([key]) => !(rights && (status === 'creator' || (rights as ChatMemberAdministrator)[key]))).map(([, name]) => name);
    const lines: string[] = [];
    if (status === 'left' || status === 'kicked') {
      if (!channel) return;
      lines.push(`🚨 The bot was removed from "${title}" (${chatId}), which the catalog sells as "${localize(channel.title, catalog.settings.defaultLanguage, catalog.settings.defaultLanguage)}". Paying customers cannot get in until you add it back as an administrator.`);
    } else {
      const known = channel ? ` It is "${channel.id}" in the catalog.` : ` To sell it, add to catalog.yaml under channels:  chat_id: ${chatId}`;
      lines.push(`ℹ️ The bot is now ${status} in "${title}" — chat id ${chatId}.${known}`);
      if (missing.length > 0) {
        lines.push(`⚠️ Missing rights: ${missing.join(', ')}. Open the chat → Administrators → the bot, and switch them on.`);
      } else {
        lines.push('✅ It has every right it needs.');
      }
      if (!channel && missing.length > 0 && status !== 'administrator') return;
    }
    const text = escapeHtml(lines.join('\n'));
    deps.outbox.notifyAdmins(catalog.settings.admins, text, { dedupeKey: `my-chat-member:${ctx.update.update_id}` });
  });

  bot.command('whoami', (ctx) => ctx.reply(`Your Telegram id: <code>${ctx.from?.id ?? '?'}</code>`, { parse_mode: 'HTML' }));
  return bot;
}
