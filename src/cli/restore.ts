import { BACKUP_PREFIX, defaultBackupDir, listBackups } from '../ops/backup-database.js';
import { askYes, databasePathFromEnv, parseCommandLine, runCli } from '../ops/cli-support.js';
import { OpsError } from '../ops/ops-error.js';
import { displayPath, resolveTypedPath } from '../ops/paths.js';
import { restoreDatabase } from '../ops/restore-database.js';

const USAGE = 'npm run restore -- <backup file> [--yes] [--dir FOLDER]';

/**
 * `npm run restore -- <file> [--yes]`: puts a backup in place of the database, after checking it
 * and asking (unless --yes). Refuses while the bot runs; saves the current database first.
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { yes: { type: 'boolean', short: 'y' }, dir: { type: 'string' } }, USAGE);
  const databasePath = databasePathFromEnv();
  const backupDir = values.dir === undefined ? defaultBackupDir(databasePath) : resolveTypedPath(values.dir);
  if (positionals.length !== 1) {
    const newest = listBackups(backupDir, BACKUP_PREFIX).at(-1);
    throw new OpsError(
      positionals.length === 0
        ? newest
          ? `Name the backup to restore, like npm run restore -- ${displayPath(newest.file)} (the newest in ${displayPath(backupDir)}).`
          : `Name the backup to restore, like npm run restore -- ${displayPath(backupDir)}/bot-20260314-101500.db (there are no backups in ${displayPath(backupDir)} yet).`
        : `Name one backup file, not ${positionals.length} — usage: ${USAGE}`,
    );
  }
  const file = resolveTypedPath(positionals[0]!);
  const result = await restoreDatabase(file, databasePath, {
    backupDir,
    confirm: (question) => (values.yes ? true : askYes(question)),
  });
  if (!result.restored) {
    console.error('Nothing was changed: type yes to confirm, or add --yes.');
    return 1;
  }
  const saved = result.previous
    ? ` The database it replaced is saved as ${displayPath(result.previous)}${result.previousDamaged ? ' (it was damaged: kept as it was)' : ''}.`
    : '';
  const upgraded = result.summary.version > result.versionBefore ? ` It was upgraded from database version ${result.versionBefore} to ${result.summary.version}.` : '';
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  console.log(
    `Restored ${displayPath(result.databasePath)} from ${displayPath(result.from)}: ${n(result.summary.orders, 'order')}, ${n(result.summary.customers, 'customer')}.${upgraded}${saved} ` +
      'Start the bot again: pm2 start subscription-bot (or npm start).',
  );
  return 0;
}

runCli('restore', () => main(process.argv.slice(2)));
