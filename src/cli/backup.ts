import { backupDatabase, DEFAULT_KEEP, defaultBackupDir } from '../ops/backup-database.js';
import { databasePathFromEnv, parseCommandLine, runCli } from '../ops/cli-support.js';
import { OpsError } from '../ops/ops-error.js';
import { displayPath, formatBytes, resolveTypedPath } from '../ops/paths.js';

const USAGE = 'npm run backup -- [--dir FOLDER] [--keep N]';

/**
 * `npm run backup [-- --dir FOLDER --keep N]`: a consistent copy of the database (safe while the
 * bot runs) to `backups/bot-YYYYMMDD-HHMMSS.db` next to it, checked, keeping the last N (14).
 * Prints one line; exits 1 with one sentence when something is wrong.
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { dir: { type: 'string' }, keep: { type: 'string' } }, USAGE);
  if (positionals.length > 0) throw new OpsError(`Unexpected "${positionals[0]}" — usage: ${USAGE}`);
  const keep = values.keep === undefined ? DEFAULT_KEEP : Number(values.keep);
  if (!Number.isInteger(keep) || keep < 1) {
    throw new OpsError(`--keep must be a whole number of backups to keep, 1 or more (it is "${values.keep}"), like --keep ${DEFAULT_KEEP}.`);
  }
  const databasePath = databasePathFromEnv();
  const dir = values.dir === undefined ? defaultBackupDir(databasePath) : resolveTypedPath(values.dir);
  const result = await backupDatabase(databasePath, dir, keep);
  const removed = result.removed.length > 0 ? `, ${result.removed.length} older one${result.removed.length === 1 ? '' : 's'} deleted` : '';
  console.log(`Backup saved: ${displayPath(result.file)} (${formatBytes(result.bytes)}); ${result.kept.length} backup${result.kept.length === 1 ? '' : 's'} kept${removed}.`);
  return 0;
}

runCli('backup', () => main(process.argv.slice(2)));
