import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from '../storage/migrations.js';
import { openDatabase, type Db } from '../storage/open-database.js';
import { backupDatabase, defaultBackupDir } from './backup-database.js';
import { openExclusive } from './database-lock.js';
import { litestreamStateDir } from './litestream.js';
import { OpsError } from './ops-error.js';
import { displayPath } from './paths.js';

/** What a database file holds, for the confirmation question. */
export interface DatabaseSummary {
  /** PRAGMA user_version: how many migrations it has. */
  version: number;
  orders: number;
  customers: number;
}

export interface RestoreOptions {
  /**
   * Asked once the file is checked and the bot is known to be stopped; false cancels and changes
   * nothing. The CLI asks on the terminal, or answers yes for `--yes`.
   */
  confirm: (question: string) => boolean | Promise<boolean>;
  /** Where the database being replaced is saved first (default: `backups/` next to it). */
  backupDir?: string;
  /** Migrations this code knows (default: every feature's). */
  migrations?: readonly Migration[];
  now?: Date;
}

export type RestoreResult =
  | { restored: false; from: string; databasePath: string }
  | {
      restored: true;
      from: string;
      databasePath: string;
      /** The database it replaced, saved as `before-restore-….db`; undefined when there was none. */
      previous?: string;
      /** True when the replaced database failed its integrity check and was saved as a raw file copy. */
      previousDamaged: boolean;
      /** The restored data, after migrations. */
      summary: DatabaseSummary;
      /** Its version before the migrations ran. */
      versionBefore: number;
    };

/** Prefix of the copies made before a restore; pruning of `bot-…` backups never touches them. */
export const BEFORE_RESTORE_PREFIX = 'before-restore';

/**
 * Replaces the database at `databasePath` with the backup `file`:
 * 1. checks the file is a sound database of this bot (a SQLite file, `integrity_check` ok, an
 *    `orders` table, a version this code knows) — on a private copy, so nothing is written
 *    beside the operator's file;
 * 2. refuses while the bot (or anything) has the database open — see {@link openExclusive};
 * 3. asks `confirm`;
 * 4. saves the current database as `before-restore-YYYYMMDD-HHMMSS.db` in the backup folder;
 * 5. removes the old -wal/-shm files (a stale -wal would be replayed into the restored file and
 *    corrupt it), moves the copy into place with one rename, and clears Litestream's local state;
 * 6. opens it with openDatabase, which applies the migrations of this version.
 * Throws {@link OpsError} with one sentence; on a refusal nothing has changed.
 */
export async function restoreDatabase(file: string, databasePath: string, options: RestoreOptions): Promise<RestoreResult> {
  const from = resolve(file);
  const target = resolve(databasePath);
  const migrations = options.migrations ?? MIGRATIONS;
  checkCandidate(from, target);

  mkdirSync(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.restore-${process.pid}-${Date.now()}.db`);
  let staged = false;
  try {
    copyFileSync(from, staging);
    staged = true;
    const incoming = inspectCopy(staging, from, migrations);

    // Refuse early, before asking, if the bot is running.
    const current = existsSync(target) ? summarizeLive(target) : undefined;
    const backupDir = options.backupDir ?? defaultBackupDir(target);
    const question =
      `Type yes to replace ${displayPath(target)}${current ? ` (${describe(current)})` : ''} with ${displayPath(from)} (${describe(incoming)})` +
      (current ? `; the current database is saved to ${displayPath(backupDir)} first: ` : ': ');
    if (!(await options.confirm(question))) return { restored: false, from, databasePath: target };

    let previous: string | undefined;
    let previousDamaged = false;
    if (existsSync(target)) {
      // Held from the copy of the current database until just before the swap.
      const lock = orDamaged(() => openExclusive(target));
      if (lock === 'damaged') {
        previousDamaged = true;
      } else {
        try {
          previous = (await backupDatabase(lock, backupDir, Infinity, { prefix: BEFORE_RESTORE_PREFIX, now: options.now })).file;
        } catch (error) {
          if (!(error instanceof OpsError && error.code === 'DAMAGED')) throw error;
          previousDamaged = true;
        } finally {
          lock.close(); // the last connection: SQLite folds the -wal into the file and deletes it
        }
      }
      // A damaged database cannot be copied page by page: keep its raw files as they are.
      if (previousDamaged) previous = copyRaw(target, backupDir, options.now ?? new Date());
    }

    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(target + suffix, { force: true });
    renameSync(staging, target);
    staged = false;
    // Litestream's record of the replaced database's -wal files: without it, Litestream starts a
    // new generation (a full copy) on the restored one instead of guessing where it left off.
    rmSync(litestreamStateDir(target), { recursive: true, force: true });

    let db: Db;
    try {
      db = openDatabase(target, { migrations });
    } catch (error) {
      throw new OpsError(
        `${displayPath(from)} is in place but could not be opened (${(error as Error).message})${previous ? `; the database it replaced is saved as ${displayPath(previous)}` : ''}.`,
      );
    }
    try {
      return { restored: true, from, databasePath: target, previous, previousDamaged, summary: summarize(db), versionBefore: incoming.version };
    } finally {
      db.close();
    }
  } finally {
    if (staged) rmSync(staging, { force: true });
  }
}

/** The checks that need no copy: the file exists, is not the live database, and starts like SQLite. */
function checkCandidate(from: string, target: string): void {
  if (!existsSync(from)) throw new OpsError(`There is no file ${displayPath(from)} — name a backup, like npm run restore -- data/backups/bot-20260314-101500.db.`);
  if (!statSync(from).isFile()) throw new OpsError(`${displayPath(from)} is a folder — name one backup file in it, like ${displayPath(join(from, 'bot-20260314-101500.db'))}.`);
  if (existsSync(target) && realpathSync(from) === realpathSync(target)) {
    throw new OpsError(`${displayPath(from)} is the live database itself — name a backup file, like one in ${displayPath(defaultBackupDir(target))}.`);
  }
  if (!hasSqliteHeader(from)) {
    throw new OpsError(`${displayPath(from)} is not a SQLite database — choose a backup made by npm run backup (a bot-YYYYMMDD-HHMMSS.db file).`);
  }
  const wal = `${from}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw new OpsError(
      `${displayPath(from)} has a -wal file beside it, so it is in use or was not closed cleanly — stop whatever uses it, or restore a copy made by npm run backup.`,
    );
  }
}

function hasSqliteHeader(path: string): boolean {
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === 'SQLite format 3\0';
  } finally {
    closeSync(fd);
  }
}

/** Checks the private copy of the backup; makes it one self-contained file (journal_mode DELETE). */
function inspectCopy(staging: string, from: string, migrations: readonly Migration[]): DatabaseSummary {
  const name = displayPath(from);
  let db: Db | undefined;
  try {
    db = new Database(staging, { fileMustExist: true });
    db.pragma('journal_mode = DELETE');
    const problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    if (problems.length !== 1 || problems[0] !== 'ok') {
      throw new OpsError(`${name} is damaged (integrity check: ${problems.slice(0, 2).join('; ')}) — choose another backup.`);
    }
    const hasOrders = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'orders'").pluck().get() === 1;
    if (!hasOrders) throw new OpsError(`${name} is a SQLite database, but not one of this bot (it has no orders table) — choose a backup made by npm run backup.`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) {
      throw new OpsError(
        `${name} was made by a newer version of the bot (database version ${version}, this bot knows ${migrations.length}) — update the bot first (git pull, then npm ci), then restore.`,
      );
    }
    return summarize(db);
  } catch (error) {
    if (error instanceof OpsError) throw error;
    throw new OpsError(`${name} cannot be read as a database (${(error as Error).message}) — choose another backup.`);
  } finally {
    db?.close();
  }
}

/** Counts in the live database, taken under the exclusive lock (so it also proves the bot is stopped). */
function summarizeLive(path: string): DatabaseSummary | undefined {
  const db = orDamaged(() => openExclusive(path));
  if (db === 'damaged') return undefined;
  try {
    return summarize(db);
  } catch {
    return undefined; // damaged or foreign: the restore is what fixes that
  } finally {
    db.close();
  }
}

/** `fn()`, or 'damaged' when it throws an OpsError saying the database is damaged (any other error passes). */
function orDamaged<T>(fn: () => T): T | 'damaged' {
  try {
    return fn();
  } catch (error) {
    if (error instanceof OpsError && error.code === 'DAMAGED') return 'damaged';
    throw error;
  }
}

function summarize(db: Db): DatabaseSummary {
  const count = (table: string) => {
    const exists = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(table) === 1;
    return exists ? (db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number) : 0;
  };
  return { version: db.pragma('user_version', { simple: true }) as number, orders: count('orders'), customers: count('customers') };
}

function describe(s: DatabaseSummary): string {
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  return `${n(s.orders, 'order')}, ${n(s.customers, 'customer')}`;
}

/** Copies the database's files as they are (for a damaged one), named `before-restore-…-damaged.db`. */
function copyRaw(path: string, dir: string, now: Date): string {
  mkdirSync(dir, { recursive: true });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = join(dir, `${BEFORE_RESTORE_PREFIX}-${stamp}-damaged.db`);
  for (const suffix of ['', '-wal']) {
    if (existsSync(path + suffix)) copyFileSync(path + suffix, base + suffix);
  }
  return base;
}
