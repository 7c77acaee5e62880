/**
 * The one source of "now" for domain code. Production uses {@link systemClock};
 * tests and the playground use {@link ManualClock} to move time without waiting.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (UTC). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. Starts at `start` (default: the real time at creation). */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number | Date = Date.now()) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `ms` milliseconds (never backwards). */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('ManualClock only moves forward');
    this.#now += ms;
  }

  set(at: number | Date): void {
    this.#now = typeof at === 'number' ? at : at.getTime();
  }
}

/** A clock shifted forward from another one: the playground's time-travel control. */
export class OffsetClock implements Clock {
  offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): number {
    return this.base.now() + this.offsetMs;
  }
}
