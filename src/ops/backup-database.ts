import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Db } from '../storage/open-database.js';
import { OpsError } from './ops-error.js';
import { displayPath } from './paths.js';

/** Backups kept when nobody says otherwise: two weeks of daily ones. */
export const DEFAULT_KEEP = 14;

/** Name of the bot's own backups: `bot-20260314-101500.db` (UTC). */
export const BACKUP_PREFIX = 'bot';

/** The default backup folder: `backups/` next to the database (`data/backups/` for `data/bot.db`). */
export function defaultBackupDir(databasePath: string): string {
  return join(dirname(resolve(databasePath)), 'backups');
}

export interface BackupOptions {
  /** Time in the file name (default: now). */
  now?: Date;
  /** File name prefix (default: `bot`); pruning only ever looks at files with the same prefix. */
  prefix?: string;
}

export interface BackupResult {
  /** Absolute path of the new backup. */
  file: string;
  bytes: number;
  /** Backups with this prefix now in the folder, oldest first (the new one last). */
  kept: string[];
  /** Old backups deleted to keep `keep`. */
  removed: string[];
}

export interface BackupFile {
  file: string;
  name: string;
}

/**
 * Copies the database to `dir/bot-YYYYMMDD-HHMMSS.db` with SQLite's online backup (a consistent
 * snapshot even while the bot writes: the copy restarts if another connection changes the
 * database meanwhile), checks the copy with `PRAGMA integrity_check`, and only then deletes the
 * oldest backups beyond `keep`. The copy is a single self-contained file (journal_mode DELETE,
 * no -wal beside it), ready to be restored, downloaded or sent to the admins.
 *
 * `source` is an open connection (the running bot's, for a daily job) or the database's path
 * (opened just for the copy, never created). Throws {@link OpsError} with one sentence.
 * The integrity check runs synchronously: fine for a bot-sized database (a few MB, milliseconds).
 */
export async function backupDatabase(source: Db | string, dir: string, keep: number = DEFAULT_KEEP, options: BackupOptions = {}): Promise<BackupResult> {
  if (!(keep >= 1) || (Number.isFinite(keep) && !Number.isInteger(keep))) {
    throw new OpsError(`The number of backups to keep must be a whole number, 1 or more (it is ${keep}).`);
  }
  const prefix = options.prefix ?? BACKUP_PREFIX;
  const sourcePath = typeof source === 'string' ? resolve(source) : source.name;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new OpsError(`Cannot create the backup folder ${displayPath(dir)} (${(error as Error).message}) — check the folder's permissions or choose another with --dir.`);
  }
  removeStalePartials(dir);

  const db = typeof source === 'string' ? openSource(source) : source;
  const target = join(dir, uniqueName(dir, prefix, options.now ?? new Date()));
  const partial = join(dir, `.${prefix}-${process.pid}-${Date.now()}.db.partial`);
  try {
    await db.backup(partial);
  } catch (error) {
    removeQuietly(partial);
    throw explainCopyError(error, sourcePath, dir);
  } finally {
    if (typeof source === 'string') db.close();
  }

  const problem = verifyCopy(partial);
  if (problem !== undefined) {
    removeQuietly(partial);
    throw new OpsError(
      `The copy of ${displayPath(sourcePath)} failed its integrity check (${problem}), so no backup was saved and no old one deleted — the database itself may be damaged: run npm run doctor.`,
      'DAMAGED',
    );
  }
  renameSync(partial, target);
  const bytes = statSync(target).size;

  const all = listBackups(dir, prefix);
  const removed: string[] = [];
  const excess = Number.isFinite(keep) ? all.length - keep : 0;
  for (const old of all.slice(0, Math.max(0, excess))) {
    if (old.file === target) continue;
    try {
      rmSync(old.file);
      removed.push(old.file);
    } catch {
      // Someone else removed it meanwhile (a second backup run): nothing to do.
    }
  }
  return { file: target, bytes, kept: listBackups(dir, prefix).map((b) => b.file), removed };
}

/** Backups with `prefix` in `dir`, oldest first (by the time in their names). */
export function listBackups(dir: string, prefix: string = BACKUP_PREFIX): BackupFile[] {
  if (!existsSync(dir)) return [];
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}-(\\d{8})-(\\d{6})(?:-(\\d+))?\\.db$`);
  return readdirSync(dir)
    .map((name) => ({ name, m: pattern.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({ name, key: `${m[1]}${m[2]}`, n: Number(m[3] ?? 1) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.n - b.n))
    .map(({ name }) => ({ name, file: join(dir, name) }));
}

/** `bot-20260314-101500.db`, or `bot-20260314-101500-2.db` when a backup was already made that second. */
function uniqueName(dir: string, prefix: string, now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  for (let n = 1; ; n++) {
    const name = `${prefix}-${stamp}${n === 1 ? '' : `-${n}`}.db`;
    if (!existsSync(join(dir, name))) return name;
  }
}

function openSource(path: string): Db {
  if (!existsSync(path)) {
    throw new OpsError(`There is no database at ${displayPath(path)} — check DATABASE_PATH in .env (the bot creates the database when it first starts).`);
  }
  try {
    // Read-write but never created (fileMustExist), and no migrations: a backup changes nothing.
    return new Database(path, { fileMustExist: true, timeout: 5000 });
  } catch (error) {
    throw new OpsError(`Cannot open ${displayPath(path)} (${(error as Error).message}) — check the file's permissions.`);
  }
}

/** Makes the copy self-contained and checks it; returns the first problem, or undefined when it is sound. */
function verifyCopy(path: string): string | undefined {
  let copy: Db | undefined;
  try {
    copy = new Database(path, { fileMustExist: true });
    // The copy inherits WAL mode from the live database; DELETE mode keeps it one file.
    copy.pragma('journal_mode = DELETE');
    const rows = copy.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const messages = rows.map((r) => r.integrity_check);
    return messages.length === 1 && messages[0] === 'ok' ? undefined : messages.slice(0, 3).join('; ');
  } catch (error) {
    return (error as Error).message;
  } finally {
    copy?.close();
  }
}

function explainCopyError(error: unknown, sourcePath: string, dir: string): OpsError {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message;
  if (code === 'SQLITE_NOTADB') return new OpsError(`${displayPath(sourcePath)} is not a SQLite database — check DATABASE_PATH in .env.`);
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full/i.test(message)) {
    return new OpsError(`The disk is full, so the backup could not be written to ${displayPath(dir)} — free some space (or keep fewer backups with --keep) and try again.`);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || /EACCES|permission/i.test(message)) {
    return new OpsError(`Cannot write the backup into ${displayPath(dir)} (${message}) — check the folder's permissions or choose another with --dir.`);
  }
  return new OpsError(`Copying ${displayPath(sourcePath)} failed (${message}) — run npm run doctor to check the database.`);
}

/** A `.partial` file older than an hour is left from a copy that was interrupted (a crash, a full disk). */
function removeStalePartials(dir: string): void {
  const hourAgo = Date.now() - 60 * 60 * 1000;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('.') || !name.endsWith('.db.partial')) continue;
    const file = join(dir, name);
    try {
      if (statSync(file).mtimeMs < hourAgo) rmSync(file);
    } catch {
      // gone already
    }
  }
}

function removeQuietly(file: string): void {
  for (const f of [file, `${file}-journal`, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}
