import Database from 'better-sqlite3';
import type { Db } from '../storage/open-database.js';
import { OpsError } from './ops-error.js';
import { displayPath } from './paths.js';

/**
 * Opens the database alone: a connection in EXCLUSIVE locking mode, or {@link OpsError} ("the bot
 * is running") when any other connection has it open. While it is held, nobody else can read or
 * write the database; `close()` releases it (and, being the last connection, folds the -wal file
 * into the database and deletes it).
 *
 * Why not `BEGIN IMMEDIATE`: it only fails while another connection is *writing*. The bot holds
 * no write lock between updates, so an idle running bot would pass that test and then have its
 * database replaced underneath it. In WAL mode (openDatabase always sets it) every open
 * connection keeps a SHARED lock on the database file for as long as it is open, and a
 * connection in EXCLUSIVE locking mode must take an EXCLUSIVE lock on that file when it first
 * reads — which SQLite refuses (SQLITE_BUSY) while any other connection, in this process or
 * another, is open. So this detects a running bot, idle or busy, a running backup or doctor, and
 * Litestream (which keeps a connection open while it replicates).
 */
export function openExclusive(path: string, busyTimeoutMs = 300): Db {
  const db = new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first read takes the lock (and opens the WAL in exclusive mode).
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new OpsError(
        `${displayPath(path)} is in use — the bot (or another backup) is running: stop it first with pm2 stop subscription-bot (with Litestream beside it, pm2 stop ecosystem.config.cjs stops both; or Ctrl+C where npm start runs), then try again.`,
        'IN_USE',
      );
    }
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      throw new OpsError(`${displayPath(path)} is damaged or not a SQLite database (${(error as Error).message}) — restore a backup: npm run restore -- <file>.`, 'DAMAGED');
    }
    throw error;
  }
}

/** True when another connection has the database open (the bot is running). */
export function isDatabaseInUse(path: string): boolean {
  try {
    openExclusive(path).close();
    return false;
  } catch (error) {
    if (error instanceof OpsError && error.code === 'IN_USE') return true;
    throw error;
  }
}
