import { DatabaseBusy, DatabaseUnavailable, toStoreError } from './errors.js';
import type { Db } from './open-database.js';
import { prepared } from './prepared.js';

/**
 * What the last writes to one database met, as told by the writers that report (the AiPay
 * webhook: the money path): a write refused because the storage failed (disk full, I/O error,
 * read-only; see DatabaseUnavailable) is remembered until a later write commits. A read
 * (`SELECT 1`) keeps working on a full disk, so without this /healthz would say "ok" while every
 * payment is refused.
 */
export class WriteHealth {
  #failure: string | undefined;

  /** Records a write that committed: the storage works again. */
  succeeded(): void {
    this.#failure = undefined;
  }

  /** Records a failed write; returns true when the storage failed (not the data or the code). */
  failed(error: unknown): boolean {
    const typed = toStoreError(error);
    if (!(typed instanceof DatabaseUnavailable)) return false;
    this.#failure = typed.code;
    return true;
  }

  /** The SQLite code of the storage failure since the last write that committed, if any. */
  get failing(): string | undefined {
    return this.#failure;
  }
}

const trackers = new WeakMap<Db, WriteHealth>();

/** The write-health record of `db`, shared by everything that writes to it and by /healthz. */
export function writeHealth(db: Db): WriteHealth {
  let tracker = trackers.get(db);
  if (!tracker) {
    tracker = new WriteHealth();
    trackers.set(db, tracker);
  }
  return tracker;
}

/**
 * The database as /healthz reports it: 'unavailable' when it cannot be read, when a write failed
 * for lack of storage since the last one that committed, or when a write transaction cannot even
 * begin; else 'ok'. The write probe (`BEGIN IMMEDIATE; ROLLBACK`, nothing written) runs with no
 * busy wait: another process holding the lock answers SQLITE_BUSY at once, which counts as 'ok'
 * (the lock is someone's write in progress), so a health check never blocks the event loop.
 */
export function databaseHealth(db: Db): 'ok' | 'unavailable' {
  try {
    prepared(db, 'SELECT 1').get();
  } catch {
    return 'unavailable';
  }
  if (writeHealth(db).failing) return 'unavailable';
  if (db.inTransaction) return 'ok';
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  try {
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return 'ok';
  } catch (error) {
    return toStoreError(error) instanceof DatabaseBusy ? 'ok' : 'unavailable';
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}
