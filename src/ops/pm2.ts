import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OpsError } from './ops-error.js';

/** Stops and starts the bot's processes; pm2 on a server, a fake in tests. */
export interface ProcessControl {
  /** Which of `names` run now, or will in a moment (pm2 restarting one after a crash). */
  running(names: readonly string[]): Promise<string[]>;
  /** Stops them and resolves once they have exited. */
  stop(names: readonly string[]): Promise<void>;
  start(names: readonly string[]): Promise<void>;
}

interface Pm2Process {
  name?: string;
  pm2_env?: { status?: string };
}

/**
 * pm2, through its command (`pm2` on PATH, as README's step 7 installs it). When no pm2 daemon
 * runs (no rpc.sock in PM2_HOME or ~/.pm2), it runs nothing, and pm2 is not called at all: any pm2
 * command would start a daemon. Throws {@link OpsError} when pm2 answers with an error.
 */
export function pm2Control(env: NodeJS.ProcessEnv = process.env): ProcessControl {
  const home = env.PM2_HOME || join(homedir(), '.pm2');
  const daemon = () => existsSync(join(home, 'rpc.sock'));
  const pm2 = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile('pm2', args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) {
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          reject(new OpsError(missing ? 'pm2 is not installed (README, step 7), so the bot cannot be stopped or started by it.' : `pm2 ${args[0]} failed: ${(stderr || error.message).trim().split('\n').pop()}`));
        } else {
          resolve(stdout);
        }
      });
    });
  return {
    async running(names) {
      if (!daemon()) return [];
      let list: Pm2Process[];
      try {
        // The list is one line of JSON; pm2 may print notices ("[PM2] …") before it.
        const out = await pm2(['jlist']);
        const line = out.split('\n').filter((l) => /^\[\s*(\{|\])/.test(l.trim())).pop() ?? out;
        list = JSON.parse(line) as Pm2Process[];
      } catch (error) {
        if (error instanceof OpsError && /not installed/.test(error.message)) return [];
        throw error instanceof OpsError ? error : new OpsError(`pm2 jlist answered something that is not a list of processes (${(error as Error).message}).`);
      }
      // 'waiting restart' counts too: pm2 would start it again in the middle of a restore.
      const running = new Set(list.filter((p) => p.pm2_env?.status !== undefined && !['stopped', 'errored'].includes(p.pm2_env.status)).map((p) => p.name));
      return names.filter((n) => running.has(n));
    },
    async stop(names) {
      if (names.length > 0) await pm2(['stop', ...names]);
    },
    async start(names) {
      if (names.length > 0) await pm2(['start', ...names]);
    },
  };
}
