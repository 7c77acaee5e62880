import type { MiddlewareFn } from 'grammy';

/**
 * Counts updates being handled, so shutdown can wait for them before the database closes
 * (the runner's stop() ends fetching but does not wait for middleware still running).
 */
export class InFlight {
  #count = 0;
  #waiters: Array<() => void> = [];

  middleware(): MiddlewareFn {
    return async (_ctx, next) => {
      this.#count++;
      try {
        await next();
      } finally {
        this.#count--;
        if (this.#count === 0) for (const w of this.#waiters.splice(0)) w();
      }
    };
  }

  get size(): number {
    return this.#count;
  }

  /** Resolves when no update is being handled, or after `timeoutMs` (default: 8 000 ms). */
  idle(timeoutMs = 8000): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
