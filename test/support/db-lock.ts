import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { spawnForTest } from './process.js';

export interface HeldLock {
  /** Resolves when the lock is given back (by release() or after the time given). */
  released: Promise<void>;
  release(): void;
}

/**
 * Another connection to `path` that takes the write lock (BEGIN IMMEDIATE) now and gives it back
 * after `ms`, as another process writing for that long would. Holding it costs this process
 * nothing: no statement runs while it is held. `release()` is safe to call twice (cleanup).
 */
export function holdWriteLock(path: string, ms: number): HeldLock {
  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  let done: () => void;
  const released = new Promise<void>((resolve) => (done = resolve));
  const release = () => {
    clearTimeout(timer);
    if (!other.open) return;
    other.exec('ROLLBACK');
    other.close();
    done();
  };
  const timer = setTimeout(release, ms);
  return { released, release };
}

/**
 * The same from another process (`node -e`): resolves once that process holds the lock; it gives
 * it back after `ms` and exits. `release()` kills it at once (the lock goes with it); so does the end
 * of the test, whatever happens in it.
 */
export async function holdWriteLockInChild(path: string, ms: number): Promise<HeldLock> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const Database = require(${JSON.stringify(sqlite)});
    const db = new Database(${JSON.stringify(path)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); process.exit(0); }, ${ms});`;
  const child = spawnForTest(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
  });
  return { released, release: () => void child.kill('SIGKILL') };
}

/**
 * The longest the event loop was held up (ms) from now on; stop() ends the watch. Resolves once
 * sampling runs: Node records nothing for a block that starts before the first sample.
 */
export async function watchEventLoop(): Promise<{ maxMs(): number; stop(): void }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  await new Promise((r) => setTimeout(r, 50));
  return { maxMs: () => histogram.max / 1e6, stop: () => histogram.disable() };
}
