import type { Clock } from '../clock.js';
import type { Db } from '../storage/open-database.js';
import type { SendClass } from '../telegram/send-pace.js';
import type { Job, ReplyMarkup } from './jobs.js';

export interface EnqueueOptions {
  /** A job with the same key is enqueued once, ever (e.g. `grant:<order>:<chat>`). */
  dedupeKey?: string;
  /** Not before this instant (default: now). */
  runAfter?: number;
  /** Its place in the send pace (default: 'access': a paid customer's access, receipts, invoices). */
  sendClass?: SendClass;
  /**
   * Messages to one chat with the same batch that are waiting together go out as one message
   * (many payments at once: one "12 payments" notice instead of twelve).
   */
  batch?: string;
}

/**
 * The durable queue of Telegram side effects. `enqueue` is synchronous, so it runs inside the
 * same SQLite transaction as the state change that causes it: both commit, or neither.
 */
export class Outbox {
  readonly #insert;
  /** Called after each enqueue (the worker's wake-up); runs after the caller's transaction commits. */
  onEnqueue: (() => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.#insert = db.prepare(`
      INSERT INTO outbox (kind, payload, chat_id, dedupe_key, run_after, send_class, batch, created_at, updated_at)
      VALUES (@kind, @payload, @chatId, @dedupeKey, @runAfter, @sendClass, @batch, @now, @now)
      ON CONFLICT (dedupe_key) DO NOTHING`);
  }

  /** Adds a job; returns its id, or undefined when its dedupe key was used before. */
  enqueue(job: Job, options: EnqueueOptions = {}): number | undefined {
    const now = this.clock.now();
    const result = this.#insert.run({
      kind: job.kind,
      payload: JSON.stringify(job),
      chatId: throttleChat(job),
      dedupeKey: options.dedupeKey ?? null,
      runAfter: options.runAfter ?? now,
      sendClass: options.sendClass ?? 'access',
      batch: options.batch ?? null,
      now,
    });
    if (result.changes !== 1) return undefined;
    if (this.onEnqueue) queueMicrotask(this.onEnqueue);
    return Number(result.lastInsertRowid);
  }

  /** A plain message to every admin in `admins` (alerts, payment notices), sent after customers' messages. */
  notifyAdmins(admins: readonly number[], text: string, options: { dedupeKey?: string; replyMarkup?: ReplyMarkup; batch?: string } = {}): void {
    for (const chatId of admins) {
      this.enqueue(
        { kind: 'message', chatId, text, replyMarkup: options.replyMarkup },
        { dedupeKey: options.dedupeKey && `${options.dedupeKey}:${chatId}`, sendClass: 'admin', batch: options.batch },
      );
    }
  }
}

/**
 * The private chat a job writes to, for the one-message-per-second-per-chat limit; null for jobs
 * that send no message (approvals and removals count only against the overall rate).
 */
export function throttleChat(job: Job): number | null {
  switch (job.kind) {
    case 'message':
    case 'send_document':
      return job.chatId;
    case 'grant_access':
    case 'decline_join_request':
      return job.userId;
    default:
      return null;
  }
}
