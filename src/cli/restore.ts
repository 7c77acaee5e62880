import { BACKUP_PREFIX, defaultBackupDir, listBackups } from '../ops/backup-database.js';
import { askYes, databasePathFromEnv, parseCommandLine, replicationFromEnv, runCli } from '../ops/cli-support.js';
import { OpsError } from '../ops/ops-error.js';
import { displayPath, resolveTypedPath } from '../ops/paths.js';
import { pm2Control } from '../ops/pm2.js';
import { restoreFromReplica } from '../ops/restore-from-replica.js';
import { restoreDatabase, type DatabaseSummary } from '../ops/restore-database.js';

const USAGE = 'npm run restore -- <backup file> [--yes] [--dir FOLDER], or npm run restore -- --from-replica [--yes]';

/**
 * `npm run restore -- <file> [--yes]`: puts a backup in place of the database, after checking it
 * and asking (unless --yes). Refuses while the bot runs; saves the current database first.
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { yes: { type: 'boolean', short: 'y' }, dir: { type: 'string' }, 'from-replica': { type: 'boolean' } }, USAGE);
  if (values['from-replica']) return fromReplica(positionals, values.yes === true, values.dir);
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
  console.log(
    `Restored ${displayPath(result.databasePath)} from ${displayPath(result.from)}: ${counts(result.summary)}.${upgraded}${saved} ` +
      'Start the bot again: pm2 start subscription-bot (or npm start).',
  );
  return 0;
}

/**
 * `npm run restore -- --from-replica [--yes]`: the newest copy Litestream keeps on the replica
 * (LITESTREAM_REPLICA_URL), in place of the database — after losing the server or the database
 * file. Stops the bot and Litestream where pm2 runs them, and starts them again.
 */
async function fromReplica(positionals: string[], yes: boolean, dir: string | undefined): Promise<number> {
  if (positionals.length > 0) throw new OpsError(`--from-replica restores the copy on the replica, not "${positionals[0]}" — usage: ${USAGE}`);
  const { databasePath, replica } = replicationFromEnv();
  if (!replica) {
    throw new OpsError(
      'LITESTREAM_REPLICA_URL is not set in .env — write the replica the database was copied to (with its keys, as on the lost server), or restore a backup: npm run restore -- <backup file>.',
    );
  }
  const result = await restoreFromReplica(databasePath, {
    replica,
    processes: pm2Control(),
    backupDir: dir === undefined ? undefined : resolveTypedPath(dir),
    confirm: (question) => (yes ? true : askYes(question)),
    progress: (line) => console.log(line),
  });
  if (!result.restored) {
    console.error('Nothing was changed: type yes to confirm, or add --yes.');
    return 1;
  }
  const r = result.result;
  const saved = r.previous ? ` The database it replaced is saved as ${displayPath(r.previous)}${r.previousDamaged ? ' (it was damaged: kept as it was)' : ''}.` : '';
  const upgraded = r.summary.version > r.versionBefore ? ` It was upgraded from database version ${r.versionBefore} to ${r.summary.version}.` : '';
  const next =
    result.restarted.length > 0
      ? `${result.restarted.join(' and ')} ${result.restarted.length === 1 ? 'runs' : 'run'} again; Litestream starts a new generation on the replica.`
      : 'Start the bot and Litestream: pm2 start ecosystem.config.cjs (Litestream starts a new generation on the replica).';
  console.log(`Restored ${displayPath(r.databasePath)} from ${replica.url} (generation ${result.generation.generation}): ${counts(r.summary)}.${upgraded}${saved} ${next}`);
  return 0;
}

function counts(s: DatabaseSummary): string {
  const n = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`;
  return `${n(s.orders, 'order')}, ${n(s.customers, 'customer')}`;
}

runCli('restore', () => main(process.argv.slice(2)));
