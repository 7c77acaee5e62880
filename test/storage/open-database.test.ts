import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { BUSY_TIMEOUT_MS, openDatabase } from '../../src/storage/open-database.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { DatabaseBusy, StoreError, UniqueViolation, ConstraintViolation, typed } from '../../src/storage/errors.js';
import { holdWriteLock, holdWriteLockInChild } from '../support/db-lock.js';
import { tempDir } from '../support/temp-dir.js';

const dirs: Array<{ cleanup: () => void }> = [];
function freshPath(): string {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, 'nested', 'folder', 'bot.db');
}
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

describe('openDatabase', () => {
  it('creates the folder and migrates an empty file to the latest version', () => {
    const db = openDatabase(freshPath());
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['customers', 'kv', 'orders', 'outbox', 'subscriptions']));
    db.close();
  });

  it('keeps WAL, synchronous=FULL, foreign keys and a short busy timeout on reopen', () => {
    const path = freshPath();
    openDatabase(path).close();
    // A plain better-sqlite3 open of the same WAL file comes back with synchronous=NORMAL (1)…
    const plain = new Database(path);
    expect(plain.pragma('journal_mode', { simple: true })).toBe('wal');
    plain.close();
    // …openDatabase sets and asserts the durable settings every time.
    const db = openDatabase(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
    db.close();
  });

  it('does nothing on a second migration run', () => {
    const path = freshPath();
    const db = openDatabase(path);
    db.prepare('INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)').run('k', 'v', 1);
    const schema = db.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all();
    db.close();
    const again = openDatabase(path);
    expect(again.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all()).toEqual(schema);
    expect(again.prepare('SELECT value FROM kv WHERE key = ?').pluck().get('k')).toBe('v');
    again.close();
  });

  it('refuses a database written by a newer version of the bot', () => {
    const path = freshPath();
    const db = openDatabase(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openDatabase(path)).toThrow(/newer than this bot knows/);
  });

  it('rolls back a failing migration entirely', () => {
    const path = freshPath();
    const broken = [...MIGRATIONS, { name: 'broken', sql: 'CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);' }];
    expect(() => openDatabase(path, { migrations: broken })).toThrow();
    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    db.close();
  });

  it('reports constraint violations as typed errors', () => {
    const db = openDatabase(freshPath());
    const insert = db.prepare('INSERT INTO customers (user_id, phone, created_at, updated_at) VALUES (?, ?, 0, 0)');
    typed(() => insert.run(1, null));
    expect(() => typed(() => insert.run(1, null))).toThrow(UniqueViolation);
    expect(() => typed(() => insert.run(2, '+77011234567'))).toThrow(ConstraintViolation);
    expect(() =>
      typed(() =>
        db.prepare("INSERT INTO trials (user_id, plan_id, at) VALUES (999, 'p', 0)").run(),
      ),
    ).toThrow(ConstraintViolation);
    db.close();
  });

  it('reports a lock held by another connection as DatabaseBusy within the busy timeout', () => {
    const path = freshPath();
    const holder = openDatabase(path);
    const other = openDatabase(path, { busyTimeoutMs: 100 });
    holder.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    let error: unknown;
    try {
      typed(() => other.prepare("INSERT INTO kv (key, value, updated_at) VALUES ('a', 'b', 0)").run());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatabaseBusy);
    expect(error).toBeInstanceOf(StoreError);
    // The holder never lets go, so without the busy timeout this would never end: the margin is
    // only wide enough for a loaded machine to sleep 100 ms late.
    expect(Date.now() - started).toBeLessThan(5000);
    holder.exec('ROLLBACK');
    holder.close();
    other.close();
  });

  it('fails a write that meets another process\'s write lock within milliseconds: SQLite waits by blocking the event loop', async () => {
    const path = freshPath();
    const db = openDatabase(path);
    const lock = await holdWriteLockInChild(path, 30_000);
    try {
      expect(BUSY_TIMEOUT_MS).toBeLessThanOrEqual(10);
      const started = performance.now();
      expect(() => typed(() => db.prepare("INSERT INTO kv (key, value, updated_at) VALUES ('a', 'b', 0)").run())).toThrow(DatabaseBusy);
      // Far below the 30 s the lock is held, far above the 10 ms busy timeout: a loaded machine
      // wakes a sleeping thread late, but not seconds late.
      expect(performance.now() - started).toBeLessThan(2000);
      // Reading needs no lock in WAL mode.
      expect(db.prepare('SELECT count(*) FROM kv').pluck().get()).toBe(0);
    } finally {
      lock.release();
      await lock.released;
      db.close();
    }
  });

  it('waits for a lock while opening (nothing is served yet), so a start during a short write still migrates', async () => {
    const path = freshPath();
    openDatabase(path, { migrations: MIGRATIONS.slice(0, 1) }).close();
    const lock = await holdWriteLockInChild(path, 500);
    try {
      const db = openDatabase(path);
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
      db.close();
    } finally {
      lock.release();
      await lock.released;
    }
  });

  it('commits without waiting while a reader keeps an old snapshot: the automatic checkpoint skips what it cannot do', () => {
    const path = freshPath();
    const db = openDatabase(path);
    const reader = new Database(path);
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM kv').get();
      // Make the WAL pass the autocheckpoint threshold (1000 pages) in one commit, then commit again.
      const insert = db.prepare('INSERT INTO kv (key, value, updated_at) VALUES (?, hex(randomblob(3000)), 0)');
      db.pragma('busy_timeout = 15000'); // were the checkpoint to wait for the reader, this would show it
      const started = performance.now();
      db.transaction(() => {
        for (let i = 0; i < 1500; i++) insert.run(`k${i}`);
      })();
      insert.run('after');
      // Waiting would take the 15 s busy timeout; the writes alone take well under a second, and
      // under 10 s on a loaded machine.
      expect(performance.now() - started).toBeLessThan(10_000);
      const [status] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
      expect(status!.log).toBeGreaterThan(1000);
      // Only the frames the reader does not need were copied back; the rest waits for a later checkpoint.
      expect(status!.checkpointed).toBeLessThan(status!.log - 1000);
    } finally {
      reader.exec('COMMIT');
      reader.close();
      db.close();
    }
  });
});
