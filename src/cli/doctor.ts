import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Api } from 'grammy';
import { runCli } from '../ops/cli-support.js';
import { runDoctor } from '../ops/doctor.js';
import { exitCode, formatCheck, type CheckResult } from '../ops/doctor-checks.js';
import { readSettings, SettingsError, withDotEnv, type Settings } from '../settings.js';

/**
 * `npm run doctor`: checks everything the bot depends on and prints one line per check
 * (✅ fine, ⚠️ worth a look, ❌ must be fixed) with what to do for each problem. Exit code 1 when
 * anything is ❌. Read-only: it changes nothing, and is safe while the bot runs.
 */
async function main(): Promise<number> {
  const envFile = resolve('.env');
  let settings: Settings;
  try {
    settings = readSettings(withDotEnv());
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    print({ status: 'fail', title: 'The settings have a mistake', fix: error.message });
    return 1;
  }
  print(
    existsSync(envFile)
      ? { status: 'ok', title: `Settings read from ${envFile}` }
      : { status: 'ok', title: `Settings read from the environment (there is no .env in ${resolve('.')}; copy .env.example to .env to keep them in a file)` },
  );
  const results = await runDoctor({
    settings,
    telegram: (token) => new Api(token, { apiRoot: settings.telegramApiRoot, timeoutSeconds: 10 }),
    fetch: (url, init) => fetch(url, init),
    now: () => Date.now(),
  });
  for (const r of results) print(r);
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  console.log(
    fails === 0 && warns === 0
      ? '\nEverything checked is fine.'
      : fails === 0
        ? `\nNo problems; ${n(warns, 'warning')} (⚠️) worth a look.`
        : `\n${n(fails, 'problem')} (❌) to fix${warns ? ` and ${n(warns, 'warning')} (⚠️)` : ''}; run npm run doctor again after fixing.`,
  );
  return exitCode(results);
}

function print(r: CheckResult): void {
  console.log(formatCheck(r));
}

runCli('doctor', main);
