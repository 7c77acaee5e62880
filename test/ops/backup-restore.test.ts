import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupDatabase, defaultBackupDir, listBackups } from '../../src/ops/backup-database.js';
import { isDatabaseInUse } from '../../src/ops/database-lock.js';
import { OpsError } from '../../src/ops/ops-error.js';
import { restoreDatabase } from '../../src/ops/restore-database.js';
import { projectRoot } from '../../src/project-root.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { openDatabase, type Db } from '../../src/storage/open-database.js';
import { spawnForTest } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

let dir: { path: string; cleanup: () => void };
let dbPath: string;
beforeEach(() => {
  dir = tempDir();
  dbPath = join(dir.path, 'data', 'bot.db');
});
afterEach(() => dir.cleanup());

const at = (iso: string) => new Date(iso);

function addCustomer(db: Db, userId: number): void {
  db.prepare('INSERT INTO customers (user_id, first_name, created_at, updated_at) VALUES (?, ?, 1, 1)').run(userId, `User ${userId}`);
}
function addOrder(db: Db, userId: number, externalId: string, amount = 4900): void {
  db.prepare(
    `INSERT INTO orders (external_id, user_id, item_kind, item_id, terms, list_price, amount, language, state, created_at, updated_at)
     VALUES (?, ?, 'plan', 'monthly', '{}', ?, ?, 'ru', 'paid', 1, 1)`,
  ).run(externalId, userId, amount, amount);
}
/** A bot database with customers 1, 2 and their orders. */
function seed(path = dbPath): void {
  const db = openDatabase(path);
  addCustomer(db, 1);
  addCustomer(db, 2);
  addOrder(db, 1, 'o-1');
  addOrder(db, 2, 'o-2', 12000);
  db.close();
}
const rows = (path: string) => {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return {
      customers: db.prepare('SELECT user_id, first_name FROM customers ORDER BY user_id').all(),
      orders: db.prepare('SELECT external_id, user_id, amount, state FROM orders ORDER BY id').all(),
    };
  } finally {
    db.close();
  }
};
const yes = () => true;

describe('backupDatabase', () => {
  it('writes a checked, self-contained copy holding the same rows, named by the UTC time', async () => {
    seed();
    const result = await backupDatabase(dbPath, defaultBackupDir(dbPath), 14, { now: at('2026-03-14T10:15:00Z') });
    expect(result.file).toBe(join(dir.path, 'data', 'backups', 'bot-20260314-101500.db'));
    expect(result.bytes).toBeGreaterThan(0);
    expect(rows(result.file)).toEqual(rows(dbPath));
    expect(rows(result.file).orders).toHaveLength(2);
    // One file: no -wal beside it, journal mode DELETE, integrity ok.
    expect(readdirSync(join(dir.path, 'data', 'backups'))).toEqual(['bot-20260314-101500.db']);
    const copy = new Database(result.file, { readonly: true });
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    copy.close();
  });

  it('copies from the running bot’s own connection, with its latest writes', async () => {
    const live = openDatabase(dbPath);
    addCustomer(live, 7);
    addOrder(live, 7, 'o-live');
    const result = await backupDatabase(live, join(dir.path, 'elsewhere'), 3, { now: at('2026-03-14T10:15:00Z') });
    addOrder(live, 7, 'o-after'); // later writes are not in this snapshot
    live.close();
    expect(rows(result.file).orders.map((o) => (o as { external_id: string }).external_id)).toEqual(['o-live']);
  });

  it('keeps only the last N backups, deleting the oldest — after the new one is checked', async () => {
    seed();
    const backups = defaultBackupDir(dbPath);
    mkdirSync(backups, { recursive: true });
    writeFileSync(join(backups, 'notes.txt'), 'not a backup: never touched');
    writeFileSync(join(backups, 'before-restore-20200101-000000.db'), 'other prefix: never touched');
    for (const [i, time] of ['2026-03-01T03:00:00Z', '2026-03-02T03:00:00Z', '2026-03-03T03:00:00Z', '2026-03-04T03:00:00Z'].entries()) {
      const r = await backupDatabase(dbPath, backups, 3, { now: at(time) });
      expect(r.kept).toHaveLength(Math.min(i + 1, 3));
    }
    const last = await backupDatabase(dbPath, backups, 3, { now: at('2026-03-05T03:00:00Z') });
    expect(last.removed.map((f) => f.split('/').pop())).toEqual(['bot-20260302-030000.db']);
    expect(listBackups(backups).map((b) => b.name)).toEqual(['bot-20260303-030000.db', 'bot-20260304-030000.db', 'bot-20260305-030000.db']);
    expect(existsSync(join(backups, 'notes.txt'))).toBe(true);
    expect(existsSync(join(backups, 'before-restore-20200101-000000.db'))).toBe(true);
  });

  it('names a second backup in the same second apart, in order', async () => {
    seed();
    const backups = defaultBackupDir(dbPath);
    const now = at('2026-03-14T10:15:00Z');
    await backupDatabase(dbPath, backups, 14, { now });
    await backupDatabase(dbPath, backups, 14, { now });
    const third = await backupDatabase(dbPath, backups, 2, { now });
    expect(third.kept.map((f) => f.split('/').pop())).toEqual(['bot-20260314-101500-2.db', 'bot-20260314-101500-3.db']);
  });

  it('says in one sentence that there is no database, and creates nothing', async () => {
    const error = await backupDatabase(dbPath, defaultBackupDir(dbPath)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsError);
    expect((error as Error).message).toMatch(/^There is no database at .*bot\.db — check DATABASE_PATH in \.env/);
    expect(existsSync(dbPath)).toBe(false);
  });

  it('refuses a nonsensical keep', async () => {
    seed();
    await expect(backupDatabase(dbPath, defaultBackupDir(dbPath), 0)).rejects.toThrow(/whole number, 1 or more/);
  });
});

describe('restoreDatabase', () => {
  async function backupOfSeed(): Promise<string> {
    seed();
    return (await backupDatabase(dbPath, defaultBackupDir(dbPath), 14, { now: at('2026-03-14T10:15:00Z') })).file;
  }

  it('brings the rows of the backup back, saving the current database first', async () => {
    const backup = await backupOfSeed();
    const before = rows(dbPath);
    // Later: a customer and an order that the restore takes away again.
    const db = openDatabase(dbPath);
    addCustomer(db, 3);
    addOrder(db, 3, 'o-3');
    db.prepare("UPDATE orders SET state = 'cancelled' WHERE external_id = 'o-1'").run();
    db.close();

    let asked = '';
    const result = await restoreDatabase(backup, dbPath, {
      confirm: (q) => {
        asked = q;
        return true;
      },
      now: at('2026-03-15T08:00:00Z'),
    });
    expect(asked).toMatch(/^Type yes to replace .*bot\.db \(3 orders, 3 customers\) with .*bot-20260314-101500\.db \(2 orders, 2 customers\); the current database is saved to .*backups first: $/);
    expect(result.restored).toBe(true);
    expect(rows(dbPath)).toEqual(before);
    if (!result.restored) return;
    expect(result.previous).toBe(join(dir.path, 'data', 'backups', 'before-restore-20260315-080000.db'));
    expect(rows(result.previous!).orders).toHaveLength(3);
    expect(result.summary).toEqual({ version: MIGRATIONS.length, orders: 2, customers: 2 });
    // No stale WAL of the replaced database, and the bot opens the restored one as usual.
    const reopened = openDatabase(dbPath);
    expect(reopened.prepare('SELECT count(*) FROM orders').pluck().get()).toBe(2);
    reopened.close();
  });

  it('upgrades an older backup with the migrations of this version', async () => {
    const old = join(dir.path, 'old.db');
    const db = openDatabase(old, { migrations: MIGRATIONS.slice(0, 2) });
    addCustomer(db, 1);
    addOrder(db, 1, 'o-old');
    db.close();
    const result = await restoreDatabase(old, dbPath, { confirm: yes });
    expect(result).toMatchObject({ restored: true, versionBefore: 2, summary: { version: MIGRATIONS.length, orders: 1 } });
    expect(result.restored && result.previous).toBeUndefined(); // there was no database to save
  });

  it('changes nothing without confirmation', async () => {
    const backup = await backupOfSeed();
    const db = openDatabase(dbPath);
    addOrder(db, 1, 'o-new');
    db.close();
    const before = rows(dbPath);
    const result = await restoreDatabase(backup, dbPath, { confirm: () => false });
    expect(result.restored).toBe(false);
    expect(rows(dbPath)).toEqual(before);
    expect(listBackups(defaultBackupDir(dbPath), 'before-restore')).toEqual([]);
    expect(readdirSync(join(dir.path, 'data')).filter((f) => f.startsWith('.restore'))).toEqual([]);
  });

  it('refuses a corrupt file, a file that is not SQLite and a database of another program', async () => {
    seed();
    const before = rows(dbPath);
    const notSqlite = join(dir.path, 'photo.db');
    writeFileSync(notSqlite, 'JFIF not a database at all');
    const foreign = join(dir.path, 'other.db');
    const other = new Database(foreign);
    other.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)');
    other.close();
    const corrupt = join(dir.path, 'corrupt.db');
    const good = (await backupDatabase(dbPath, defaultBackupDir(dbPath))).file;
    const bytes = readFileSync(good);
    bytes.fill(0x55, 4096, bytes.length); // every page after the first overwritten
    writeFileSync(corrupt, bytes);

    let asked = false;
    const confirm = () => {
      asked = true;
      return true;
    };
    await expect(restoreDatabase(notSqlite, dbPath, { confirm })).rejects.toThrow(/photo\.db is not a SQLite database — choose a backup made by npm run backup/);
    await expect(restoreDatabase(foreign, dbPath, { confirm })).rejects.toThrow(/other\.db is a SQLite database, but not one of this bot \(it has no orders table\)/);
    await expect(restoreDatabase(corrupt, dbPath, { confirm })).rejects.toThrow(/corrupt\.db (is damaged|cannot be read as a database)/);
    await expect(restoreDatabase(join(dir.path, 'missing.db'), dbPath, { confirm })).rejects.toThrow(/^There is no file .*missing\.db/);
    await expect(restoreDatabase(dbPath, dbPath, { confirm })).rejects.toThrow(/is the live database itself/);
    expect(asked).toBe(false);
    expect(rows(dbPath)).toEqual(before);
    expect(readdirSync(join(dir.path, 'data')).filter((f) => f.startsWith('.restore'))).toEqual([]);
  });

  it('replaces a damaged database, keeping its raw file', async () => {
    const backup = await backupOfSeed();
    const bytes = readFileSync(dbPath);
    bytes.fill(0x55, 4096, bytes.length);
    writeFileSync(dbPath, bytes);
    const result = await restoreDatabase(backup, dbPath, { confirm: yes, now: at('2026-03-15T08:00:00Z') });
    expect(result).toMatchObject({ restored: true, previousDamaged: true, summary: { orders: 2, customers: 2 } });
    expect(result.restored && result.previous).toBe(join(dir.path, 'data', 'backups', 'before-restore-20260315-080000-damaged.db'));
    expect(readFileSync(join(dir.path, 'data', 'backups', 'before-restore-20260315-080000-damaged.db'))).toEqual(bytes);
    expect(rows(dbPath).orders).toHaveLength(2);
  });

  it('refuses a backup from a newer version of the bot', async () => {
    const newer = join(dir.path, 'newer.db');
    const db = openDatabase(newer);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    await expect(restoreDatabase(newer, dbPath, { confirm: yes })).rejects.toThrow(/made by a newer version of the bot \(database version \d+, this bot knows \d+\) — update the bot first/);
  });

  it('refuses while the bot has the database open, even when it is idle', async () => {
    const backup = await backupOfSeed();
    const bot = openDatabase(dbPath); // the running bot: open, not writing
    try {
      expect(isDatabaseInUse(dbPath)).toBe(true);
      const error = await restoreDatabase(backup, dbPath, { confirm: yes }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpsError);
      expect((error as Error).message).toMatch(/bot\.db is in use — the bot \(or another backup\) is running: stop it first with pm2 stop subscription-bot/);
      expect(bot.prepare('SELECT count(*) FROM orders').pluck().get()).toBe(2);
    } finally {
      bot.close();
    }
    expect(isDatabaseInUse(dbPath)).toBe(false);
  });

  it('refuses while another process has the database open', async () => {
    const backup = await backupOfSeed();
    // A child process holding the database open, like the bot under pm2.
    const script = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(dbPath)}); db.prepare('SELECT 1 FROM orders').get(); console.log('open'); setInterval(() => {}, 1000);`;
    const child = spawnForTest(process.execPath, ['-e', script], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      await expect(restoreDatabase(backup, dbPath, { confirm: yes })).rejects.toThrow(/is in use/);
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await expect(restoreDatabase(backup, dbPath, { confirm: yes })).resolves.toMatchObject({ restored: true });
  });
});
