import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ReplicaSettings } from './replica-settings.js';
import { OpsError } from './ops-error.js';
import { displayPath } from './paths.js';

/*
 * Litestream (https://litestream.io, v0.3.13 from the npm package @flydotio/litestream) keeps a
 * continuous copy of the database on a replica: it reads the -wal file as the bot writes it and
 * uploads new pages every LITESTREAM_SYNC_INTERVAL. This file finds its binary, writes its
 * configuration from the settings, and runs its read-only commands.
 */

/** pm2's name of the bot (ecosystem.config.cjs). */
export const BOT_APP = 'subscription-bot';
/** pm2's name of Litestream beside it (ecosystem.config.cjs, when LITESTREAM_REPLICA_URL is set). */
export const LITESTREAM_APP = 'subscription-bot-litestream';

/** The replica's name in the configuration (Litestream shows it in its logs and listings). */
const REPLICA_NAME = 'replica';

/**
 * The Litestream binary inside node_modules (`@flydotio/litestream-<platform>-<arch>`, the
 * platform package of `@flydotio/litestream`; the project depends on the linux-x64 one directly,
 * as an optional dependency, because the registry serves no other platform's and `npm ci` refuses a
 * lock file that misses the wrapper's other optional packages). Throws {@link OpsError} when there is none for this machine.
 */
export function litestreamBinary(): string {
  const pkg = `@flydotio/litestream-${process.platform}-${process.arch}`;
  try {
    const file = join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'litestream');
    if (existsSync(file)) return file;
  } catch {
    // not installed: said below
  }
  throw new OpsError(
    `Litestream is not installed for this server (${process.platform}-${process.arch}, npm package ${pkg}) — run npm ci in the bot's folder; if it is still missing, this kind of server has no Litestream package, so remove LITESTREAM_REPLICA_URL from .env and rely on the nightly backup.`,
  );
}

/** Where the configuration is written: `litestream.yml` next to the database (`data/litestream.yml`). */
export function litestreamConfigPath(databasePath: string): string {
  return join(dirname(resolve(databasePath)), 'litestream.yml');
}

/** Litestream's own folder next to the database (`data/.bot.db-litestream`): its copy of the -wal files not yet uploaded. */
export function litestreamStateDir(databasePath: string): string {
  const path = resolve(databasePath);
  return join(dirname(path), `.${basename(path)}-litestream`);
}

/** Knobs the tests turn; the bot uses Litestream's defaults. */
export interface LitestreamTuning {
  /** How often Litestream looks at the -wal file (default: the sync interval, at most 1 s). */
  monitorIntervalMs?: number;
  /** Checkpoint when the database has not changed for this long (Litestream's default: 1 min). */
  checkpointIntervalMs?: number;
  /** Checkpoint once the -wal file has this many pages (Litestream's default: 1000, like SQLite's). */
  minCheckpointPageCount?: number;
}

/**
 * Litestream's configuration for the database at `databasePath` and `replica`, as YAML. It holds
 * the storage keys: write it only with {@link writeLitestreamConfig} (mode 600). Every command
 * runs with `-no-expand-env`, so a `$` in a key is taken as written.
 */
export function litestreamConfig(databasePath: string, replica: ReplicaSettings, tuning: LitestreamTuning = {}): string {
  const ms = (n: number) => `${Math.round(n)}ms`;
  const target: Record<string, unknown> = { name: REPLICA_NAME, url: replica.url, 'sync-interval': ms(replica.syncIntervalMs) };
  if (replica.kind === 's3') {
    if (replica.endpoint) target.endpoint = replica.endpoint;
    if (replica.region) target.region = replica.region;
    target['access-key-id'] = replica.accessKeyId;
    target['secret-access-key'] = replica.secretAccessKey;
  } else if (replica.kind === 'sftp') {
    target['key-path'] = replica.keyPath;
  }
  const db: Record<string, unknown> = {
    path: resolve(databasePath),
    'monitor-interval': ms(tuning.monitorIntervalMs ?? Math.min(replica.syncIntervalMs, 1000)),
  };
  if (tuning.checkpointIntervalMs !== undefined) db['checkpoint-interval'] = ms(tuning.checkpointIntervalMs);
  if (tuning.minCheckpointPageCount !== undefined) db['min-checkpoint-page-count'] = tuning.minCheckpointPageCount;
  db.replicas = [target];
  const header =
    '# Written by the bot from LITESTREAM_* in .env whenever the bot or Litestream starts: change .env, not this file.\n' +
    '# It holds the storage keys, so only its owner may read it (mode 600).\n';
  // JSON lines on stderr: pm2 keeps them in logs/litestream-error.log, and the bot reads errors from them.
  return header + stringify({ logging: { type: 'json', stderr: true }, dbs: [db] });
}

/**
 * Writes {@link litestreamConfig} to `path` (default {@link litestreamConfigPath}) readable by its
 * owner only, replacing it in one rename. Returns the path. Throws {@link OpsError} in one sentence.
 */
export function writeLitestreamConfig(databasePath: string, replica: ReplicaSettings, tuning: LitestreamTuning = {}, path = litestreamConfigPath(databasePath)): string {
  const partial = `${path}.${process.pid}.partial`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(partial, litestreamConfig(databasePath, replica, tuning), { mode: 0o600 });
    chmodSync(partial, 0o600); // an existing partial keeps its mode otherwise
    renameSync(partial, path);
    return path;
  } catch (error) {
    try {
      rmSync(partial, { force: true });
    } catch {
      // never written (its folder could not be made)
    }
    throw new OpsError(`Cannot write Litestream's configuration ${displayPath(path)} (${(error as Error).message}) — check the permissions of ${displayPath(dirname(path))}.`);
  }
}

/**
 * What the bot does once started: writes the configuration when a replica is set, and removes an
 * old one (and the keys in it) when LITESTREAM_REPLICA_URL was taken out of .env. Returns the path
 * written, or undefined. Throws {@link OpsError} when it cannot be written.
 */
export function prepareLitestreamConfig(databasePath: string, replica: ReplicaSettings | undefined): string | undefined {
  if (replica) return writeLitestreamConfig(databasePath, replica);
  try {
    rmSync(litestreamConfigPath(databasePath), { force: true });
  } catch {
    // its folder is not one (DATABASE_PATH is wrong): there is no configuration to remove
  }
  return undefined;
}

/** What a Litestream command did: its exit code, its output, and the messages of its ERROR log lines. */
export interface LitestreamRun {
  code: number | null;
  stdout: string;
  /** `error` of each log line at level ERROR (what went wrong talking to the replica). */
  errors: string[];
  /** Killed after `timeoutMs` without an answer. */
  timedOut: boolean;
  timeoutMs: number;
}

/**
 * Runs `litestream <command> -config <config> -no-expand-env <args…>` and collects its output.
 * Never rejects for what Litestream says (see {@link LitestreamRun}); only when it cannot start.
 * Killed after `timeoutMs` (default 20 s): an unreachable server would keep it waiting.
 */
export function runLitestream(command: string, configPath: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<LitestreamRun> {
  const binary = litestreamBinary();
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, [command, '-config', configPath, '-no-expand-env', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new OpsError(`Litestream could not be started (${error.message}) — run npm ci in the bot's folder.`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, errors: logErrors(stderr), timedOut, timeoutMs });
    });
  });
}

/** The `error` (or `msg`) of each JSON log line at level ERROR; other lines are ignored. */
export function logErrors(log: string): string[] {
  const errors: string[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
      if (entry.level === 'ERROR') errors.push(entry.error ?? entry.msg ?? line);
    } catch {
      // not a log line
    }
  }
  return errors;
}

/** A generation: one unbroken history of the database on the replica (a new one starts when Litestream loses track). */
export interface ReplicaGeneration {
  generation: string;
  /** When it started and when its newest piece was written (second precision). */
  start: Date;
  end: Date;
}

/** The newest piece of the copy: where it starts in the database's history, and when it was written. */
export interface ReplicaPosition {
  generation: string;
  /** Which -wal file of the generation (Litestream counts them from 0). */
  index: number;
  /** Where in that file the piece starts (bytes). */
  offset: number;
  written: Date;
}

/**
 * The replica could not be listed: `reason` is what Litestream said (secrets in it replaced), or
 * that it did not answer in time.
 */
export class ReplicaUnreachable extends OpsError {
  constructor(readonly reason: string) {
    super(`The replica cannot be reached (${reason}).`);
  }
}

/** What the replica holds: its generations, oldest first, and the newest piece of the newest one. */
export interface ReplicaListing {
  generations: ReplicaGeneration[];
  /** Undefined when the newest generation has a snapshot but no piece of -wal yet. */
  newest?: ReplicaPosition;
}

/**
 * Lists the replica with `litestream snapshots` and `litestream wal` (not `generations`, which
 * fails when the database file does not exist — on a new server, before a restore). A generation
 * spans its snapshots and pieces; the newest is the one written last. Throws {@link ReplicaUnreachable}.
 */
export async function listReplica(configPath: string, databasePath: string, secrets: ReadonlyArray<string | undefined> = [], timeoutMs?: number): Promise<ReplicaListing> {
  const db = resolve(databasePath);
  const snapshots = await runLitestream('snapshots', configPath, [db], { timeoutMs });
  failOnErrors(snapshots, secrets);
  const wal = await runLitestream('wal', configPath, [db], { timeoutMs });
  failOnErrors(wal, secrets);
  const spans = new Map<string, ReplicaGeneration>();
  const seen = (generation: string, at: Date) => {
    if (!Number.isFinite(at.getTime())) return;
    const g = spans.get(generation);
    if (!g) spans.set(generation, { generation, start: at, end: at });
    else spans.set(generation, { generation, start: at < g.start ? at : g.start, end: at > g.end ? at : g.end });
  };
  // snapshots: replica generation index size created
  for (const r of rows(snapshots.stdout)) if (r.length === 5 && r[0] === REPLICA_NAME) seen(r[1]!, new Date(r[4]!));
  // wal: replica generation index offset size created
  const pieces: ReplicaPosition[] = [];
  for (const r of rows(wal.stdout)) {
    if (r.length !== 6 || r[0] !== REPLICA_NAME) continue;
    const p = { generation: r[1]!, index: Number(r[2]), offset: Number(r[3]), written: new Date(r[5]!) };
    if (!Number.isInteger(p.index) || !Number.isInteger(p.offset)) continue;
    seen(p.generation, p.written);
    pieces.push(p);
  }
  const generations = [...spans.values()].sort((a, b) => a.end.getTime() - b.end.getTime() || a.start.getTime() - b.start.getTime());
  const last = generations.at(-1)?.generation;
  let newest: ReplicaPosition | undefined;
  for (const p of pieces) {
    if (p.generation !== last) continue;
    if (!newest || p.index > newest.index || (p.index === newest.index && p.offset > newest.offset)) newest = p;
  }
  return { generations, newest };
}

/**
 * `litestream restore -o <output>`: the newest copy on the replica, as a database file at `output`
 * (which must not exist). Throws {@link ReplicaUnreachable}, or {@link OpsError} when the replica
 * holds no copy.
 */
export async function restoreReplica(configPath: string, databasePath: string, output: string, secrets: ReadonlyArray<string | undefined> = []): Promise<void> {
  const run = await runLitestream('restore', configPath, ['-o', output, resolve(databasePath)], { timeoutMs: 30 * 60_000 });
  const noBackup = run.errors.find((e) => /no matching backups|no snapshots available|no generation/i.test(e));
  if (noBackup) throw new OpsError('The replica holds no copy of the database yet.');
  failOnErrors(run, secrets);
  if (run.code !== 0 || !existsSync(output)) throw new ReplicaUnreachable(`litestream restore exited with code ${run.code}`);
}

function failOnErrors(run: LitestreamRun, secrets: ReadonlyArray<string | undefined>): void {
  if (run.timedOut) throw new ReplicaUnreachable(`no answer within ${Math.round(run.timeoutMs / 1000)} s`);
  if (run.errors.length > 0) throw new ReplicaUnreachable(oneLine(hideSecrets(run.errors[0]!, secrets)));
}

/**
 * An error of Litestream's in one line: its first line and its last "caused by:" (the S3 client's
 * errors run to many lines, a dump of the answer included), at most 300 characters.
 */
export function oneLine(error: string): string {
  const lines = error.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const cause = lines.filter((l) => l.startsWith('caused by:')).pop();
  const text = [lines[0] ?? error, cause].filter((l, i, all) => l !== undefined && all.indexOf(l) === i).join('; ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/** `text` with every secret of at least 6 characters replaced by [hidden]. */
export function hideSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  return secrets.reduce<string>((t, s) => (s && s.length >= 6 ? t.split(s).join('[hidden]') : t), text);
}

/** The secrets of a replica's settings, for {@link hideSecrets}. */
export function replicaSecrets(replica: ReplicaSettings | undefined): string[] {
  return replica?.kind === 's3' ? [replica.accessKeyId, replica.secretAccessKey] : [];
}

/** The rows of a table Litestream printed, split on runs of spaces, without the header. */
function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((r) => r.length > 1);
}
