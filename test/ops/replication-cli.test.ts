import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_APP, LITESTREAM_APP, litestreamConfigPath } from '../../src/ops/litestream.js';
import { projectRoot } from '../../src/project-root.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { fakePm2 } from '../support/fake-pm2.js';
import { covers, currentWalPosition, fileReplica, startLitestream } from '../support/litestream.js';
import { eventually } from '../support/payments-helpers.js';
import { freePort, spawnForTest, stopSpawned } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

const CLI = join(projectRoot, 'dist', 'src', 'cli');
const noBuild = !['restore.js', 'doctor.js', 'litestream.js'].every((f) => existsSync(join(CLI, f)));
const skipped = noBuild ? ' — SKIPPED: dist/src/cli/litestream.js is missing; run npm run build (npm test builds first)' : '';

/** Runs a compiled command in `cwd` with exactly `env` (plus PATH unless given), `stdin` as its input. */
async function run(script: string, args: string[], cwd: string, env: Record<string, string> = {}, stdin = '') {
  const child = spawnForTest(process.execPath, [join(CLI, script), ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.stdin!.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

describe(`npm run restore -- --from-replica, npm run litestream, npm run doctor with a replica (the compiled commands)${skipped}`, () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await stopSpawned();
    dir.cleanup();
  });
  const db = () => join(dir.path, 'data', 'bot.db');
  const orders = () => {
    const d = new Database(db(), { readonly: true });
    try {
      return d.prepare('SELECT external_id FROM orders ORDER BY id').pluck().all();
    } finally {
      d.close();
    }
  };

  it.skipIf(noBuild)('restore --from-replica stops what pm2 runs, puts the copy in place and starts them again', async () => {
    const live = openDatabase(db());
    live.prepare('INSERT INTO customers (user_id, created_at, updated_at) VALUES (1, 1, 1)').run();
    live.prepare("INSERT INTO orders (external_id, user_id, item_kind, item_id, terms, list_price, amount, language, state, created_at, updated_at) VALUES ('o-1', 1, 'plan', 'monthly', '{}', 4900, 4900, 'ru', 'paid', 1, 1)").run();
    const replica = fileReplica(join(dir.path, 'replica'));
    const litestream = startLitestream(db(), replica);
    const target = await eventually(() => currentWalPosition(db()), 10_000, 'Litestream reading the -wal file');
    await eventually(() => covers(litestream.uploaded(), target), 10_000, 'the replica holding the order');
    litestream.kill();
    live.close();
    writeFileSync(join(dir.path, '.env'), `LITESTREAM_REPLICA_URL=${replica.url}\n`);
    const pm2 = fakePm2(dir.path, [
      { name: BOT_APP, status: 'online' },
      { name: LITESTREAM_APP, status: 'online' },
    ]);

    const refused = await run('restore.js', ['--from-replica'], dir.path, pm2.env, 'no\n');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      new RegExp(`^Type yes to stop ${BOT_APP} and ${LITESTREAM_APP}, replace data/bot\\.db with the copy on ${replica.url} \\(last written \\S+Z, \\d+ s ago\\), and start them again; the current database is saved to data/backups first: `),
    );
    expect(refused.stderr).toBe('Nothing was changed: type yes to confirm, or add --yes.\n');
    expect(pm2.calls()).toEqual(['jlist']);

    const done = await run('restore.js', ['--from-replica', '--yes'], dir.path, pm2.env);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout.split('\n')).toEqual([
      `Stopping ${BOT_APP} and ${LITESTREAM_APP} (pm2)…`,
      `Downloading the copy from ${replica.url}…`,
      `Starting ${BOT_APP} and ${LITESTREAM_APP} again (pm2)…`,
      expect.stringMatching(
        new RegExp(
          `^Restored data/bot\\.db from ${replica.url} \\(generation [0-9a-f]{16}\\): 1 order, 1 customer\\. The database it replaced is saved as data/backups/before-restore-\\d{8}-\\d{6}\\.db\\. ${BOT_APP} and ${LITESTREAM_APP} run again; Litestream starts a new generation on the replica\\.$`,
        ),
      ),
      '',
    ]);
    expect(pm2.calls()).toEqual(['jlist', 'jlist', `stop ${BOT_APP} ${LITESTREAM_APP}`, `start ${BOT_APP} ${LITESTREAM_APP}`]);
    // What restore left behind: the database, the saved one, the configuration; no staging, no Litestream state.
    expect(readdirSync(join(dir.path, 'data')).sort()).toEqual(['backups', 'bot.db', 'litestream.yml']);
    expect(orders()).toEqual(['o-1']);
  });

  it.skipIf(noBuild)('restore --from-replica without a replica in .env, or with a file name, says what to do in one sentence', async () => {
    const none = await run('restore.js', ['--from-replica'], dir.path);
    expect(none).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'LITESTREAM_REPLICA_URL is not set in .env — write the replica the database was copied to (with its keys, as on the lost server), or restore a backup: npm run restore -- <backup file>.\n',
    });
    const both = await run('restore.js', ['--from-replica', 'data/backups/bot-20260314-101500.db'], dir.path, { LITESTREAM_REPLICA_URL: 'file:///mnt/backup/bot' });
    expect(both.stderr).toBe(
      '--from-replica restores the copy on the replica, not "data/backups/bot-20260314-101500.db" — usage: npm run restore -- <backup file> [--yes] [--dir FOLDER], or npm run restore -- --from-replica [--yes]\n',
    );
    const wrong = await run('restore.js', ['--from-replica'], dir.path, { LITESTREAM_REPLICA_URL: 's3://bucket/bot' });
    expect(wrong.stderr).toBe(
      'LITESTREAM_ACCESS_KEY_ID is not set: an s3:// replica needs the access key of your storage (its dashboard shows the key id and the secret once) in .env.\n',
    );
  });

  it.skipIf(noBuild)('npm run litestream: config writes the file for its owner only; without a replica, or restore without -o, one sentence', async () => {
    const config = await run('litestream.js', ['config'], dir.path, { LITESTREAM_REPLICA_URL: `file://${dir.path}/replica` });
    expect(config).toEqual({
      code: 0,
      stdout: "Litestream's configuration is in data/litestream.yml (readable by its owner only; written again from .env whenever the bot or Litestream starts).\n",
      stderr: '',
    });
    expect(statSync(litestreamConfigPath(db())).mode & 0o777).toBe(0o600);
    const none = await run('litestream.js', ['generations'], dir.path);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^LITESTREAM_REPLICA_URL is not set in \.env, so Litestream has nothing to do: /);
    const restore = await run('litestream.js', ['restore'], dir.path, { LITESTREAM_REPLICA_URL: `file://${dir.path}/replica` });
    expect(restore.stderr).toBe(
      'restore needs -o FILE, a new file to write the copy to — to put the copy in place of the database, run npm run restore -- --from-replica.\n',
    );
  });

  it.skipIf(noBuild)('doctor says an S3 replica cannot be reached, and never shows its keys', async () => {
    openDatabase(db()).close();
    const keyId = 'AKIAEXAMPLEKEYID1234';
    const secret = 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY';
    const { code, stdout } = await run('doctor.js', [], dir.path, {
      CATALOG_PATH: join(dir.path, 'none.yaml'),
      PORT: String(await freePort()),
      LITESTREAM_REPLICA_URL: 's3://bucket/bot',
      LITESTREAM_ENDPOINT: 'http://127.0.0.1:1',
      LITESTREAM_REGION: 'us-east-1',
      LITESTREAM_ACCESS_KEY_ID: keyId,
      LITESTREAM_SECRET_ACCESS_KEY: secret,
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /\n❌ Continuous copy: the replica s3:\/\/bucket\/bot cannot be reached \(cannot fetch generations: RequestError: send request failed; caused by: Get "http:\/\/127\.0\.0\.1:1\/bucket\?[^"]*": dial tcp 127\.0\.0\.1:1: connect: connection refused\)\n   → Check the bucket, LITESTREAM_ACCESS_KEY_ID, LITESTREAM_SECRET_ACCESS_KEY and LITESTREAM_ENDPOINT \(LITESTREAM_REGION\) in \.env, and that this server reaches the storage\. Until it answers, new changes exist on this server only\.\n/,
    );
    expect(stdout).not.toContain(keyId);
    expect(stdout).not.toContain(secret);
  });
});
