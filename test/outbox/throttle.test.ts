import { describe, expect, it } from 'vitest';
import { Throttle } from '../../src/outbox/throttle.js';

/** Sends to `chats` in order, each at the earliest instant the throttle allows; returns the instants. */
function schedule(throttle: Throttle, chats: Array<number | null>, start = 0): number[] {
  let now = start;
  return chats.map((chat) => {
    now += throttle.waitFor(chat, now);
    expect(throttle.waitFor(chat, now)).toBe(0);
    throttle.take(chat, now);
    return now;
  });
}

/** The most sends inside any window of `windowMs` (half-open: [t, t + windowMs)). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (const t of times) best = Math.max(best, times.filter((u) => u >= t && u < t + windowMs).length);
  return best;
}

describe('Throttle', () => {
  it('lets the first send go at once', () => {
    const throttle = new Throttle(30, 1000, 1, 1);
    expect(throttle.waitFor(1, 0)).toBe(0);
    expect(throttle.waitFor(null, 0)).toBe(0);
  });

  it('spaces sends to different chats by 1/30 s, so never more than 30 in a second', () => {
    const times = schedule(new Throttle(30, 1000, 1, 1), Array.from({ length: 90 }, (_, i) => 1000 + i));
    times.forEach((t, i) => expect(t).toBeCloseTo((i * 1000) / 30, 6));
    // (less a float epsilon: 30 additions of 1000/30 land a hair under 1000)
    expect(maxInWindow(times, 1000 - 1e-6)).toBe(30);
    expect(times[30]).toBeGreaterThanOrEqual(1000 - 1e-6);
  });

  it('says how long the next send to another chat must wait', () => {
    const throttle = new Throttle(30, 1000, 1, 1);
    throttle.take(1, 5000);
    expect(throttle.waitFor(2, 5000)).toBeCloseTo(1000 / 30, 6);
    expect(throttle.waitFor(2, 5020)).toBeCloseTo(1000 / 30 - 20, 6);
    expect(throttle.waitFor(2, 5034)).toBe(0);
  });

  it('allows one send per second to the same chat', () => {
    const throttle = new Throttle(30, 1000, 1, 1);
    throttle.take(7, 0);
    expect(throttle.waitFor(7, 0)).toBe(1000);
    expect(throttle.waitFor(7, 400)).toBe(600);
    expect(throttle.waitFor(7, 1000)).toBe(0);
    const times = schedule(new Throttle(30, 1000, 1, 1), [7, 7, 7, 7]);
    expect(times).toEqual([0, 1000, 2000, 3000]);
  });

  it('interleaves other chats while one chat waits its second', () => {
    const times = schedule(new Throttle(30, 1000, 1, 1), [1, 1, 2]);
    // The second send to chat 1 waits a second; chat 2 is only held by the global spacing after it.
    expect(times[1]).toBe(1000);
    expect(times[2]).toBeCloseTo(1000 + 1000 / 30, 6);
    const throttle = new Throttle(30, 1000, 1, 1);
    throttle.take(1, 0);
    expect(throttle.waitFor(2, 0)).toBeCloseTo(1000 / 30, 6);
    expect(throttle.waitFor(1, 0)).toBe(1000);
  });

  it('keeps no burst credit from idle time: after a pause the spacing starts again from now', () => {
    const throttle = new Throttle(30, 1000, 1, 1);
    throttle.take(1, 0);
    throttle.take(2, 10_000);
    expect(throttle.waitFor(3, 10_000)).toBeCloseTo(1000 / 30, 6);
  });

  it('applies only the global spacing to sends without a chat (null)', () => {
    const throttle = new Throttle(30, 1000, 1, 1);
    throttle.take(null, 0);
    expect(throttle.waitFor(null, 0)).toBeCloseTo(1000 / 30, 6);
    expect(throttle.waitFor(null, 34)).toBe(0);
    const times = schedule(new Throttle(30, 1000, 1, 1), [null, null, null]);
    times.forEach((t, i) => expect(t).toBeCloseTo((i * 1000) / 30, 6));
  });

  it('honours its limits when given others', () => {
    const times = schedule(new Throttle(10, 250, 1, 1), [1, 2, 3, 1, 1]);
    expect(times[0]).toBe(0);
    expect(times[1]).toBeCloseTo(100, 6);
    expect(times[2]).toBeCloseTo(200, 6);
    expect(times[3]).toBeCloseTo(300, 6); // chat 1 was free again at 250, the global spacing says 300
    expect(times[4]).toBeCloseTo(550, 6); // 250 ms after its previous send
  });

  describe('pause (a 429 from Telegram)', () => {
    it('holds one chat until the given instant, without holding the others beyond the global spacing', () => {
      const throttle = new Throttle(30, 1000, 1, 1);
      throttle.pause(5, 3000);
      expect(throttle.waitFor(5, 1000)).toBe(2000);
      expect(throttle.waitFor(5, 3000)).toBe(0);
      expect(throttle.waitFor(6, 1000)).toBe(0);
    });

    it('holds every chat when the pause is global (null)', () => {
      const throttle = new Throttle(30, 1000, 1, 1);
      throttle.pause(null, 2000);
      expect(throttle.waitFor(1, 500)).toBe(1500);
      expect(throttle.waitFor(2, 500)).toBe(1500);
      expect(throttle.waitFor(null, 500)).toBe(1500);
      expect(throttle.waitFor(1, 2000)).toBe(0);
    });

    it('never shortens a wait already in place', () => {
      const throttle = new Throttle(30, 1000, 1, 1);
      throttle.pause(5, 5000);
      throttle.pause(5, 2000);
      expect(throttle.waitFor(5, 0)).toBe(5000);
      throttle.take(9, 0);
      throttle.pause(null, 10); // shorter than the global spacing already due
      expect(throttle.waitFor(9, 0)).toBe(1000);
      expect(throttle.waitFor(10, 0)).toBeCloseTo(1000 / 30, 6);
      throttle.take(5, 5000);
      expect(throttle.waitFor(5, 5000)).toBe(1000);
    });

    it('extends the per-chat wait after a send when the pause is longer', () => {
      const throttle = new Throttle(30, 1000, 1, 1);
      throttle.take(5, 0);
      throttle.pause(5, 30_000);
      expect(throttle.waitFor(5, 1000)).toBe(29_000);
    });
  });

  it('stays correct after forgetting old chats (more than 10 000 tracked)', () => {
    const throttle = new Throttle(1_000_000, 1000, 1, 1);
    for (let chat = 0; chat < 10_002; chat++) throttle.take(chat, 0);
    throttle.take(99_999, 5000); // triggers the clean-up of entries already free
    expect(throttle.waitFor(0, 5001)).toBe(0);
    expect(throttle.waitFor(99_999, 5001)).toBe(999);
    throttle.take(1, 5001);
    expect(throttle.waitFor(1, 5001)).toBe(1000);
  });
});

describe('Throttle bursts', () => {
  it('lets a short burst of 3 through to one chat, then one per second', () => {
    const times = schedule(new Throttle(1000, 1000, 3, 1), [5, 5, 5, 5, 5]);
    expect(times.slice(0, 3).every((t) => t < 10)).toBe(true);
    expect(times[3]).toBeGreaterThanOrEqual(1000 - 1e-6);
    expect(times[4]! - times[3]!).toBeGreaterThanOrEqual(1000 - 1e-6);
  });
});
