import type { Update } from 'grammy/types';
import type { Clock } from '../clock.js';
import type { Db } from '../storage/open-database.js';
import { prepared } from '../storage/prepared.js';
import type { SendJournal } from '../telegram/paced-api.js';

/** An update waiting in the inbox. */
export interface InboxEntry {
  updateId: number;
  /** Updates with the same key are handled one after another, in order (a chat, or a user). */
  chatKey: string;
}

/** The chat (or user) an update belongs to, so one customer's updates are handled in order. */
export function chatKeyOf(u: Update): string {
  const chat =
    u.message?.chat ??
    u.edited_message?.chat ??
    u.callback_query?.message?.chat ??
    u.chat_join_request?.chat ??
    u.chat_member?.chat ??
    u.my_chat_member?.chat ??
    u.channel_post?.chat;
  if (chat) return `c${chat.id}`;
  const from = u.callback_query?.from ?? u.pre_checkout_query?.from ?? u.inline_query?.from;
  return from ? `c${from.id}` : `u${u.update_id}`;
}

/**
 * The durable inbox of Telegram updates: every update is stored here before Telegram is told it
 * arrived (the next getUpdates offset, or the webhook's 200), and handled from here exactly once.
 * Handled rows keep only their id for a day, so a redelivered update is recognised and changes nothing.
 */
export class Inbox {
  readonly journal: SendJournal;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.journal = {
      get: (updateId, seq) => {
        const row = prepared<[number, number], { method: string; result: string }>(db, 'SELECT method, result FROM sent_journal WHERE update_id = ? AND seq = ?').get(updateId, seq);
        return row && { method: row.method, result: JSON.parse(row.result) as unknown };
      },
      put: (updateId, seq, method, result) => {
        prepared(db, 'INSERT INTO sent_journal (update_id, seq, method, result) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(updateId, seq, method, JSON.stringify(result ?? null));
      },
    };
  }

  /** Stores updates in one transaction; one already stored (a redelivery) changes nothing. Returns the new ones. */
  store(updates: readonly Update[]): Update[] {
    const insert = prepared(this.db, 'INSERT INTO inbox (update_id, chat_key, payload, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING');
    const now = this.clock.now();
    return this.db.transaction(() => updates.filter((u) => insert.run(u.update_id, chatKeyOf(u), JSON.stringify(u), now).changes === 1)).immediate();
  }

  /**
   * The oldest pending updates, at most `limit`, leaving out the chats in `except` (those being
   * handled: one chat's hundreds of waiting updates must not hide everyone else's).
   */
  pending(limit: number, except: Iterable<string> = []): InboxEntry[] {
    return prepared<[string, number], InboxEntry>(
      this.db,
      "SELECT update_id AS updateId, chat_key AS chatKey FROM inbox WHERE state = 'pending' AND chat_key NOT IN (SELECT value FROM json_each(?)) ORDER BY update_id LIMIT ?",
    ).all(JSON.stringify([...except]), limit);
  }

  /** The stored update, counting one more attempt to handle it. */
  take(updateId: number): Update | undefined {
    const row = prepared<[number], { payload: string }>(this.db, 'UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ? RETURNING payload').get(updateId);
    return row && (JSON.parse(row.payload) as Update);
  }

  /** The update was handled: marked done, and the journal of what it sent is no longer needed. */
  done(updateId: number): void {
    this.db
      .transaction(() => {
        // Only the id is kept (to recognise a redelivery): no names or phone numbers stay behind.
        prepared(this.db, "UPDATE inbox SET state = 'done', handled_at = ?, payload = '' WHERE update_id = ?").run(this.clock.now(), updateId);
        prepared(this.db, 'DELETE FROM sent_journal WHERE update_id = ?').run(updateId);
      })
      .immediate();
  }

  /** Updates stored and not yet handled. */
  backlog(): number {
    return prepared(this.db, "SELECT count(*) FROM inbox WHERE state = 'pending'").pluck().get() as number;
  }

  /** Forgets handled updates older than `olderThanMs` (default: a day). Returns how many. */
  prune(olderThanMs = 24 * 3600 * 1000): number {
    return prepared(this.db, "DELETE FROM inbox WHERE state = 'done' AND handled_at < ?").run(this.clock.now() - olderThanMs).changes;
  }
}
