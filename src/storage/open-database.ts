import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

/**
 * How long one statement waits for another connection's lock (SQLite's busy timeout) once the
 * database is open. SQLite waits by sleeping on the calling thread, which in Node is the event
 * loop: a longer timeout would freeze polling, /healthz and every webhook for that long, once per
 * statement. So it only absorbs momentary locks; code that must outlast a longer one waits with
 * whenUnlocked, on timers.
 */
export const BUSY_TIMEOUT_MS = 5;

/** SQLite's default: a PASSIVE checkpoint after a commit leaves the -wal file at 1000 pages (4 MB) or more. */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;

/** How long opening (pragmas, migrations) waits for a lock: nothing is served yet, so it may block. */
const OPEN_BUSY_TIMEOUT_MS = 5000;

export interface OpenDatabaseOptions {
  /** Milliseconds a statement waits for a lock before failing with SQLITE_BUSY, once open (default: BUSY_TIMEOUT_MS, 5). */
  busyTimeoutMs?: number;
  /** Migrations to apply, in order (default: every feature's, from migrations.ts). */
  migrations?: readonly Migration[];
  readonly?: boolean;
}

/**
 * Opens (creating the folder and file if needed) the SQLite database, applies pending
 * migrations in one transaction each, and sets and asserts the pragmas durability depends on:
 * WAL, synchronous=FULL (better-sqlite3 12 reopens WAL files with NORMAL), foreign keys, a busy
 * timeout of a few milliseconds (see BUSY_TIMEOUT_MS). Throws StoreError if a pragma does not hold
 * or the file is newer than this code.
 *
 * Checkpoints never wait either: the automatic one after a commit is PASSIVE, which skips what it
 * cannot do at once (a reader on an old snapshot, another connection checkpointing) and leaves it
 * for a later commit.
 *
 * With Litestream (the continuous copy) beside the bot, the bot keeps this automatic checkpoint
 * (WAL_AUTOCHECKPOINT_PAGES) and never checkpoints otherwise: never TRUNCATE or RESTART, which
 * would reset the -wal file under Litestream. While Litestream runs, it holds a read transaction,
 * so a PASSIVE checkpoint cannot reset the -wal file before Litestream has read it; Litestream
 * checkpoints itself once it has (taking the write lock for a moment: one statement here may then
 * fail its 5 ms busy timeout, and the callers that must write wait on timers with whenUnlocked).
 * When Litestream is stopped, this checkpoint is what keeps the -wal file from growing without
 * bound; Litestream notices that the -wal file was reset and starts a new generation (a full copy).
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  const db = new Database(path, { readonly: options.readonly ?? false, timeout: OPEN_BUSY_TIMEOUT_MS });
  try {
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    assertPragmas(db, path);
    if (!options.readonly) migrate(db, options.migrations ?? MIGRATIONS);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    expectPragma(db, path, 'busy_timeout', busyTimeoutMs);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function assertPragmas(db: Db, path: string): void {
  if (path !== ':memory:') expectPragma(db, path, 'journal_mode', 'wal');
  expectPragma(db, path, 'synchronous', 2); // FULL
  expectPragma(db, path, 'foreign_keys', 1);
  expectPragma(db, path, 'wal_autocheckpoint', WAL_AUTOCHECKPOINT_PAGES);
}

function expectPragma(db: Db, path: string, name: string, want: unknown): void {
  const got = db.pragma(name, { simple: true });
  if (got !== want) throw new StoreError(`PRAGMA ${name} is ${String(got)}, expected ${String(want)} on ${path}`, 'PRAGMA');
}

/** Applies migrations past PRAGMA user_version, each with its version bump in one transaction. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new StoreError(
      `The database is at version ${current}, newer than this bot knows (${migrations.length}). Upgrade the bot, or restore a backup made by this version.`,
      'VERSION',
    );
  }
  for (let v = current; v < migrations.length; v++) {
    const m = migrations[v]!;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
