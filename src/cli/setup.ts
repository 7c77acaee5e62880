import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import * as clack from '@clack/prompts';
import { Api } from 'grammy';
import { Inbox } from '../inbox/inbox.js';
import { systemClock } from '../clock.js';
import { runCli } from '../ops/cli-support.js';
import { runDoctor } from '../ops/doctor.js';
import { formatCheck } from '../ops/doctor-checks.js';
import { pm2Control } from '../ops/pm2.js';
import { projectRoot } from '../project-root.js';
import { readSettings, SettingsError, withDotEnv } from '../settings.js';
import { openDatabase } from '../storage/open-database.js';
import { clackPrompter } from '../setup/clack-prompter.js';
import { SetupCancelled } from '../setup/prompter.js';
import { runSetup, type SetupPm2 } from '../setup/setup-wizard.js';

const BOT = 'subscription-bot';

function pm2(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('pm2', args, { cwd: projectRoot, timeout: 120_000 }, (error, stdout, stderr) => (error ? reject(Object.assign(new Error((stderr || error.message).trim().split('\n').pop() ?? ''), { code: (error as NodeJS.ErrnoException).code })) : resolve(stdout))),
  );
}

async function pm2IfInstalled(): Promise<SetupPm2 | undefined> {
  try {
    await pm2(['--version']);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  }
  const control = pm2Control();
  return {
    botRunning: async () => (await control.running([BOT])).length > 0,
    stopBot: () => control.stop([BOT]),
    startBot: async () => {
      await pm2(['startOrReload', 'ecosystem.config.cjs']);
      await pm2(['save']);
    },
    startupLine: async () => {
      const out = await pm2(['startup']).catch((error: Error) => error.message);
      return /^\s*(sudo env PATH=.*)$/m.exec(out)?.[1];
    },
  };
}

/** The first public IPv4 address of this machine's interfaces (a VPS has one). */
async function publicIp(): Promise<string | undefined> {
  const all = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
  return all.find((a) => !/^(10\.|127\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(a));
}

/** `npm run setup`: the guided set-up (src/setup/setup-wizard.ts) on this terminal. */
async function main(): Promise<number> {
  clack.intro('subscription-bot · npm run setup');
  try {
    await runSetup({
      prompt: clackPrompter(),
      dir: projectRoot,
      env: process.env,
      pm2: await pm2IfInstalled(),
      storeUpdates: (path, updates) => {
        const db = openDatabase(path);
        try {
          new Inbox(db, systemClock).store(updates);
        } finally {
          db.close();
        }
      },
      publicIp,
      doctor: async () => {
        let settings;
        try {
          settings = readSettings(withDotEnv(process.env, `${projectRoot}/.env`));
        } catch (error) {
          if (error instanceof SettingsError) return [error.message];
          throw error;
        }
        const s = settings;
        const results = await runDoctor({ settings: s, telegram: (token) => new Api(token, { apiRoot: s.telegramApiRoot, timeoutSeconds: 10 }), fetch: (url, init) => fetch(url, init), now: () => Date.now() });
        return results.map(formatCheck);
      },
    });
  } catch (error) {
    if (error instanceof SetupCancelled) {
      clack.cancel('Ctrl+C');
      return 1;
    }
    throw error;
  }
  clack.outro('npm run setup');
  return 0;
}

runCli('setup', main);
