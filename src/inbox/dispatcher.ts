import type { Update } from 'grammy/types';
import type { Logger } from '../logger.js';
import { DatabaseBusy, toStoreError } from '../storage/errors.js';
import { sendScope } from '../telegram/paced-api.js';
import { isSendCancelled } from '../telegram/send-pace.js';
import type { Inbox } from './inbox.js';

export interface InboxDispatcherOptions {
  inbox: Inbox;
  /** Handles one update (the bot's handleUpdate). Rejects only when it should be tried again (a locked database). */
  handle: (update: Update) => Promise<void>;
  log: Logger;
  /**
   * Updates handled at once (default: 64). Each waits for its reply's turn at the send pace, so
   * this bounds memory, not speed: the pace decides how fast a crowd is answered.
   */
  concurrency?: number;
  /** Idle poll, in case a wake-up was missed (default: 1000 ms). */
  pollMs?: number;
}

/**
 * Handles the inbox's updates: oldest first, one at a time per chat (a checkout's answers in
 * order), up to `concurrency` chats at once. An update is marked done after its handler
 * finished; one whose handler met a locked database stays pending and is tried again shortly.
 */
export class InboxDispatcher {
  readonly #o: Required<InboxDispatcherOptions>;
  readonly #busyChats = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Not before this instant (ms since epoch, real time): the database was locked. */
  #backoffUntil = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(o: InboxDispatcherOptions) {
    this.#o = { ...o, concurrency: o.concurrency ?? 64, pollMs: o.pollMs ?? 1000 };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** New updates were stored: look now. */
  wake(): void {
    this.#wake?.();
  }

  /** Updates being handled now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Stops taking updates and waits (at most `timeoutMs`) for those being handled; the rest stay pending for the next start. */
  async stop(timeoutMs = 8000): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Resolves when nothing is pending or being handled (tests, the playground). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#inFlight.size === 0 && this.#o.inbox.backlog() === 0;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        if (Date.now() >= this.#backoffUntil) this.#fill();
        if (this.#idleWaiters.length > 0 && this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w();
      } catch (error) {
        this.#o.log.error({ err: error }, 'inbox: could not read pending updates; retrying');
        this.#backoffUntil = Date.now() + 1000;
      }
      await new Promise<void>((resolve) => {
        const wait = Math.max(1, Math.min(this.#o.pollMs, this.#backoffUntil - Date.now() > 0 ? this.#backoffUntil - Date.now() : this.#o.pollMs));
        this.#timer = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(this.#timer);
          resolve();
        };
      });
    }
  }

  #fill(): void {
    const { concurrency, inbox } = this.#o;
    // Chats being handled are left out of the query (their rows stay pending until done), so a
    // chat with many waiting updates hides no one; a few rows per free slot are enough, as a chat
    // met twice is started once. Another look while a full page may have hidden more.
    for (let look = 0; look < 4; look++) {
      const free = concurrency - this.#inFlight.size;
      if (free <= 0) return;
      const limit = free * 2 + 8;
      const entries = inbox.pending(limit, this.#busyChats);
      for (const entry of entries) {
        if (this.#inFlight.size >= concurrency) return;
        if (this.#busyChats.has(entry.chatKey)) continue;
        const update = inbox.take(entry.updateId);
        if (!update) continue;
        this.#busyChats.add(entry.chatKey);
        const p = this.#handle(entry.updateId, update).finally(() => {
          this.#inFlight.delete(p);
          this.#busyChats.delete(entry.chatKey);
          this.wake();
        });
        this.#inFlight.add(p);
      }
      if (entries.length < limit) return;
    }
  }

  async #handle(updateId: number, update: Update): Promise<void> {
    const { inbox, log } = this.#o;
    try {
      await sendScope.run({ cls: 'reply', updateId, seq: 0 }, () => this.#o.handle(update));
    } catch (error) {
      if (isSendCancelled(error)) return; // the bot is stopping: handled again at the next start
      if (toStoreError(error) instanceof DatabaseBusy) {
        // Left pending: handled again once the lock is gone (what it already sent is journaled).
        log.warn({ updateId }, 'inbox: database locked while handling an update; it will be handled again');
        this.#backoffUntil = Date.now() + 500;
        return;
      }
      log.error({ err: error, updateId }, 'inbox: update failed');
    }
    try {
      inbox.done(updateId);
    } catch (error) {
      log.error({ err: error, updateId }, 'inbox: could not mark an update handled; it will be handled again (its sends are journaled)');
      this.#backoffUntil = Date.now() + 500;
    }
  }
}
