import { systemClock, type Clock } from '../clock.js';
import { Throttle } from '../outbox/throttle.js';

/**
 * Who a message is for, in the order it goes out when many wait: a paid customer's access,
 * receipt or invoice first, then replies to customers, then admin notices, reminders, broadcasts.
 */
export type SendClass = 'access' | 'reply' | 'admin' | 'reminder' | 'broadcast';

export const SEND_CLASSES: readonly SendClass[] = ['access', 'reply', 'admin', 'reminder', 'broadcast'];

const RANK: Record<SendClass, number> = { access: 0, reply: 1, admin: 2, reminder: 3, broadcast: 4 };

/**
 * How long a message of each class may wait behind higher classes before it goes first anyway
 * (nothing waits forever): milliseconds.
 */
export const MAX_WAIT_MS: Record<SendClass, number> = { access: 2_000, reply: 10_000, admin: 60_000, reminder: 300_000, broadcast: 900_000 };

export interface SendPaceOptions {
  /** Messages per second to start at and recover to (default: 30, Telegram's overall limit). */
  perSecond?: number;
  /** The lowest rate repeated 429s can push the pace down to (default: 1). */
  minPerSecond?: number;
  /** Per private chat: one message per this many ms after a short burst (default: 1000). */
  perChatMs?: number;
  /** Messages one chat may get back to back (default: 3: a receipt and its link arrive together). */
  chatBurst?: number;
  /** Per group or channel (negative chat id): one message per this many ms (default: 3000, 20 a minute). */
  perGroupMs?: number;
  /** Real time, for Telegram's limits (default: the system clock). */
  clock?: Clock;
}

/** The pace was closed (the bot is stopping) before this message's turn came: it was not sent. */
export class SendCancelled extends Error {
  override name = 'SendCancelled';
  constructor() {
    super('the bot is stopping: message not sent');
  }
}

/** Whether `error` is, or wraps (grammY's HttpError keeps it in `error`), a {@link SendCancelled}. */
export function isSendCancelled(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; depth++) {
    if (e instanceof SendCancelled) return true;
    e = (e as { error?: unknown; cause?: unknown }).error ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

interface Waiter {
  cls: SendClass;
  chatId: number | null;
  /** Coalescing key: a newer wait with the same key replaces this one (an edit of the same message). */
  key?: string;
  since: number;
  resolve: (go: boolean) => void;
  reject: (error: Error) => void;
}

/**
 * How long a message to a chat may be on its way (let go, its answer not back) before the chat's
 * next message goes anyway: a request that hangs does not hold its chat for longer (ms).
 */
export const ON_THE_WAY_MAX_MS = 30_000;

/** One wait's outcome, for the reply-wait percentiles. */
const WAIT_SAMPLES = 2048;

/**
 * One pace for everything the bot sends: replies, outbox jobs, admin notices, broadcasts. A
 * sender asks `acquire(chatId, class)` and sends when it resolves. Waiters are served by class
 * (see {@link SendClass}), oldest first within a class, a class past its {@link MAX_WAIT_MS} ahead
 * of all; each chat gets about one message a second (one per 3 s for groups); overall the pace
 * starts at `perSecond`, drops by a third when Telegram answers 429 for the whole bot (once for
 * all the messages that were already on their way) and climbs back by one message a second every
 * 5 s without one.
 *
 * A 429 says only `retry_after`, not which limit was hit. The rule: when the chat had a message
 * within the last second (before this one), the chat's limit was hit and only that chat waits;
 * otherwise the bot's overall limit was, and everything waits and slows down.
 */
export class SendPace {
  readonly #throttle: Throttle;
  readonly #groups: Throttle;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #min: number;
  readonly #queues = new Map<SendClass, Waiter[]>(SEND_CLASSES.map((c) => [c, []]));
  readonly #byKey = new Map<string, Waiter>();
  /** Chats with a message on its way (let go, not answered yet), since when. */
  readonly #onTheWay = new Map<number, number>();
  /** Last two sends per chat: [previous, latest], for the 429 rule. */
  readonly #lastSends = new Map<number, [number, number]>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #last429 = -Infinity;
  /** When the overall rate was last cut for a 429. */
  #lastCut = -Infinity;
  #lastRecovery = 0;
  /** Counters for /metrics. */
  readonly stats = { sent: 0, tooManyRequests: 0, chatLimited: 0, botLimited: 0, coalesced: 0 };
  readonly #replyWaits: number[] = [];

  constructor(o: SendPaceOptions = {}) {
    this.#clock = o.clock ?? systemClock;
    this.#max = o.perSecond ?? 30;
    this.#min = Math.min(this.#max, o.minPerSecond ?? 1);
    this.#throttle = new Throttle(this.#max, o.perChatMs ?? 1000, o.chatBurst ?? 3, 5);
    // Groups have their own, slower per-chat limit; the overall limit is kept by #throttle.
    this.#groups = new Throttle(1e9, o.perGroupMs ?? 3000, 3, 1e9);
  }

  /** The overall rate now, messages per second. */
  get rate(): number {
    return this.#throttle.rate;
  }

  /** Messages waiting, per class. */
  queued(): Record<SendClass, number> {
    return Object.fromEntries(SEND_CLASSES.map((c) => [c, this.#queues.get(c)!.length])) as Record<SendClass, number>;
  }

  /** Roughly how long a new message of `cls` would wait now (ms): what is queued at or above its rank, at the current rate. */
  expectedWait(cls: SendClass): number {
    let ahead = 0;
    for (const c of SEND_CLASSES) if (RANK[c] <= RANK[cls]) ahead += this.#queues.get(c)!.length;
    return (ahead * 1000) / this.rate;
  }

  /** p50 and p99 of how long replies waited (ms), over the last few thousand. */
  replyWait(): { p50: number; p99: number } {
    const sorted = [...this.#replyWaits].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99) };
  }

  /**
   * Resolves true when a message to `chatId` (null: none, e.g. an approval) may go now, and
   * counts it as sent; call {@link answered} when Telegram's answer is back. Resolves false when
   * a newer wait with the same `key` took its place (an edit of the same message: only the
   * latest state is worth sending).
   */
  acquire(chatId: number | null, cls: SendClass, key?: string): Promise<boolean> {
    if (this.#closed) return Promise.reject(new SendCancelled());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { cls, chatId, key, since: this.#clock.now(), resolve, reject };
      if (key !== undefined) {
        const older = this.#byKey.get(key);
        if (older) {
          const queue = this.#queues.get(older.cls)!;
          queue.splice(queue.indexOf(older), 1);
          this.stats.coalesced++;
          older.resolve(false);
        }
        this.#byKey.set(key, waiter);
      }
      this.#queues.get(cls)!.push(waiter);
      this.#pump();
    });
  }

  /**
   * Telegram answered 429 to a message to `chatId` with `retryAfterSeconds`: decides whose limit
   * it was (see the class comment) and holds that chat, or everything, until the wait is over.
   */
  tooManyRequests(chatId: number | null, retryAfterSeconds: number): 'chat' | 'bot' {
    const now = this.#clock.now();
    const until = now + Math.max(1, retryAfterSeconds) * 1000;
    this.stats.tooManyRequests++;
    const sends = chatId === null ? undefined : this.#lastSends.get(chatId);
    if (chatId !== null && sends !== undefined && sends[1] - sends[0] < 1000) {
      this.stats.chatLimited++;
      (chatId < 0 ? this.#groups : this.#throttle).pause(chatId, until);
      this.#pump();
      return 'chat';
    }
    this.stats.botLimited++;
    this.#throttle.pause(null, until);
    // A message sent before the last cut went out at the old rate: its 429 is the same news, and
    // cutting again for each of a burst already on its way would bring the pace down to the minimum.
    const sentAt = sends?.[1] ?? now;
    if (sentAt > this.#lastCut) {
      this.#throttle.setRate(Math.max(this.#min, this.#throttle.rate * (2 / 3)));
      this.#lastCut = now;
    }
    this.#last429 = now;
    this.#pump();
    return 'bot';
  }

  /**
   * Telegram answered the message {@link acquire} let go to `chatId` (sent, refused, or the
   * request failed): the chat's next message may go. Until then (at most
   * {@link ON_THE_WAY_MAX_MS}) a chat gets one message at a time, so that a message does not
   * overtake the one before it, nor go out before that one's 429 is known.
   */
  answered(chatId: number | null): void {
    if (chatId === null || !this.#onTheWay.delete(chatId)) return;
    if (!this.#closed) this.#pump();
  }

  /** The bot is stopping: waiters still queued, and any later, fail with {@link SendCancelled} (nothing more is sent). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const queue of this.#queues.values()) for (const w of queue.splice(0)) w.reject(new SendCancelled());
    this.#byKey.clear();
    this.#onTheWay.clear();
  }

  #recover(now: number): void {
    if (this.rate >= this.#max || now - this.#last429 < 5000 || now - this.#lastRecovery < 5000) return;
    this.#lastRecovery = now;
    this.#throttle.setRate(Math.min(this.#max, this.rate + 1));
  }

  #chatWait(chatId: number | null, now: number): number {
    if (chatId === null) return 0;
    const since = this.#onTheWay.get(chatId);
    if (since !== undefined) {
      // answered() lets the next one go; this wait only bounds a request that never returns.
      if (now - since < ON_THE_WAY_MAX_MS) return since + ON_THE_WAY_MAX_MS - now;
      this.#onTheWay.delete(chatId);
    }
    // Called when the overall limit allows a send now, so what remains is the chat's own wait.
    return chatId < 0 ? this.#groups.waitFor(chatId, now) : this.#throttle.waitFor(chatId, now);
  }

  /** Lets waiters go while the pace allows; sets a timer for the next one. */
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (;;) {
      const now = this.#clock.now();
      this.#recover(now);
      const globalWait = this.#throttle.waitFor(null, now);
      if (globalWait > 0) {
        if (this.#waiting()) this.#schedule(globalWait);
        return;
      }
      const pick = this.#next(now);
      if (!pick) return;
      if ('wait' in pick) {
        this.#schedule(pick.wait);
        return;
      }
      this.#release(pick.waiter, now);
    }
  }

  #waiting(): boolean {
    for (const q of this.#queues.values()) if (q.length > 0) return true;
    return false;
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => this.#pump(), Math.max(1, Math.ceil(ms)));
  }

  /**
   * The waiter to release now: the most overdue one past its class's maximum wait, else the first
   * ready one of the highest class. Or how long until one is ready.
   */
  #next(now: number): { waiter: Waiter } | { wait: number } | undefined {
    let best: Waiter | undefined;
    let bestScore = Infinity;
    let soonest = Infinity;
    for (const cls of SEND_CLASSES) {
      const queue = this.#queues.get(cls)!;
      // Only the front of each queue is looked at: chats already served recently are skipped, not searched for.
      const limit = Math.min(queue.length, 64);
      for (let i = 0; i < limit; i++) {
        const w = queue[i]!;
        const wait = this.#chatWait(w.chatId, now);
        if (wait > 0) {
          soonest = Math.min(soonest, wait);
          continue;
        }
        const overdue = now - w.since - MAX_WAIT_MS[cls];
        // Overdue waiters first (most overdue ahead), then by class.
        const score = overdue > 0 ? -overdue : RANK[cls];
        if (score < bestScore) {
          best = w;
          bestScore = score;
        }
        break;
      }
    }
    if (best) return { waiter: best };
    return soonest < Infinity ? { wait: soonest } : undefined;
  }

  #release(w: Waiter, now: number): void {
    const queue = this.#queues.get(w.cls)!;
    queue.splice(queue.indexOf(w), 1);
    if (w.key !== undefined && this.#byKey.get(w.key) === w) this.#byKey.delete(w.key);
    this.#throttle.take(w.chatId !== null && w.chatId < 0 ? null : w.chatId, now);
    if (w.chatId !== null) {
      this.#onTheWay.set(w.chatId, now);
      if (w.chatId < 0) this.#groups.take(w.chatId, now);
      const last = this.#lastSends.get(w.chatId);
      this.#lastSends.set(w.chatId, [last?.[1] ?? -Infinity, now]);
      if (this.#lastSends.size > 20_000) {
        for (const [id, [, at]] of this.#lastSends) if (now - at > 10_000) this.#lastSends.delete(id);
      }
    }
    this.stats.sent++;
    if (w.cls === 'reply') {
      if (this.#replyWaits.length >= WAIT_SAMPLES) this.#replyWaits.shift();
      this.#replyWaits.push(now - w.since);
    }
    w.resolve(true);
  }
}
