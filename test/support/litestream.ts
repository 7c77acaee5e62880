import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { litestreamBinary, litestreamStateDir, writeLitestreamConfig, type LitestreamTuning } from '../../src/ops/litestream.js';
import type { ReplicaSettings } from '../../src/ops/replica-settings.js';
import { killGroup, spawnForTest } from './process.js';

/** A file replica in `dir`, uploading every 100 ms (the tests' pace; the bot's default is 1 s). */
export function fileReplica(dir: string, syncIntervalMs = 100): ReplicaSettings {
  return { kind: 'file', url: `file://${dir}`, path: dir, syncIntervalMs };
}

/** Where a -wal file is on the replica: generation, -wal index, and bytes of it uploaded. */
export interface WalPosition {
  generation: string;
  index: number;
  offset: number;
}

export interface RunningLitestream {
  child: ChildProcess;
  /** Its log lines so far (JSON). */
  log(): string;
  /** Highest end uploaded per `generation/index`, from its "wal segment written" log lines. */
  uploaded(): Map<string, number>;
  /** SIGKILL to its process group: what a lost server does to it. */
  kill(): void;
}

/**
 * `litestream replicate` on `databasePath` with a configuration written like the bot's
 * (mode 600, `-no-expand-env`), in its own process group, killed when the test ends — passed,
 * failed or timed out (spawnForTest) — or by stopSpawned() in afterEach.
 */
export function startLitestream(databasePath: string, replica: ReplicaSettings, tuning: LitestreamTuning = { monitorIntervalMs: 50 }): RunningLitestream {
  const config = writeLitestreamConfig(databasePath, replica, tuning);
  const child = spawnForTest(litestreamBinary(), ['replicate', '-config', config, '-no-expand-env'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const uploaded = new Map<string, number>();
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    log += chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; position?: string; sz?: number };
      // position "<generation>/<index hex>:<offset>", sz the bytes of -wal uploaded from there.
      const m = entry.msg === 'wal segment written' ? /^([0-9a-f]+)\/([0-9a-f]{8}):(\d+)$/.exec(entry.position ?? '') : null;
      if (!m || entry.sz === undefined) continue;
      const key = `${m[1]}/${parseInt(m[2]!, 16)}`;
      uploaded.set(key, Math.max(uploaded.get(key) ?? 0, Number(m[3]) + entry.sz));
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return { child, log: () => log, uploaded: () => uploaded, kill: () => killGroup(child) };
}

/**
 * The position that holds everything in the database's -wal file now: Litestream's current
 * generation, the index of its copy of this -wal file (matched by the file's 32-byte header,
 * which changes whenever SQLite starts the file over), and the file's size. Undefined until
 * Litestream has read this -wal file.
 */
export function currentWalPosition(databasePath: string): WalPosition | undefined {
  const state = litestreamStateDir(databasePath);
  const wal = `${databasePath}-wal`;
  if (!existsSync(join(state, 'generation')) || !existsSync(wal)) return undefined;
  const generation = readFileSync(join(state, 'generation'), 'utf8').trim();
  const size = statSync(wal).size;
  const header = readHead(wal);
  const dir = join(state, 'generations', generation, 'wal');
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir)) {
    const m = /^([0-9a-f]{8})\.wal$/.exec(name);
    if (m && readHead(join(dir, name)).equals(header)) return { generation, index: parseInt(m[1]!, 16), offset: size };
  }
  return undefined;
}

/** True when the replica holds everything up to `p`: that much of its -wal file, or a later one. */
export function covers(uploaded: Map<string, number>, p: WalPosition): boolean {
  for (const [key, end] of uploaded) {
    const [generation, index] = key.split('/');
    if (generation !== p.generation) continue;
    if (Number(index) > p.index || (Number(index) === p.index && end >= p.offset)) return true;
  }
  return false;
}

function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(32);
    readSync(fd, b, 0, 32, 0);
    return b;
  } finally {
    closeSync(fd);
  }
}
