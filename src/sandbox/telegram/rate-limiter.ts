import type { Clock } from '../../clock.js';

/** Options for {@link createRateLimiter}. */
export interface RateLimiterOptions {
  clock: Clock;
  /** Sends per second across all chats (default: 30). */
  globalPerSecond?: number;
  /** Sustained sends per second to one chat (default: 1). */
  perChatPerSecond?: number;
  /**
   * How many sends to one chat may go out back to back before the per-chat rate applies, the
   * "small burst" Telegram tolerates in practice (default: 3).
   */
  perChatBurst?: number;
  /** Sends per minute to one group, supergroup or channel (default: 20). */
  groupPerMinute?: number;
}

/** Decides whether one more send may go out now; `retryAfter` is in whole seconds (≥ 1). */
export interface RateLimiter {
  take(chatKey: string, isGroup: boolean): { ok: true } | { ok: false; retryAfter: number };
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets modelling Telegram's documented limits: about 30 messages per second overall,
 * 1 per second per chat (with a burst of {@link RateLimiterOptions.perChatBurst}), 20 per minute per
 * group. Time comes from the clock, so a ManualClock controls refills. A refused send consumes
 * nothing.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { clock } = options;
  const globalRate = options.globalPerSecond ?? 30;
  const chatRate = options.perChatPerSecond ?? 1;
  const chatBurst = options.perChatBurst ?? 3;
  const groupRate = (options.groupPerMinute ?? 20) / 60;
  const groupBurst = options.groupPerMinute ?? 20;
  const global: Bucket = { tokens: globalRate, at: clock.now() };
  const chats = new Map<string, Bucket>();
  const groups = new Map<string, Bucket>();

  const refill = (bucket: Bucket, ratePerSecond: number, capacity: number, now: number): void => {
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
    bucket.at = now;
  };
  const bucketIn = (map: Map<string, Bucket>, key: string, capacity: number, now: number): Bucket => {
    let bucket = map.get(key);
    if (!bucket) {
      bucket = { tokens: capacity, at: now };
      map.set(key, bucket);
    }
    return bucket;
  };

  return {
    take(chatKey, isGroup) {
      const now = clock.now();
      const checks: Array<[Bucket, number]> = [];
      refill(global, globalRate, globalRate, now);
      checks.push([global, globalRate]);
      const chat = bucketIn(chats, chatKey, chatBurst, now);
      refill(chat, chatRate, chatBurst, now);
      checks.push([chat, chatRate]);
      if (isGroup) {
        const group = bucketIn(groups, chatKey, groupBurst, now);
        refill(group, groupRate, groupBurst, now);
        checks.push([group, groupRate]);
      }
      let waitSeconds = 0;
      for (const [bucket, rate] of checks) {
        if (bucket.tokens < 1) waitSeconds = Math.max(waitSeconds, (1 - bucket.tokens) / rate);
      }
      if (waitSeconds > 0) return { ok: false, retryAfter: Math.max(1, Math.ceil(waitSeconds)) };
      for (const [bucket] of checks) bucket.tokens -= 1;
      return { ok: true };
    },
  };
}
