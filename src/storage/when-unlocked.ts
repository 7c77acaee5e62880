import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseBusy, toStoreError } from './errors.js';

export interface WhenUnlockedOptions {
  /** How long to keep trying, counted from the first attempt (default: 2000 ms). */
  deadlineMs?: number;
  /** Stops waiting (a shutdown): the next busy attempt is the last. */
  signal?: AbortSignal;
}

/** Longest pause between two attempts: a freed lock is taken within a tenth of a second. */
const MAX_PAUSE_MS = 100;

/**
 * Runs `work` (one statement or one transaction: synchronous, all or nothing) now and, while
 * another connection holds the write lock (SQLITE_BUSY), again after short pauses of timers,
 * never blocking the event loop, until `deadlineMs` has passed. The connection's own busy
 * timeout is a few milliseconds (see openDatabase), so each attempt costs at most that.
 *
 * Resolves with what `work` returned. Throws DatabaseBusy (nothing written) when the lock is
 * still held at the deadline; any other error of `work` at once, as it was thrown.
 */
export async function whenUnlocked<T>(work: () => T, options: WhenUnlockedOptions = {}): Promise<T> {
  const deadlineMs = options.deadlineMs ?? 2000;
  const started = performance.now();
  const until = started + deadlineMs;
  let pause = 5;
  for (;;) {
    try {
      return work();
    } catch (error) {
      const typed = toStoreError(error);
      if (!(typed instanceof DatabaseBusy)) throw error;
      const left = until - performance.now();
      if (left <= 0 || options.signal?.aborted) {
        const waited = Math.round(performance.now() - started);
        throw new DatabaseBusy(`The database stayed locked by another connection for ${waited} ms; nothing was written (${typed.message}).`, typed.code, {
          cause: error,
        });
      }
      // An abort ends the pause early; the attempt after it is the last.
      await sleep(Math.min(pause, left), undefined, { signal: options.signal }).catch(() => undefined);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }
}
