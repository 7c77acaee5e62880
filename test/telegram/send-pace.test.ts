import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSendCancelled, MAX_WAIT_MS, ON_THE_WAY_MAX_MS, SendCancelled, SendPace, type SendClass, type SendPaceOptions } from '../../src/telegram/send-pace.js';

/** The pace reads fake time: vi's timers and Date move together, and nothing really sleeps. */
const clock = { now: () => Date.now() };
const START = Date.UTC(2026, 2, 1);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(START);
});
afterEach(() => {
  vi.useRealTimers();
});

interface Turn {
  label: string;
  /** Milliseconds after START when the turn came (undefined while waiting). */
  at?: number;
  /** What acquire resolved with: true = send now, false = replaced by a newer edit. */
  go?: boolean;
  error?: unknown;
}

/**
 * Asks for a turn and records when (and how) it came, in `log` order of arrival. Telegram's
 * answer comes back at once (`answered`), unless `answer` is false.
 */
function ask(pace: SendPace, log: Turn[], label: string, chatId: number | null, cls: SendClass, key?: string, answer = true): Turn {
  const turn: Turn = { label };
  pace.acquire(chatId, cls, key).then(
    (go) => {
      turn.at = Date.now() - START;
      turn.go = go;
      log.push(turn);
      if (go && answer) pace.answered(chatId);
    },
    (error: unknown) => {
      turn.at = Date.now() - START;
      turn.error = error;
      log.push(turn);
    },
  );
  return turn;
}

/** A pace with its overall burst (5) already used up at START, so what is asked next has to queue. */
function busyPace(options: SendPaceOptions = {}): SendPace {
  const pace = new SendPace({ clock, ...options });
  for (let i = 0; i < 5; i++) void pace.acquire(9_000_000 + i, 'access');
  return pace;
}

describe('SendPace', () => {
  it('lets messages go by class when many wait: access, reply, admin, reminder, broadcast', async () => {
    const pace = busyPace({ perSecond: 10 });
    const log: Turn[] = [];
    // Asked for in the opposite order, each to its own chat.
    ask(pace, log, 'broadcast', 5, 'broadcast');
    ask(pace, log, 'reminder', 4, 'reminder');
    ask(pace, log, 'admin', 3, 'admin');
    ask(pace, log, 'reply', 2, 'reply');
    ask(pace, log, 'access', 1, 'access');
    expect(pace.queued()).toEqual({ access: 1, reply: 1, admin: 1, reminder: 1, broadcast: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.map((t) => t.label)).toEqual(['access', 'reply', 'admin', 'reminder', 'broadcast']);
    // One every 1/10 s, the overall pace.
    expect(log.map((t) => t.at)).toEqual([100, 200, 300, 400, 500]);
    expect(pace.queued()).toEqual({ access: 0, reply: 0, admin: 0, reminder: 0, broadcast: 0 });
    pace.close();
  });

  it('keeps arrival order within a class', async () => {
    const pace = busyPace({ perSecond: 10 });
    const log: Turn[] = [];
    for (let i = 0; i < 5; i++) ask(pace, log, `reply ${i}`, 100 + i, 'reply');
    await vi.advanceTimersByTimeAsync(1000);
    expect(log.map((t) => t.label)).toEqual(['reply 0', 'reply 1', 'reply 2', 'reply 3', 'reply 4']);
    pace.close();
  });

  it('estimates the wait of a new message from what is queued at or above its class', () => {
    const pace = busyPace({ perSecond: 10 });
    const log: Turn[] = [];
    for (let i = 0; i < 3; i++) ask(pace, log, 'access', 100 + i, 'access');
    for (let i = 0; i < 4; i++) ask(pace, log, 'reply', 200 + i, 'reply');
    for (let i = 0; i < 5; i++) ask(pace, log, 'broadcast', 300 + i, 'broadcast');
    expect(pace.expectedWait('access')).toBe(300);
    expect(pace.expectedWait('reply')).toBe(700);
    expect(pace.expectedWait('admin')).toBe(700);
    expect(pace.expectedWait('broadcast')).toBe(1200);
    pace.close();
  });

  it('sends a broadcast that waited past its maximum before fresh replies', async () => {
    const pace = busyPace({ perSecond: 2 });
    const log: Turn[] = [];
    const broadcast = ask(pace, log, 'broadcast', 1, 'broadcast');
    // A steady crowd: two fresh replies a second, exactly what the pace lets out, so a reply is always waiting.
    let chat = 1000;
    const replies: Turn[] = [];
    const seconds = MAX_WAIT_MS.broadcast / 1000 + 30;
    for (let s = 0; s < seconds; s++) {
      replies.push(ask(pace, log, 'reply', chat++, 'reply'), ask(pace, log, 'reply', chat++, 'reply'));
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(broadcast.go).toBe(true);
    // Not before its 15 minutes were up, and right after.
    expect(broadcast.at).toBeGreaterThan(MAX_WAIT_MS.broadcast);
    expect(broadcast.at).toBeLessThanOrEqual(MAX_WAIT_MS.broadcast + 1000);
    // Replies asked for after it started waiting went out before it until then…
    const before = replies.filter((r) => r.at !== undefined && r.at < broadcast.at!);
    expect(before.length).toBeGreaterThan(1700);
    // …then it went ahead of replies that were already waiting when it did.
    const askedAt = (i: number) => Math.floor(i / 2) * 1000;
    const overtaken = replies.filter((r, i) => askedAt(i) <= broadcast.at! && r.at! > broadcast.at!);
    expect(overtaken.length).toBeGreaterThan(0);
    // The crowd was never held up longer than a reply may wait.
    const waits = replies.map((r, i) => (r.at ?? seconds * 1000) - askedAt(i));
    expect(Math.max(...waits)).toBeLessThanOrEqual(MAX_WAIT_MS.reply);
    pace.close();
  });

  it('among overdue messages, sends the one overdue longest first', async () => {
    const pace = busyPace({ perSecond: 1 });
    const log: Turn[] = [];
    // Many replies queued at once (more than the pace clears in their 10 s) and an admin notice.
    for (let i = 0; i < 80; i++) ask(pace, log, `reply ${i}`, 100 + i, 'reply');
    ask(pace, log, 'admin', 5, 'admin');
    await vi.advanceTimersByTimeAsync(90_000);
    const adminAt = log.findIndex((t) => t.label === 'admin');
    // The notice was overdue only after 60 s, by then the waiting replies were overdue by 50 s: they went first.
    expect(log[adminAt]!.at).toBeGreaterThanOrEqual(MAX_WAIT_MS.admin);
    expect(log.slice(0, adminAt).every((t) => t.label.startsWith('reply'))).toBe(true);
    expect(log).toHaveLength(81);
    pace.close();
  });

  describe('per chat', () => {
    it('lets a private chat get a burst of 3, then one message a second', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      for (let i = 0; i < 6; i++) ask(pace, log, `m${i}`, 42, 'reply');
      await vi.advanceTimersByTimeAsync(5000);
      expect(log.map((t) => t.at)).toEqual([0, 0, 0, 1000, 2000, 3000]);
      pace.close();
    });

    it('lets a group get a burst of 3, then one message every 3 s', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      for (let i = 0; i < 5; i++) ask(pace, log, `m${i}`, -1001, 'admin');
      await vi.advanceTimersByTimeAsync(10_000);
      expect(log.map((t) => t.at)).toEqual([0, 0, 0, 3000, 6000]);
      pace.close();
    });

    it('does not hold other chats back while one chat waits for its next second', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      for (let i = 0; i < 5; i++) ask(pace, log, `busy ${i}`, 42, 'access');
      // A lower class, asked later: it goes while chat 42 is held, not after it.
      ask(pace, log, 'other chat', 43, 'broadcast');
      await vi.advanceTimersByTimeAsync(100);
      const at = Object.fromEntries(log.map((t) => [t.label, t.at]));
      expect(at).toEqual({ 'busy 0': 0, 'busy 1': 0, 'busy 2': 0, 'other chat': 0 });
      await vi.advanceTimersByTimeAsync(2000);
      expect(log.map((t) => [t.label, t.at]).slice(4)).toEqual([
        ['busy 3', 1000],
        ['busy 4', 2000],
      ]);
      pace.close();
    });

    it('lets a chat’s next message go only once the one before it was answered', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      const first = ask(pace, log, 'first', 42, 'reply', undefined, false);
      const second = ask(pace, log, 'second', 42, 'reply');
      const other = ask(pace, log, 'other chat', 43, 'reply');
      await vi.advanceTimersByTimeAsync(500);
      // Within the chat's burst, but the first is still on its way: it could come back 429, or be overtaken.
      expect([first.at, second.at, other.at]).toEqual([0, undefined, 0]);
      pace.answered(42);
      await vi.advanceTimersByTimeAsync(0);
      expect(second.at).toBe(500);
      pace.close();
    });

    it('lets the next message go after 30 s when an answer never comes', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      ask(pace, log, 'hangs', 42, 'reply', undefined, false);
      const next = ask(pace, log, 'next', 42, 'reply');
      await vi.advanceTimersByTimeAsync(ON_THE_WAY_MAX_MS - 1);
      expect(next.at).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(next.at).toBe(ON_THE_WAY_MAX_MS);
      pace.close();
    });

    it('does not send a chat’s next message before the 429 of the one on its way is known', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      ask(pace, log, 'earlier', 42, 'reply');
      await vi.advanceTimersByTimeAsync(100);
      ask(pace, log, 'refused', 42, 'reply', undefined, false);
      const next = ask(pace, log, 'next', 42, 'reply');
      await vi.advanceTimersByTimeAsync(50);
      expect(next.at).toBeUndefined();
      // The answer: 429, retry after 2 s; the chat had another message 100 ms before: the chat's limit.
      expect(pace.tooManyRequests(42, 2)).toBe('chat');
      pace.answered(42);
      await vi.advanceTimersByTimeAsync(1999);
      expect(next.at).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(next.at).toBe(2150);
      pace.close();
    });

    it('keeps the overall rate: 90 chats at 30 a second take 3 s less the burst', async () => {
      const pace = new SendPace({ clock, perSecond: 30 });
      const log: Turn[] = [];
      for (let i = 0; i < 90; i++) ask(pace, log, `c${i}`, 100 + i, 'reply');
      await vi.advanceTimersByTimeAsync(5000);
      expect(log).toHaveLength(90);
      const times = log.map((t) => t.at!);
      // No window of one second holds more than 30 + the burst of 5.
      for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(35);
      expect(times.at(-1)).toBeGreaterThanOrEqual(((90 - 5) * 1000) / 30 - 1);
      expect(times.at(-1)).toBeLessThanOrEqual(((90 - 5) * 1000) / 30 + 100);
      pace.close();
    });
  });

  describe('a 429 without scope', () => {
    it('holds only the chat when it had another message within the last second', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      ask(pace, log, 'first', 42, 'reply');
      ask(pace, log, 'second', 42, 'reply');
      await vi.advanceTimersByTimeAsync(0);
      expect(log).toHaveLength(2);
      expect(pace.tooManyRequests(42, 5)).toBe('chat');
      const again = ask(pace, log, 'again', 42, 'reply');
      const other = ask(pace, log, 'other', 43, 'reply');
      await vi.advanceTimersByTimeAsync(100);
      expect(other.at).toBe(0);
      expect(again.at).toBeUndefined();
      await vi.advanceTimersByTimeAsync(4899);
      expect(again.at).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(again.at).toBe(5000);
      // Not the bot's limit: the pace did not slow down.
      expect(pace.rate).toBe(30);
      expect(pace.stats).toMatchObject({ tooManyRequests: 1, chatLimited: 1, botLimited: 0 });
      pace.close();
    });

    it('holds everything and slows down by a third when the chat had no other message within a second', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      ask(pace, log, 'only', 42, 'reply');
      await vi.advanceTimersByTimeAsync(1500);
      // Its previous message is 1.5 s old (here: none at all): the limit hit was the bot's.
      expect(pace.tooManyRequests(42, 2)).toBe('bot');
      expect(pace.rate).toBe(20);
      const a = ask(pace, log, 'a', 50, 'access');
      const b = ask(pace, log, 'b', 51, 'reply');
      await vi.advanceTimersByTimeAsync(1999);
      expect([a.at, b.at]).toEqual([undefined, undefined]);
      await vi.advanceTimersByTimeAsync(1);
      expect(a.at).toBe(3500);
      expect(pace.stats).toMatchObject({ tooManyRequests: 1, chatLimited: 0, botLimited: 1 });
      await vi.advanceTimersByTimeAsync(100);
      expect(b.at).toBeDefined();
      pace.close();
    });

    it('takes a message more than a second after the chat’s previous one for the bot’s limit', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      ask(pace, log, 'first', 42, 'reply');
      await vi.advanceTimersByTimeAsync(1000);
      ask(pace, log, 'second', 42, 'reply');
      await vi.advanceTimersByTimeAsync(0);
      expect(pace.tooManyRequests(42, 1)).toBe('bot');
      pace.close();
    });

    it('treats a 429 on a message to no chat (an approval) as the bot’s', () => {
      const pace = new SendPace({ clock });
      expect(pace.tooManyRequests(null, 1)).toBe('bot');
      pace.close();
    });

    it('drops the rate on each bot-wide 429 down to the minimum, then climbs back by one a second every 5 s', async () => {
      const pace = new SendPace({ clock, perSecond: 30, minPerSecond: 5 });
      const rates: number[] = [];
      for (let i = 0; i < 6; i++) {
        // Each time a message sent after the last 429 (the pause over) is refused again.
        void pace.acquire(100 + i, 'reply');
        await vi.advanceTimersByTimeAsync(2000);
        pace.tooManyRequests(100 + i, 1);
        rates.push(Math.round(pace.rate * 1000) / 1000);
      }
      expect(rates).toEqual([20, 13.333, 8.889, 5.926, 5, 5]);
      // The pace is re-evaluated whenever something is sent; a message a second keeps it looking.
      const rateAfter = async (ms: number) => {
        for (let t = 0; t < ms; t += 1000) {
          void pace.acquire(null, 'broadcast');
          await vi.advanceTimersByTimeAsync(1000);
        }
        void pace.acquire(null, 'broadcast');
        await vi.advanceTimersByTimeAsync(0);
        return pace.rate;
      };
      // No recovery within 5 s of the last 429…
      expect(await rateAfter(4000)).toBe(5);
      // …then one more message a second per 5 s…
      expect(await rateAfter(1000)).toBe(6);
      expect(await rateAfter(5000)).toBe(7);
      // …up to the starting rate, never above it.
      expect(await rateAfter(200_000)).toBe(30);
      pace.close();
    });

    it('cuts the rate once for a burst of 429s on messages that were already on their way', async () => {
      const pace = new SendPace({ clock, perSecond: 30 });
      const log: Turn[] = [];
      // Five messages go out at once (the burst); Telegram refuses them all, the answers arriving one by one.
      for (let i = 0; i < 5; i++) ask(pace, log, `m${i}`, 100 + i, 'reply');
      await vi.advanceTimersByTimeAsync(0);
      expect(log).toHaveLength(5);
      for (let i = 0; i < 5; i++) {
        expect(pace.tooManyRequests(100 + i, 1)).toBe('bot');
        await vi.advanceTimersByTimeAsync(3);
      }
      expect(pace.rate).toBe(20);
      expect(pace.stats).toMatchObject({ tooManyRequests: 5, botLimited: 5 });
      // A message sent after that cut and refused again is news: the rate drops again.
      const next = ask(pace, log, 'after the pause', 200, 'reply');
      await vi.advanceTimersByTimeAsync(1100);
      expect(next.go).toBe(true);
      pace.tooManyRequests(200, 1);
      expect(pace.rate).toBeCloseTo(40 / 3, 6);
      pace.close();
    });

    it('starts the recovery over at the next bot-wide 429', async () => {
      const pace = new SendPace({ clock, perSecond: 30 });
      pace.tooManyRequests(null, 1);
      for (let t = 0; t < 12; t++) {
        void pace.acquire(null, 'reply');
        await vi.advanceTimersByTimeAsync(1000);
      }
      expect(pace.rate).toBe(22);
      pace.tooManyRequests(null, 1);
      expect(pace.rate).toBeCloseTo(22 * (2 / 3), 6);
      for (let t = 0; t < 4; t++) {
        void pace.acquire(null, 'reply');
        await vi.advanceTimersByTimeAsync(1000);
      }
      expect(pace.rate).toBeCloseTo(22 * (2 / 3), 6);
      pace.close();
    });
  });

  describe('edits of the same message', () => {
    it('send only the latest: an older waiting edit with the same key resolves false', async () => {
      const pace = busyPace({ perSecond: 10 });
      const log: Turn[] = [];
      const first = ask(pace, log, 'edit 1', 42, 'reply', '42:7');
      const other = ask(pace, log, 'other message', 42, 'reply', '42:8');
      const second = ask(pace, log, 'edit 2', 42, 'reply', '42:7');
      await vi.advanceTimersByTimeAsync(0);
      expect(first).toMatchObject({ go: false, at: 0 });
      expect(pace.queued().reply).toBe(2);
      await vi.advanceTimersByTimeAsync(1000);
      expect(other.go).toBe(true);
      expect(second.go).toBe(true);
      expect(pace.stats.coalesced).toBe(1);
      pace.close();
    });

    it('do not coalesce once the older edit has gone out', async () => {
      const pace = new SendPace({ clock });
      const log: Turn[] = [];
      const first = ask(pace, log, 'edit 1', 42, 'reply', '42:7');
      await vi.advanceTimersByTimeAsync(0);
      const second = ask(pace, log, 'edit 2', 42, 'reply', '42:7');
      await vi.advanceTimersByTimeAsync(0);
      expect([first.go, second.go]).toEqual([true, true]);
      expect(pace.stats.coalesced).toBe(0);
      pace.close();
    });
  });

  it('close() fails every waiting message and every later one with SendCancelled', async () => {
    const pace = busyPace({ perSecond: 1 });
    const log: Turn[] = [];
    const waiting = [ask(pace, log, 'a', 1, 'access'), ask(pace, log, 'b', 2, 'broadcast'), ask(pace, log, 'c', 3, 'reply', 'k')];
    pace.close();
    await vi.advanceTimersByTimeAsync(0);
    for (const w of waiting) {
      expect(w.error).toBeInstanceOf(SendCancelled);
      expect(w.go).toBeUndefined();
    }
    await expect(pace.acquire(4, 'reply')).rejects.toBeInstanceOf(SendCancelled);
    // Nothing is left scheduled.
    expect(vi.getTimerCount()).toBe(0);
    // As grammY wraps it (HttpError.error) it is still recognised.
    expect(isSendCancelled({ error: new SendCancelled() })).toBe(true);
    expect(isSendCancelled(new Error('other'))).toBe(false);
  });

  it('measures how long replies waited', async () => {
    const pace = busyPace({ perSecond: 10 });
    const log: Turn[] = [];
    for (let i = 0; i < 10; i++) ask(pace, log, `r${i}`, 100 + i, 'reply');
    await vi.advanceTimersByTimeAsync(2000);
    const { p50, p99 } = pace.replyWait();
    // 100 ms apart, from 100 ms to 1 s.
    expect(p50).toBe(600);
    expect(p99).toBe(1000);
    pace.close();
  });
});
