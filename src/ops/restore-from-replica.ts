import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Migration } from '../storage/migrations.js';
import { defaultBackupDir } from './backup-database.js';
import { isDatabaseInUse } from './database-lock.js';
import { formatDuration } from './doctor-checks.js';
import {
  BOT_APP,
  hideSecrets,
  listReplica,
  LITESTREAM_APP,
  replicaSecrets,
  ReplicaUnreachable,
  restoreReplica,
  writeLitestreamConfig,
  type LitestreamTuning,
  type ReplicaGeneration,
} from './litestream.js';
import { OpsError } from './ops-error.js';
import { displayPath } from './paths.js';
import type { ProcessControl } from './pm2.js';
import type { ReplicaSettings } from './replica-settings.js';
import { restoreDatabase, type RestoreResult } from './restore-database.js';

export interface ReplicaRestoreOptions {
  replica: ReplicaSettings;
  /** Asked once the replica is known to hold a copy; false cancels and changes nothing. */
  confirm: (question: string) => boolean | Promise<boolean>;
  /** Stops the bot and Litestream for the restore and starts them again (pm2). */
  processes: ProcessControl;
  /** Told what is being done, one line at a time (the CLI prints them). */
  progress?: (line: string) => void;
  /** Where the database being replaced is saved first (default: `backups/` next to it). */
  backupDir?: string;
  migrations?: readonly Migration[];
  now?: () => Date;
  tuning?: LitestreamTuning;
}

export type ReplicaRestoreResult =
  | { restored: false }
  | {
      restored: true;
      /** The generation the copy came from, as the replica listed it before the restore. */
      generation: ReplicaGeneration;
      /** What restoreDatabase did: the summary of the restored data, the database it replaced. */
      result: Extract<RestoreResult, { restored: true }>;
      /** The pm2 apps stopped for the restore and started again. */
      restarted: string[];
    };

/**
 * Replaces the database with the newest copy on the replica (after losing the server, or the
 * database file):
 * 1. lists the replica: refuses, changing nothing, when it cannot be reached or holds no copy;
 * 2. refuses while something other than pm2's apps has the database open (`npm start`), which
 *    it cannot stop (with pm2 apps running, restoreDatabase finds it once they are stopped);
 * 3. asks `confirm`;
 * 4. stops the bot and Litestream where pm2 runs them (Litestream uploads its last changes as it stops);
 * 5. `litestream restore -o` into a private folder, then restoreDatabase: integrity check, a database
 *    of this bot and version, the current database saved as `before-restore-….db`, one rename,
 *    migrations, and Litestream's local state cleared so it starts a new generation;
 * 6. starts again what it stopped — also when the restore failed, on the database left as it was.
 * Throws {@link OpsError} with one sentence.
 */
export async function restoreFromReplica(databasePath: string, o: ReplicaRestoreOptions): Promise<ReplicaRestoreResult> {
  const target = resolve(databasePath);
  const secrets = replicaSecrets(o.replica);
  const progress = o.progress ?? (() => undefined);
  const config = writeLitestreamConfig(target, o.replica, o.tuning);
  let generations: ReplicaGeneration[];
  try {
    generations = (await listReplica(config, target, secrets)).generations;
  } catch (error) {
    if (error instanceof ReplicaUnreachable) throw new OpsError(`${unreachable(o.replica, error.reason)} Nothing was changed.`);
    throw error;
  }
  const newest = generations.at(-1);
  if (!newest) {
    throw new OpsError(
      `The replica ${o.replica.url} holds no copy of the database — check LITESTREAM_REPLICA_URL in .env (it must be the address the lost server used), or restore a backup: npm run restore -- <file>.`,
    );
  }

  const running = await o.processes.running([BOT_APP, LITESTREAM_APP]);
  // With pm2 running either, it is told once they are stopped (restoreDatabase locks the file).
  if (running.length === 0 && existsSync(target) && inUse(target)) {
    throw new OpsError(
      `${displayPath(target)} is in use, and not by a bot pm2 runs — stop the bot where it runs (Ctrl+C where npm start runs), and Litestream if you started it by hand, then try again.`,
      'IN_USE',
    );
  }
  const now = o.now?.() ?? new Date();
  const stopAndStart = running.length > 0 ? `stop ${running.join(' and ')}, ` : '';
  // The copy's times are to the second; a change here within that second is not counted as newer.
  const changedHere = lastChange(target);
  const newerBy = changedHere === undefined ? 0 : changedHere - newest.end.getTime();
  const saved =
    changedHere === undefined
      ? ''
      : `; the current database is saved to ${displayPath(o.backupDir ?? defaultBackupDir(target))} first` +
        (newerBy > 1000 ? ` — it changed ${formatDuration(newerBy)} after that copy was written, and those changes would be in the saved file only` : '');
  const question =
    `Type yes to ${stopAndStart}replace ${displayPath(target)} with the copy on ${o.replica.url} ` +
    `(last written ${newest.end.toISOString().replace('.000Z', 'Z')}, ${formatDuration(Math.max(0, now.getTime() - newest.end.getTime()))} ago)` +
    `${running.length > 0 ? `, and start ${running.length === 1 ? 'it' : 'them'} again` : ''}${saved}: `;
  if (!(await o.confirm(question))) return { restored: false };

  if (running.length > 0) {
    progress(`Stopping ${running.join(' and ')} (pm2)…`);
    await o.processes.stop(running);
  }
  const staging = join(dirname(target), `.replica-restore-${process.pid}-${Date.now()}`);
  let outcome: ReplicaRestoreResult | undefined;
  let failure: unknown;
  try {
    mkdirSync(staging, { recursive: true });
    const copy = join(staging, basename(target));
    progress(`Downloading the copy from ${o.replica.url}…`);
    try {
      await restoreReplica(config, target, copy, secrets);
    } catch (error) {
      if (error instanceof ReplicaUnreachable) throw new OpsError(`${unreachable(o.replica, error.reason)} The database was not changed.`);
      if (error instanceof OpsError) throw new OpsError(`${error.message.replace(/\.$/, '')} — the database was not changed.`);
      throw error;
    }
    const result = await restoreDatabase(copy, target, { confirm: () => true, backupDir: o.backupDir, migrations: o.migrations, now: o.now?.() });
    if (!result.restored) throw new Error('restoreDatabase declined although confirmed');
    outcome = { restored: true, generation: newest, result: { ...result, from: o.replica.url }, restarted: running };
  } catch (error) {
    failure = error instanceof OpsError ? new OpsError(hideSecrets(error.message, secrets), error.code) : error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  // What was stopped runs again: on the restored database, or on the one left as it was.
  if (running.length > 0) {
    progress(`Starting ${running.join(' and ')} again (pm2)…`);
    try {
      await o.processes.start(running);
    } catch (error) {
      const done = outcome ? 'The database was restored' : 'The restore failed';
      const why = failure instanceof OpsError ? ` (${failure.message.replace(/\.$/, '')})` : '';
      throw new OpsError(`${done}${why}, but pm2 could not start ${running.join(' and ')} again (${(error as Error).message.replace(/\.$/, '')}) — start them: pm2 start ecosystem.config.cjs.`);
    }
  }
  if (failure !== undefined) throw failure;
  return outcome!;
}

/** One sentence: the replica cannot be reached, why, and what to check for its kind. */
export function unreachable(replica: ReplicaSettings, reason: string): string {
  return `The replica ${replica.url} cannot be reached (${reason}) — ${replicaCheck(replica)}.`;
}

/** What to check when a replica of this kind does not answer, as a clause. */
export function replicaCheck(replica: ReplicaSettings): string {
  return CHECK[replica.kind];
}

const CHECK: Record<ReplicaSettings['kind'], string> = {
  s3: 'check the bucket, LITESTREAM_ACCESS_KEY_ID, LITESTREAM_SECRET_ACCESS_KEY and LITESTREAM_ENDPOINT (LITESTREAM_REGION) in .env, and that this server reaches the storage',
  sftp: 'check that the server answers (ssh -i <LITESTREAM_SFTP_KEY_PATH> <user>@<server>), that the key is in its authorized_keys and that the folder can be written',
  file: 'check that the disk is mounted and that the folder exists and can be written',
};

/** When the database or its -wal file last changed; undefined when there is none. */
function lastChange(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const wal = `${path}-wal`;
  return Math.max(statSync(path).mtimeMs, existsSync(wal) ? statSync(wal).mtimeMs : 0);
}

function inUse(path: string): boolean {
  try {
    return isDatabaseInUse(path);
  } catch {
    return false; // damaged: replacing it is the point
  }
}
