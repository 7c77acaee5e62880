import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/project-root.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { spawnForTest, stopSpawned } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

const CLI = join(projectRoot, 'dist', 'src', 'cli');
const noBuild = !existsSync(join(CLI, 'backup.js')) || !existsSync(join(CLI, 'restore.js'));

/** Runs a compiled command in `cwd` with exactly `env` (plus PATH), `stdin` as its input; killed if the test ends first. */
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

describe(`npm run backup / npm run restore (the compiled commands)${noBuild ? ' — SKIPPED: dist/src/cli/backup.js is missing; run npm run build (npm test builds first)' : ''}`, () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await stopSpawned();
    dir.cleanup();
  });
  const orders = () => {
    const db = openDatabase(join(dir.path, 'data', 'bot.db'));
    try {
      return db.prepare('SELECT external_id FROM orders ORDER BY id').pluck().all();
    } finally {
      db.close();
    }
  };
  const addOrder = (externalId: string) => {
    const db = openDatabase(join(dir.path, 'data', 'bot.db'));
    db.prepare('INSERT OR IGNORE INTO customers (user_id, created_at, updated_at) VALUES (1, 1, 1)').run();
    db.prepare(
      "INSERT INTO orders (external_id, user_id, item_kind, item_id, terms, list_price, amount, language, state, created_at, updated_at) VALUES (?, 1, 'plan', 'monthly', '{}', 4900, 4900, 'ru', 'paid', 1, 1)",
    ).run(externalId);
    db.close();
  };

  it.skipIf(noBuild)('backup: one line with the file and its size; one sentence when there is no database', async () => {
    const missing = await run('backup.js', [], dir.path);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'There is no database at data/bot.db — check DATABASE_PATH in .env (the bot creates the database when it first starts).\n',
    });
    addOrder('o-1');
    const ok = await run('backup.js', ['--keep', '2'], dir.path);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Backup saved: data\/backups\/bot-\d{8}-\d{6}\.db \(\d+ KB\); 1 backup kept\.\n$/);
    expect(readdirSync(join(dir.path, 'data', 'backups'))).toHaveLength(1);
    const wrong = await run('backup.js', ['--keep', 'all'], dir.path);
    expect(wrong).toMatchObject({ code: 1, stderr: '--keep must be a whole number of backups to keep, 1 or more (it is "all"), like --keep 14.\n' });
  });

  it.skipIf(noBuild)('restore: asks, does nothing without "yes", and brings the rows back with it', async () => {
    addOrder('o-1');
    await run('backup.js', [], dir.path);
    const backup = join('data', 'backups', readdirSync(join(dir.path, 'data', 'backups'))[0]!);
    addOrder('o-2');

    const refused = await run('restore.js', [backup], dir.path, {}, 'no\n');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^Type yes to replace data\/bot\.db \(2 orders, 1 customer\) with data\/backups\/bot-\d{8}-\d{6}\.db \(1 order, 1 customer\)/);
    expect(refused.stderr).toBe('Nothing was changed: type yes to confirm, or add --yes.\n');
    expect(orders()).toEqual(['o-1', 'o-2']);

    const noInput = await run('restore.js', [backup], dir.path);
    expect(noInput.code).toBe(1);
    expect(orders()).toEqual(['o-1', 'o-2']);

    const done = await run('restore.js', [backup], dir.path, {}, 'yes\n');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/Restored data\/bot\.db from data\/backups\/bot-\d{8}-\d{6}\.db: 1 order, 1 customer\. The database it replaced is saved as data\/backups\/before-restore-\d{8}-\d{6}\.db\./);
    expect(orders()).toEqual(['o-1']);
  });

  it.skipIf(noBuild)('restore: --yes skips the question; a missing name is told in one sentence', async () => {
    addOrder('o-1');
    await run('backup.js', [], dir.path);
    const none = await run('restore.js', [], dir.path);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^Name the backup to restore, like npm run restore -- data\/backups\/bot-\d{8}-\d{6}\.db \(the newest in data\/backups\)\.\n$/);
    addOrder('o-2');
    const backup = join(dir.path, 'data', 'backups', readdirSync(join(dir.path, 'data', 'backups'))[0]!);
    const done = await run('restore.js', [backup, '--yes'], dir.path);
    expect(done.code).toBe(0);
    expect(done.stdout).not.toContain('Type yes');
    expect(orders()).toEqual(['o-1']);
  });
});
