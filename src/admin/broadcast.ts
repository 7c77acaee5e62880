import type { MessageEntity } from 'grammy/types';
import { escapeHtml } from '../bot/html.js';
import type { Outbox } from '../outbox/outbox.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';
import { audit } from './audit.js';

/**
 * Broadcast jobs get due this many per second, below the outbox's 30/s: receipts and links of
 * payments made meanwhile (due at once) still go out without waiting behind the whole broadcast.
 */
export const BROADCAST_PER_SECOND = 20;

/** Who a broadcast reaches: people with an active subscription (to `planId`, or to any plan) who have not blocked the bot. */
export function broadcastRecipients(db: Db, planId: string | null): number[] {
  return prepared<[string | null, string | null], { user_id: number }>(
    db,
    `SELECT DISTINCT s.user_id FROM subscriptions s JOIN customers c ON c.user_id = s.user_id
     WHERE s.state = 'active' AND c.blocked = 0 AND (? IS NULL OR s.plan_id = ?)
     ORDER BY s.user_id`,
  )
    .all(planId, planId)
    .map((r) => r.user_id);
}

/**
 * Enqueues one `message` job per recipient (dedupe key `broadcast:<id>:<user>`, so a second
 * Confirm sends nothing twice), paced at {@link BROADCAST_PER_SECOND}; the outbox worker keeps
 * Telegram's limits. One transaction, audited. Returns how many jobs were added.
 */
export function enqueueBroadcast(d: { db: Db; outbox: Outbox }, o: { id: string; planId: string | null; html: string; adminId: number; now: number }): number {
  const { db, outbox } = d;
  return db
    .transaction(() => {
      const recipients = broadcastRecipients(db, o.planId);
      let added = 0;
      recipients.forEach((userId, i) => {
        const runAfter = o.now + Math.floor(i / BROADCAST_PER_SECOND) * 1000;
        if (outbox.enqueue({ kind: 'message', chatId: userId, userId, text: o.html }, { dedupeKey: `broadcast:${o.id}:${userId}`, runAfter, sendClass: 'broadcast' }) !== undefined) added++;
      });
      audit(db, o.adminId, 'broadcast', { broadcastId: o.id, planId: o.planId, recipients: recipients.length, enqueued: added, length: o.html.length }, o.now);
      return added;
    })
    .immediate();
}

const TAGS: Partial<Record<MessageEntity['type'], [string, string]>> = {
  bold: ['<b>', '</b>'],
  italic: ['<i>', '</i>'],
  underline: ['<u>', '</u>'],
  strikethrough: ['<s>', '</s>'],
  spoiler: ['<tg-spoiler>', '</tg-spoiler>'],
  code: ['<code>', '</code>'],
  blockquote: ['<blockquote>', '</blockquote>'],
  expandable_blockquote: ['<blockquote expandable>', '</blockquote>'],
};

const attr = (s: string) => escapeHtml(s).replace(/"/g, '&quot;');

function tagsOf(e: MessageEntity): [string, string] | undefined {
  switch (e.type) {
    case 'text_link':
      return [`<a href="${attr(e.url)}">`, '</a>'];
    case 'text_mention':
      return [`<a href="tg://user?id=${e.user.id}">`, '</a>'];
    case 'pre':
      return e.language ? [`<pre><code class="language-${attr(e.language)}">`, '</code></pre>'] : ['<pre>', '</pre>'];
    case 'custom_emoji':
      return [`<tg-emoji emoji-id="${attr(e.custom_emoji_id)}">`, '</tg-emoji>'];
    default:
      return TAGS[e.type];
  }
}

/**
 * A message's text with its formatting as Telegram HTML, so a broadcast looks as the admin wrote
 * it (bold, italic, links, code, …). Offsets are UTF-16, like JavaScript strings; Telegram's
 * entities nest properly, so tags open and close in order. Entities without markup (mentions,
 * hashtags, URLs) stay plain text — Telegram finds them again.
 */
export function entitiesToHtml(text: string, entities: readonly MessageEntity[] = []): string {
  const spans = entities
    .map((e, i) => ({ e, i, tags: tagsOf(e) }))
    .filter((s): s is { e: MessageEntity; i: number; tags: [string, string] } => s.tags !== undefined && s.e.length > 0)
    // Outer first: earlier start, then longer.
    .sort((a, b) => a.e.offset - b.e.offset || b.e.length - a.e.length || a.i - b.i);
  let out = '';
  const open: Array<{ end: number; close: string }> = [];
  let pos = 0;
  const closeUpTo = (at: number) => {
    while (open.length > 0 && open[open.length - 1]!.end <= at) {
      const top = open.pop()!;
      out += escapeHtml(text.slice(pos, top.end)) + top.close;
      pos = top.end;
    }
  };
  for (const s of spans) {
    closeUpTo(s.e.offset);
    out += escapeHtml(text.slice(pos, s.e.offset)) + s.tags[0];
    pos = s.e.offset;
    open.push({ end: Math.min(s.e.offset + s.e.length, open.at(-1)?.end ?? Infinity), close: s.tags[1] });
  }
  closeUpTo(Infinity);
  return out + escapeHtml(text.slice(pos));
}
