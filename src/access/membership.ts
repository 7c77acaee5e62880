import { Composer } from 'grammy';
import type { ChatMemberAdministrator, ChatMemberOwner } from 'grammy/types';
import type { BotContext } from '../bot/context.js';
import { escapeHtml } from '../bot/html.js';
import { localize } from '../catalog/texts.js';

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
    ctx.deps.db
      .prepare(
        'INSERT INTO memberships (chat_id, user_id, status, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at',
      )
      .run(u.chat.id, u.new_chat_member.user.id, IN.has(u.new_chat_member.status) ? 'member' : u.new_chat_member.status, ctx.deps.clock.now());
    if (u.invite_link && IN.has(u.new_chat_member.status) && !IN.has(u.old_chat_member.status)) {
      ctx.deps.db.prepare('UPDATE invite_links SET used_at = coalesce(used_at, ?) WHERE link = ?').run(ctx.deps.clock.now(), u.invite_link.invite_link);
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
