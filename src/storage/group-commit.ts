import type { Db } from './open-database.js';

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: units of synchronous work submitted in the same turn of the event loop run in
 * one IMMEDIATE transaction, each in its own savepoint, and their promises settle only after
 * that transaction committed — one fsync for a burst of webhooks instead of one each, and no
 * answer before its write is durable. An idle server waits one `setImmediate`, not a timer.
 *
 * A unit that throws rolls back alone and rejects alone. When the transaction as a whole fails
 * (the lock could not be taken, the disk is full, the commit failed), every unit in it rejects
 * and none of their writes remain. So a unit must let SQLite errors escape: one that caught an
 * error after SQLite rolled back the transaction, and wrote on, would write outside it.
 */
export class GroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(
    private readonly db: Db,
    /** Units per transaction at most, so one transaction never holds the write lock for long. */
    private readonly maxBatch = 64,
  ) {}

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#queue.splice(0, this.maxBatch);
    if (this.#queue.length > 0) this.#schedule();
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
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
    } catch (error) {
      for (const unit of batch) unit.reject(error);
      return;
    }
    batch.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }
}
