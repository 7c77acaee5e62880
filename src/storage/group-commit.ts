import { DatabaseBusy, toStoreError } from './errors.js';
import type { Db } from './open-database.js';
import { whenUnlocked } from './when-unlocked.js';

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** performance.now() after which this unit stops waiting for a locked database. */
  deadline: number;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Units per transaction at most, so one transaction never holds the write lock for long (default: 64). */
  maxBatch?: number;
  /**
   * How long a unit waits for another connection's write lock, without blocking the event loop,
   * before it rejects with DatabaseBusy (default: 2000 ms, well inside AiPay's 5 s deadline).
   */
  lockWaitMs?: number;
}

/**
 * Group commit: units of synchronous work submitted in the same turn of the event loop run in
 * one IMMEDIATE transaction, each in its own savepoint, and their promises settle only after
 * that transaction committed — one fsync for a burst of webhooks instead of one each, and no
 * answer before its write is durable. An idle server waits one `setImmediate`, not a timer.
 *
 * A unit that throws rolls back alone and rejects alone. When the transaction as a whole fails
 * (the disk is full, the commit failed), every unit in it rejects and none of their writes
 * remain. So a unit must let SQLite errors escape: one that caught an error after SQLite rolled
 * back the transaction, and wrote on, would write outside it.
 *
 * While another connection holds the write lock, the batch is tried again on timers (see
 * whenUnlocked) and units submitted meanwhile queue behind it; each unit still waiting
 * `lockWaitMs` after it was submitted rejects with DatabaseBusy, nothing of it written.

 */
export class GroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;
  /** A batch is being committed or is waiting for the lock: the next one starts after it. */
  #flushing = false;
  readonly #maxBatch: number;
  readonly #lockWaitMs: number;

  constructor(
    private readonly db: Db,
    options: GroupCommitOptions = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 64;
    this.#lockWaitMs = options.lockWaitMs ?? 2000;
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject, deadline: performance.now() + this.#lockWaitMs });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    this.#flushing = true;
    let outcomes: Outcome[];
    try {
      const deadline = Math.min(...batch.map((unit) => unit.deadline));
      outcomes = await whenUnlocked(() => this.#commit(batch), { deadlineMs: deadline - performance.now() });
    } catch (error) {
      // Still locked: the units whose time is up get their DatabaseBusy; the others wait on, first
      // in line. Any other failure is the whole batch's.
      const now = performance.now();
      const waiting = toStoreError(error) instanceof DatabaseBusy ? batch.filter((unit) => unit.deadline > now) : [];
      for (const unit of batch) if (!waiting.includes(unit)) unit.reject(error);
      this.#queue.unshift(...waiting);
      return;
    } finally {
      this.#flushing = false;
      if (this.#queue.length > 0) this.#schedule();
    }
    batch.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }

  /** One attempt: all of the batch committed, or (thrown) none of it. */
  #commit(batch: readonly Pending[]): Outcome[] {
    const outcomes: Outcome[] = [];
    this.db
      .transaction(() => {
        for (const unit of batch) {
          try {
            // Nested: better-sqlite3 runs it in a savepoint, rolled back alone if it throws.
            outcomes.push({ ok: true, value: this.db.transaction(unit.work)() });
          } catch (error) {
            // Some errors (a full disk, I/O) make SQLite roll back the whole transaction:
            // nothing of this batch was written, so all of it must fail.
            if (!this.db.inTransaction) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      })
      .immediate();
    return outcomes;
  }
}
