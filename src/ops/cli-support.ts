import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readSettings, SettingsError, withDotEnv, type Settings } from '../settings.js';
import { OpsError } from './ops-error.js';

/**
 * Runs a command line tool: sets the exit code, and prints an operator's error as its one
 * sentence (never a stack trace). Anything unexpected is one sentence too, asking for a report.
 */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof OpsError || error instanceof SettingsError) {
        console.error(error.message);
        process.exitCode = 1;
        return;
      }
      console.error(`npm run ${name} failed unexpectedly: ${(error as Error)?.message ?? String(error)}. Please report it with this line.`);
      process.exitCode = 2;
    },
  );
}

/** util.parseArgs, with a mistake on the command line told as one sentence with the usage. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '');
    throw new OpsError(`${message} — usage: ${usage}`);
  }
}

/**
 * DATABASE_PATH from the environment and `.env`, with the bot's default. Only this setting is
 * read, so a backup or restore works even while another setting in .env is wrong.
 */
export function databasePathFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return readSettings({ DATABASE_PATH: withDotEnv(env).DATABASE_PATH }).databasePath;
}

/**
 * DATABASE_PATH and the LITESTREAM_* settings from the environment and `.env`, checked as the bot
 * checks them. Only these are read, so replication and a restore from the replica work even while
 * another setting in .env is wrong. Throws SettingsError.
 */
export function replicationFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<Settings, 'databasePath' | 'replica'> {
  const picked = Object.fromEntries(Object.entries(withDotEnv(env)).filter(([name]) => name === 'DATABASE_PATH' || name.startsWith('LITESTREAM_')));
  const { databasePath, replica } = readSettings(picked);
  return { databasePath, replica };
}

/**
 * Asks on the terminal and resolves true only for the answer "yes". No terminal, or the input
 * ends without an answer (e.g. `< /dev/null` in a script): false.
 */
export function askYes(question: string, input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: false });
    let answered = false;
    output.write(question);
    rl.once('line', (line) => {
      answered = true;
      // A terminal echoes the Enter key; piped input does not.
      if (!(input as { isTTY?: boolean }).isTTY) output.write('\n');
      rl.close();
      resolve(line.trim().toLowerCase() === 'yes');
    });
    rl.once('close', () => {
      if (!answered) {
        output.write('\n');
        resolve(false);
      }
    });
  });
}
