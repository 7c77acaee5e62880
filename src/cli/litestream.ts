import { spawn } from 'node:child_process';
import { replicationFromEnv, runCli } from '../ops/cli-support.js';
import { litestreamBinary, writeLitestreamConfig } from '../ops/litestream.js';
import { OpsError } from '../ops/ops-error.js';
import { displayPath } from '../ops/paths.js';

const USAGE = 'npm run litestream -- replicate | generations | snapshots | wal | restore -o FILE | config';

/** Litestream's commands that take the database's path last; the CLI adds it. */
const LISTINGS = new Set(['generations', 'snapshots', 'wal', 'restore']);

/**
 * `npm run litestream -- <command> [flags]`: Litestream with the configuration written from .env
 * (`data/litestream.yml`, mode 600) and the bot's database.
 * - `config`: writes the configuration and checks that the binary is there. pm2 runs it before
 *   Litestream itself (ecosystem.config.cjs), as pm2 does not read .env.
 * - `replicate`: Litestream in this terminal until Ctrl+C (which it passes on, so Litestream
 *   uploads its last changes first).
 * - `generations`, `snapshots`, `wal`: what the replica holds; `restore -o FILE`: a copy into FILE
 *   (`npm run restore -- --from-replica` puts one in place of the database).
 * Without LITESTREAM_REPLICA_URL it says so and exits 1.
 */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    console.log(`Usage: ${USAGE}`);
    return command === undefined ? 1 : 0;
  }
  const { databasePath, replica } = replicationFromEnv();
  if (!replica) {
    console.error(
      'LITESTREAM_REPLICA_URL is not set in .env, so Litestream has nothing to do: set it to copy the database continuously (README, Continuous copy with Litestream), then pm2 start ecosystem.config.cjs.',
    );
    return 1;
  }
  const config = writeLitestreamConfig(databasePath, replica);
  if (command === 'config') {
    litestreamBinary(); // pm2 runs it next (ecosystem.config.cjs): say here when it is missing
    console.log(`Litestream's configuration is in ${displayPath(config)} (readable by its owner only; written again from .env whenever the bot or Litestream starts).`);
    return 0;
  }
  if (command === 'replicate') {
    if (rest.length > 0) throw new OpsError(`replicate takes nothing more (it reads .env) — usage: ${USAGE}`);
    return run(['replicate', '-config', config, '-no-expand-env'], true);
  }
  if (!LISTINGS.has(command)) throw new OpsError(`Unknown command "${command}" — usage: ${USAGE}`);
  if (command === 'restore' && !rest.includes('-o')) {
    throw new OpsError('restore needs -o FILE, a new file to write the copy to — to put the copy in place of the database, run npm run restore -- --from-replica.');
  }
  return run([command, '-config', config, '-no-expand-env', ...rest, databasePath], false);
}

/** Runs the binary with this terminal (or pm2's log files); resolves with its exit code. */
function run(args: string[], forwardSignals: boolean): Promise<number> {
  const child = spawn(litestreamBinary(), args, { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  if (forwardSignals) for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => reject(new OpsError(`Litestream could not be started (${error.message}) — run npm ci in the bot's folder.`)));
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
  });
}

runCli('litestream', () => main(process.argv.slice(2)));
