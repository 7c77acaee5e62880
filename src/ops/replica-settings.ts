import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';

/** Where Litestream keeps the continuous copy of the database, from LITESTREAM_* in .env. */
export type ReplicaSettings = S3Replica | SftpReplica | FileReplica;

interface ReplicaCommon {
  /** LITESTREAM_REPLICA_URL as written (it never holds a secret: a password in it is refused). */
  url: string;
  /** LITESTREAM_SYNC_INTERVAL in ms (default 1000): how often new changes are uploaded. */
  syncIntervalMs: number;
}

/** `s3://bucket/path`: Amazon S3 or any S3-compatible storage (LITESTREAM_ENDPOINT for non-AWS). */
export interface S3Replica extends ReplicaCommon {
  kind: 's3';
  accessKeyId: string;
  secretAccessKey: string;
  /** LITESTREAM_ENDPOINT: the storage's https address; unset = Amazon S3. */
  endpoint?: string;
  /** LITESTREAM_REGION: e.g. `eu-central-1`, `auto` for Cloudflare R2; unset = found by Litestream. */
  region?: string;
}

/** `sftp://user@host[:port]/path`: another server over SSH, logged in with a key file. */
export interface SftpReplica extends ReplicaCommon {
  kind: 'sftp';
  /** LITESTREAM_SFTP_KEY_PATH: the private key file (its content is never read by the bot). */
  keyPath: string;
}

/** `file:///path`: a folder on a disk mounted on this server. */
export interface FileReplica extends ReplicaCommon {
  kind: 'file';
  path: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const blank = (v: string | undefined) => v === undefined || v.trim() === '';
const value = (env: Env, name: string) => (blank(env[name]) ? undefined : env[name]!.trim());

const REMOVE = 'or remove LITESTREAM_REPLICA_URL to keep the nightly backup alone';

/** Sync intervals accepted: `100ms`, `1s`, `30s`, `5m`. */
const DURATION = /^(\d+)(ms|s|m)$/;
const MIN_SYNC_MS = 50;
const MAX_SYNC_MS = 60 * 60_000;

/**
 * Reads LITESTREAM_REPLICA_URL and the settings its kind needs. Returns undefined when no replica
 * is set (and none of the others either). Throws `error(sentence)` — one sentence naming the
 * variable and the fix, never a key's value — when something is missing or malformed.
 */
export function readReplicaSettings(env: Env, error: (message: string) => Error): ReplicaSettings | undefined {
  const url = value(env, 'LITESTREAM_REPLICA_URL');
  if (url === undefined) {
    const orphan = ['LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY', 'LITESTREAM_ENDPOINT', 'LITESTREAM_REGION', 'LITESTREAM_SFTP_KEY_PATH', 'LITESTREAM_SYNC_INTERVAL'].find(
      (name) => !blank(env[name]),
    );
    if (orphan) {
      throw error(`${orphan} is set but LITESTREAM_REPLICA_URL is not: write where the copy goes (s3://bucket/path, sftp://user@host/path or file:///path), or remove ${orphan} from .env.`);
    }
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw error(`LITESTREAM_REPLICA_URL is not a valid address: write s3://bucket/path, sftp://user@host/path or file:///path, ${REMOVE}.`);
  }
  if (parsed.password !== '') {
    throw error(
      `LITESTREAM_REPLICA_URL must not hold a password (it would show in logs and in npm run doctor): remove it from the address and ${parsed.protocol === 'sftp:' ? 'log in with a key file, LITESTREAM_SFTP_KEY_PATH' : 'put the keys in LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY'}.`,
    );
  }
  const syncIntervalMs = syncInterval(env, error);
  switch (parsed.protocol) {
    case 's3:':
      return s3(env, url, parsed, syncIntervalMs, error);
    case 'sftp:':
      return sftp(env, url, parsed, syncIntervalMs, error);
    case 'file:':
      return file(url, parsed, syncIntervalMs, error);
    default:
      throw error(`LITESTREAM_REPLICA_URL must start with s3://, sftp:// or file:// (it starts with ${parsed.protocol}//), ${REMOVE}.`);
  }
}

function syncInterval(env: Env, error: (message: string) => Error): number {
  const text = value(env, 'LITESTREAM_SYNC_INTERVAL');
  if (text === undefined) return 1000;
  const m = DURATION.exec(text);
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000) : NaN;
  if (!(ms >= MIN_SYNC_MS && ms <= MAX_SYNC_MS)) {
    throw error(`LITESTREAM_SYNC_INTERVAL must be a time from 50ms to 60m, like 1s or 10s (it is "${text}"). Fix it in .env, or remove it to upload every second.`);
  }
  return ms;
}

function s3(env: Env, url: string, parsed: URL, syncIntervalMs: number, error: (message: string) => Error): S3Replica {
  if (parsed.username !== '') throw error('LITESTREAM_REPLICA_URL must not hold a key: write s3://bucket/path and put the keys in LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY.');
  if (parsed.hostname === '') throw error(`LITESTREAM_REPLICA_URL names no bucket: write s3://<bucket>/<folder>, like s3://my-bot-backups/bot, ${REMOVE}.`);
  const key = (name: string) => {
    const v = env[name];
    if (blank(v)) throw error(`${name} is not set: an s3:// replica needs the access key of your storage (its dashboard shows the key id and the secret once) in .env.`);
    if (/\s/.test(v!.trim())) throw error(`${name} contains a space or a line break: paste the key exactly as the storage shows it, with nothing around it.`);
    return v!.trim();
  };
  const accessKeyId = key('LITESTREAM_ACCESS_KEY_ID');
  const secretAccessKey = key('LITESTREAM_SECRET_ACCESS_KEY');
  const endpoint = value(env, 'LITESTREAM_ENDPOINT');
  if (endpoint !== undefined) {
    let e: URL | undefined;
    try {
      e = new URL(endpoint);
    } catch {
      e = undefined;
    }
    if (!e || (e.protocol !== 'https:' && e.protocol !== 'http:') || e.username !== '' || e.password !== '') {
      throw error(`LITESTREAM_ENDPOINT must be the storage's address starting with https://, like https://<account id>.r2.cloudflarestorage.com, or removed for Amazon S3.`);
    }
  }
  const region = value(env, 'LITESTREAM_REGION');
  if (region !== undefined && !/^[a-z0-9-]+$/.test(region)) {
    throw error(`LITESTREAM_REGION must be a region name like eu-central-1 (or auto for Cloudflare R2) (it is "${region}"). Fix it in .env, or remove it.`);
  }
  return { kind: 's3', url, syncIntervalMs, accessKeyId, secretAccessKey, endpoint: endpoint?.replace(/\/+$/, ''), region };
}

function sftp(env: Env, url: string, parsed: URL, syncIntervalMs: number, error: (message: string) => Error): SftpReplica {
  if (parsed.username === '' || parsed.hostname === '') {
    throw error(`LITESTREAM_REPLICA_URL must name the user and the server: write sftp://<user>@<server>/<folder>, like sftp://backup@203.0.113.7/home/backup/bot, ${REMOVE}.`);
  }
  if (parsed.pathname === '' || parsed.pathname === '/') {
    throw error('LITESTREAM_REPLICA_URL names no folder on the server: write sftp://<user>@<server>/<folder>, like sftp://backup@203.0.113.7/home/backup/bot.');
  }
  const keyPath = value(env, 'LITESTREAM_SFTP_KEY_PATH');
  if (keyPath === undefined) {
    throw error('LITESTREAM_SFTP_KEY_PATH is not set: an sftp:// replica logs in with a private key file — write its full path, like /home/you/.ssh/bot_backup, in .env.');
  }
  if (!isAbsolute(keyPath) || !existsSync(keyPath) || !statSync(keyPath).isFile()) {
    throw error(`LITESTREAM_SFTP_KEY_PATH must be the full path of an existing private key file (there is no file ${keyPath}). Fix it in .env.`);
  }
  return { kind: 'sftp', url, syncIntervalMs, keyPath };
}

function file(url: string, parsed: URL, syncIntervalMs: number, error: (message: string) => Error): FileReplica {
  if (parsed.hostname !== '' && parsed.hostname !== 'localhost') {
    throw error(`LITESTREAM_REPLICA_URL must be file:///<folder> with three slashes, a folder on this server like file:///mnt/backup/bot (it names the host ${parsed.hostname}).`);
  }
  const path = decodeURIComponent(parsed.pathname).replace(/\/+$/, '');
  if (path === '') throw error('LITESTREAM_REPLICA_URL names no folder: write file:///<folder>, like file:///mnt/backup/bot.');
  return { kind: 'file', url, syncIntervalMs, path };
}
