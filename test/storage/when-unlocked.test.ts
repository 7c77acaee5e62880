import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseBusy } from '../../src/storage/errors.js';
import { openDatabase, type Db } from '../../src/storage/open-database.js';
import { whenUnlocked } from '../../src/storage/when-unlocked.js';
import { holdWriteLock, watchEventLoop } from '../support/db-lock.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

function setup(): { db: Db; path: string; other: Database.Database } {
  const dir = tempDir();
  const path = join(dir.path, 'bot.db');
  const db = openDatabase(path, { migrations: [{ name: 't', sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)' }] });
  const other = new Database(path);
  cleanups.push(dir.cleanup, () => db.close(), () => other.close());
  return { db, path, other };
}

const values = (other: Database.Database) => other.prepare('SELECT v FROM t ORDER BY id').pluck().all();

describe('whenUnlocked', () => {
  it('runs the work at once when the database is free', async () => {
    const { db, other } = setup();
    let attempts = 0;
    const result = whenUnlocked(() => {
      attempts++;
      return db.prepare("INSERT INTO t (v) VALUES ('now')").run().changes;
    });
    expect(attempts).toBe(1); // synchronously, in this turn
    await expect(result).resolves.toBe(1);
    expect(values(other)).toEqual(['now']);
  });

  it('tries again on timers while another connection holds the write lock, and writes once it is free', async () => {
    const { db, path, other } = setup();
    const loop = await watchEventLoop();
    const lock = holdWriteLock(path, 1000);
    cleanups.push(() => lock.release(), () => loop.stop());
    let attempts = 0;
    const written = whenUnlocked(
      () => {
        attempts++;
        return db.transaction(() => db.prepare("INSERT INTO t (v) VALUES ('a')").run().changes + db.prepare("INSERT INTO t (v) VALUES ('b')").run().changes)();
      },
      { deadlineMs: 10_000 },
    );
    let free = false;
    void lock.released.then(() => (free = true));
    await expect(written).resolves.toBe(2);
    expect(free).toBe(true);
    expect(attempts).toBeGreaterThan(1);
    expect(values(other)).toEqual(['a', 'b']);
    expect(loop.maxMs()).toBeLessThan(500);
  });

  it('gives up with DatabaseBusy at the deadline, nothing written, without blocking the event loop', async () => {
    const { db, path, other } = setup();
    const loop = await watchEventLoop();
    const lock = holdWriteLock(path, 30_000);
    cleanups.push(() => lock.release(), () => loop.stop());
    const started = performance.now();
    const error = await whenUnlocked(() => db.prepare("INSERT INTO t (v) VALUES ('late')").run(), { deadlineMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseBusy);
    expect((error as Error).message).toMatch(/^The database stayed locked by another connection for \d+ ms; nothing was written/);
    // Long before the lock is given back (30 s); wide above the 300 ms deadline for a loaded machine.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(loop.maxMs()).toBeLessThan(500);
    lock.release();
    expect(values(other)).toEqual([]);
  });

  it('passes any other error through at once, as thrown', async () => {
    const { db } = setup();
    db.prepare("INSERT INTO t (v) VALUES ('x')").run();
    let attempts = 0;
    const error = await whenUnlocked(() => {
      attempts++;
      return db.prepare("INSERT INTO t (v) VALUES ('x')").run();
    }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(attempts).toBe(1);
  });

  it('stops waiting when its signal is aborted (a shutdown)', async () => {
    const { db, path } = setup();
    const lock = holdWriteLock(path, 60_000);
    cleanups.push(() => lock.release());
    const stop = new AbortController();
    const started = performance.now();
    const pending = whenUnlocked(() => db.prepare("INSERT INTO t (v) VALUES ('x')").run(), { deadlineMs: 60_000, signal: stop.signal }).catch((e: unknown) => e);
    setTimeout(() => stop.abort(), 100);
    expect(await pending).toBeInstanceOf(DatabaseBusy);
    // Neither the lock nor the deadline (a minute) ended it; wide above the 100 ms for a loaded machine.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
