import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { onTestFinished, TestRunner } from 'vitest';
import { projectRoot } from '../../src/project-root.js';

export const MAIN = join(projectRoot, 'dist', 'src', 'main.js');

export function requireBuild(): void {
  if (!existsSync(MAIN)) throw new Error('dist/src/main.js is missing: run `npm run build` (npm test does it first).');
}

/** A port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const running = new Set<ChildProcess>();

/**
 * SIGKILL to the child's whole process group (it leads one: spawned detached). Nothing once the
 * child has exited: its id may already belong to someone else (and our commands start no others).
 */
export function killGroup(child: ChildProcess): void {
  running.delete(child);
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone (ESRCH).
  }
}

// A worker that ends (all its files done, or cancelled) takes what its tests left running with it.
process.once('exit', () => {
  for (const child of [...running]) killGroup(child);
});

/**
 * Kills what this worker's tests spawned and still runs, and waits until it has exited. For an
 * afterEach that removes the folder those processes write in: afterEach hooks run before the
 * test's own onTestFinished ones.
 */
export async function stopSpawned(): Promise<void> {
  const children = [...running];
  const exited = children.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve))));
  for (const child of children) killGroup(child);
  await Promise.all(exited);
}

/**
 * `spawn` for tests: the child leads its own process group (`detached: true`), and the group is
 * killed (SIGKILL) when the current test finishes — passed, failed or timed out — so a test that
 * stops early leaves no process behind (and none listening). Outside a test (in beforeAll, at import)
 * the group is killed when the worker exits. Ending it earlier in the test (`child.kill`) is fine.
 */
export function spawnForTest(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (TestRunner.getCurrentTest()) onTestFinished(() => killGroup(child));
  return child;
}

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the compiled product (`node dist/src/main.js`) with exactly `env` (plus PATH, and HOST
 * 127.0.0.1 unless `env` sets it), in `cwd`. Killed with its process group when the test finishes
 * ({@link spawnForTest}).
 */
export function runMain(env: Record<string, string>, cwd: string): RunningProcess {
  requireBuild();
  const child = spawnForTest(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} in output within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}
