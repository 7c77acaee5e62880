import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/open-database.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { DatabaseBusy, StoreError, UniqueViolation, ConstraintViolation, typed } from '../../src/storage/errors.js';
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
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1500);
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
    expect(Date.now() - started).toBeLessThan(1000);
    holder.exec('ROLLBACK');
    holder.close();
    other.close();
  });
});
