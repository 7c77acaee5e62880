import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Milliseconds a write waits for a lock before failing with DatabaseBusy (default: 1500). */
  busyTimeoutMs?: number;
  /** Migrations to apply, in order (default: every feature's, from migrations.ts). */
  migrations?: readonly Migration[];
  readonly?: boolean;
}

/**
 * Opens (creating the folder and file if needed) the SQLite database, applies pending
 * migrations in one transaction each, and sets and asserts the pragmas durability depends on:
 * WAL, synchronous=FULL (better-sqlite3 12 reopens WAL files with NORMAL), foreign keys, a short
 * busy timeout. Throws StoreError if a pragma does not hold or the file is newer than this code.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: options.readonly ?? false, timeout: options.busyTimeoutMs ?? 1500 });
  try {
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    assertPragmas(db, path, options.busyTimeoutMs ?? 1500);
    if (!options.readonly) migrate(db, options.migrations ?? MIGRATIONS);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function assertPragmas(db: Db, path: string, busyTimeoutMs: number): void {
  const expect = (name: string, want: unknown) => {
    const got = db.pragma(name, { simple: true });
    if (got !== want) throw new StoreError(`PRAGMA ${name} is ${String(got)}, expected ${String(want)} on ${path}`, 'PRAGMA');
  };
  if (path !== ':memory:') expect('journal_mode', 'wal');
  expect('synchronous', 2); // FULL
  expect('foreign_keys', 1);
  expect('busy_timeout', busyTimeoutMs);
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
