import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../settings.js';
import { formatDuration, type CheckResult } from './doctor-checks.js';
import {
  listReplica,
  LITESTREAM_APP,
  litestreamStateDir,
  replicaSecrets,
  ReplicaUnreachable,
  writeLitestreamConfig,
  type ReplicaGeneration,
  type ReplicaPosition,
} from './litestream.js';
import { OpsError } from './ops-error.js';
import { displayPath, formatBytes } from './paths.js';
import type { ReplicaSettings } from './replica-settings.js';
import { replicaCheck } from './restore-from-replica.js';

/** A -wal file holding more than this since it last started over (or Litestream's queue of them) is reported. */
export const WAL_WARN_BYTES = 64 * 1024 * 1024;
/** The copy may be this far behind the database's last change before doctor warns … */
export const LAG_WARN_MS = 60_000;
/** … and this far before it is a problem. */
export const LAG_FAIL_MS = 60 * 60_000;

/** What doctor found out about replication, for {@link describeReplication}. */
export interface ReplicationFacts {
  databasePath: string;
  /**
   * Bytes of the -wal file's current run (see {@link walLiveBytes}); undefined when there is none.
   * Not the file's size: SQLite writes the file over from its start after a checkpoint and never
   * shrinks it, so one past burst would otherwise be reported for ever.
   */
  walBytes?: number;
  /** When the database (or its -wal file) last changed; undefined when there is no database. */
  changedAt?: number;
  replica?: {
    settings: ReplicaSettings;
    /** Bytes in Litestream's local folder: -wal files read but not yet uploaded. */
    queueBytes: number;
    listing: { ok: true; generations: ReplicaGeneration[]; newest?: ReplicaPosition } | { ok: false; problem: string; fix: string };
  };
}

const PM2_CHECK = `check that ${LITESTREAM_APP} runs (pm2 status; start it with pm2 start ecosystem.config.cjs) and read why it does not upload: pm2 logs ${LITESTREAM_APP} --lines 50`;

/**
 * The doctor lines about the continuous copy: whether a replica is set, whether it answers, the
 * newest position on it (generation, -wal index, offset) and its age, how far it is behind the
 * database's last change; and a -wal file or an upload queue that grew large. Pure: `now` in ms.
 */
export function describeReplication(f: ReplicationFacts, now: number, limits = { warnMs: LAG_WARN_MS, failMs: LAG_FAIL_MS, walBytes: WAL_WARN_BYTES }): CheckResult[] {
  const results: CheckResult[] = [];
  const r = f.replica;
  if (!r) {
    results.push({
      status: 'warn',
      title: 'No continuous copy of the database (LITESTREAM_REPLICA_URL is not set): if this server’s disk is lost, the payments since the last nightly backup are lost with it',
      fix: 'Let Litestream copy every change within a second to S3-compatible storage or another server (README, Continuous copy with Litestream).',
    });
  } else if (!r.listing.ok) {
    results.push({ status: 'fail', title: `Continuous copy: ${r.listing.problem}`, fix: r.listing.fix });
  } else {
    const newest = r.listing.generations.at(-1);
    const where = `Continuous copy to ${r.settings.url}`;
    if (!newest) {
      results.push(
        f.changedAt === undefined
          ? { status: 'warn', title: `${where}: no copy yet (there is no database yet either)`, fix: 'It starts once the bot and Litestream run: pm2 start ecosystem.config.cjs.' }
          : { status: 'fail', title: `${where}: the replica holds no copy of the database`, fix: `${capitalize(PM2_CHECK)}.` },
      );
    } else {
      const written = r.listing.newest?.written ?? newest.end;
      // Litestream lists times to the second: a change within that second is not counted as behind.
      const behind = f.changedAt === undefined ? 0 : Math.max(0, f.changedAt - written.getTime() - 1000);
      const position = r.listing.newest ? `, index ${r.listing.newest.index}, offset ${r.listing.newest.offset}` : '';
      const state = behind === 0 ? 'up to date with the database’s last change' : `${formatDuration(behind)} behind the database’s last change`;
      const title = `${where}: ${state}; newest piece written ${formatDuration(Math.max(0, now - written.getTime()))} ago (generation ${newest.generation}${position})`;
      if (behind <= limits.warnMs) {
        results.push({ status: 'ok', title });
      } else {
        results.push({
          status: behind > limits.failMs ? 'fail' : 'warn',
          title,
          fix: `Changes since then exist on this server only: ${PM2_CHECK}.`,
        });
      }
    }
    if (r.queueBytes > limits.walBytes) {
      results.push({
        status: 'warn',
        title: `Litestream holds ${formatBytes(r.queueBytes)} of changes not yet uploaded (${displayPath(litestreamStateDir(f.databasePath))})`,
        fix: `It shrinks once the replica takes uploads again: ${PM2_CHECK}.`,
      });
    }
  }
  if (f.walBytes !== undefined && f.walBytes > limits.walBytes) {
    results.push({
      status: 'warn',
      title: `The database’s -wal file holds ${formatBytes(f.walBytes)} since it last started over (more than ${formatBytes(limits.walBytes)}): checkpoints are not folding it back into the database`,
      fix: r
        ? `Litestream folds it back every minute while it runs: ${PM2_CHECK}; pm2 restart ${LITESTREAM_APP} lets it shrink.`
        : `The bot folds it back after its writes; another program that keeps the database open stops that — find it (fuser -v ${displayPath(f.databasePath)}) and close it.`,
    });
  }
  return results;
}

/**
 * Gathers {@link ReplicationFacts} (the files' sizes and times; the replica's listing through
 * Litestream, with a freshly written configuration) and describes them. Never throws for what it
 * finds; the listing waits at most `timeoutMs` (20 s).
 */
export async function checkReplication(s: Pick<Settings, 'databasePath' | 'replica'>, now: number, timeoutMs?: number): Promise<CheckResult[]> {
  const path = s.databasePath;
  const stat = (p: string) => (existsSync(p) ? statSync(p) : undefined);
  const db = stat(path);
  const wal = stat(`${path}-wal`);
  const facts: ReplicationFacts = {
    databasePath: path,
    walBytes: wal ? walLiveBytes(`${path}-wal`) : undefined,
    changedAt: db ? Math.max(db.mtimeMs, wal?.mtimeMs ?? 0) : undefined,
  };
  if (s.replica) {
    let listing: NonNullable<ReplicationFacts['replica']>['listing'];
    const secrets = replicaSecrets(s.replica);
    try {
      const config = writeLitestreamConfig(path, s.replica);
      listing = { ok: true, ...(await listReplica(config, path, secrets, timeoutMs)) };
    } catch (error) {
      if (error instanceof ReplicaUnreachable) {
        const check = replicaCheck(s.replica);
        listing = {
          ok: false,
          problem: `the replica ${s.replica.url} cannot be reached (${error.reason})`,
          fix: `${capitalize(check)}. Until it answers, new changes exist on this server only.`,
        };
      } else if (error instanceof OpsError) {
        const [problem, fix] = error.message.split(' — ');
        listing = { ok: false, problem: problem!.replace(/\.$/, ''), fix: capitalize(fix ?? 'Run npm ci in the bot’s folder.') };
      } else {
        throw error;
      }
    }
    facts.replica = { settings: s.replica, queueBytes: folderBytes(litestreamStateDir(path)), listing };
  }
  return describeReplication(facts, now);
}

/**
 * Bytes of a -wal file's current run: its header and the frames after it that carry the header's
 * salt. After a checkpoint SQLite writes the file over from the start with a new salt, so the
 * frames past the current run are left-overs of earlier runs (the file itself never shrinks). Only
 * the headers are read (24 bytes a frame). 0 for a file without a valid header.
 */
export function walLiveBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const header = Buffer.alloc(32);
    if (readSync(fd, header, 0, 32, 0) < 32) return 0;
    const magic = header.readUInt32BE(0);
    if (magic !== 0x377f0682 && magic !== 0x377f0683) return 0;
    const pageSize = header.readUInt32BE(8);
    const frame = Buffer.alloc(24);
    let offset = 32;
    while (offset + 24 + pageSize <= size) {
      readSync(fd, frame, 0, 24, offset);
      if (!frame.subarray(8, 16).equals(header.subarray(16, 24))) break;
      offset += 24 + pageSize;
    }
    return offset;
  } finally {
    closeSync(fd);
  }
}

function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
