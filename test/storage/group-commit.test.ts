import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseBusy, toStoreError } from '../../src/storage/errors.js';
import { GroupCommit } from '../../src/storage/group-commit.js';
import { openDatabase, type Db } from '../../src/storage/open-database.js';
import { holdWriteLock, watchEventLoop } from '../support/db-lock.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

/** The database under test and a second connection to the same file, as another process would see it. */
function setup(): { db: Db; other: Database.Database } {
  const dir = tempDir();
  const path = join(dir.path, 'bot.db');
  const db = openDatabase(path, { migrations: [{ name: 'test table', sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)' }] });
  const other = new Database(path, { timeout: 50 });
  cleanups.push(dir.cleanup, () => db.close(), () => other.close());
  return { db, other };
}

const committed = (other: Database.Database) => other.prepare('SELECT v FROM t ORDER BY id').pluck().all();

describe('GroupCommit', () => {
  it('runs units submitted together in one transaction and settles them only after it committed', async () => {
    const { db, other } = setup();
    const commits = new GroupCommit(db);
    const seenByOthers: unknown[][] = [];
    const units = Array.from({ length: 20 }, (_, i) =>
      commits.run(() => {
        db.prepare('INSERT INTO t (v) VALUES (?)').run(`u${i}`);
        seenByOthers.push(committed(other));
        return i;
      }),
    );
    // Nothing has run yet: the batch starts on the next turn of the event loop.
    expect(committed(other)).toEqual([]);
    await expect(Promise.all(units)).resolves.toEqual(Array.from({ length: 20 }, (_, i) => i));
    // While the units ran, another connection saw nothing: one transaction, committed once at the end.
    expect(seenByOthers.every((rows) => rows.length === 0)).toBe(true);
    expect(committed(other)).toHaveLength(20);
  });

  it('a unit that throws rolls back alone and rejects alone', async () => {
    const { db, other } = setup();
    const commits = new GroupCommit(db);
    const insert = (v: string) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
    const results = await Promise.allSettled([
      commits.run(insert('a')),
      commits.run(() => {
        insert('b-partial')();
        return insert('a')(); // UNIQUE violation after a write of its own
      }),
      commits.run(insert('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(committed(other)).toEqual(['a', 'c']); // nothing of the failed unit, not even its first write
  });

  it('when the transaction itself is lost, every unit rejects and nothing is written', async () => {
    const { db, other } = setup();
    const commits = new GroupCommit(db);
    const results = await Promise.allSettled([
      commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('first')").run()),
      // What SQLite does on a full disk or an I/O error: the whole transaction is rolled back.
      commits.run(() => {
        db.exec('ROLLBACK');
        throw new Error('disk I/O error');
      }),
      commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('third')").run()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committed(other)).toEqual([]);
    expect(db.inTransaction).toBe(false);
    // And the next batch works.
    await commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('later')").run());
    expect(committed(other)).toEqual(['later']);
  });

  it('waits for a write lock held by another connection without blocking the event loop, then commits', async () => {
    const { db, other } = setup();
    const commits = new GroupCommit(db);
    const loop = await watchEventLoop();
    const lock = holdWriteLock(db.name, 1000);
    cleanups.push(() => lock.release(), () => loop.stop());
    let free = false;
    void lock.released.then(() => (free = true));
    const first = commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('first')").run().changes).then((changes) => ({ changes, free }));
    // Submitted while the first waits: queued behind it, committed after it.
    await new Promise((r) => setTimeout(r, 200));
    const second = commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('second')").run().changes);
    await expect(Promise.all([first, second])).resolves.toEqual([{ changes: 1, free: true }, 1]);
    expect(committed(other)).toEqual(['first', 'second']);
    // The lock was held for a second; a busy wait would have held the event loop that long.
    expect(loop.maxMs()).toBeLessThan(500);
  });

  it('rejects every unit as busy when the lock outlasts lockWaitMs, quickly and without blocking, then recovers', async () => {
    const { db, other } = setup();
    const commits = new GroupCommit(db, { lockWaitMs: 300 });
    const loop = await watchEventLoop();
    const lock = holdWriteLock(db.name, 30_000);
    cleanups.push(() => lock.release(), () => loop.stop());
    const started = performance.now();
    const results = await Promise.allSettled([1, 2, 3].map((i) => commits.run(() => db.prepare('INSERT INTO t (v) VALUES (?)').run(`v${i}`))));
    const waited = performance.now() - started;
    expect(results.every((r) => r.status === 'rejected' && toStoreError(r.reason) instanceof DatabaseBusy)).toBe(true);
    // Gave up long before the lock was released (30 s); wide above lockWaitMs for a loaded machine.
    expect(waited).toBeLessThan(10_000);
    expect(loop.maxMs()).toBeLessThan(500);
    lock.release();
    expect(committed(other)).toEqual([]);
    await commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('after')").run());
    expect(committed(other)).toEqual(['after']);
  });

  it('gives each unit its own lockWaitMs, counted from when it was submitted', async () => {
    const { db } = setup();
    const commits = new GroupCommit(db, { lockWaitMs: 600 });
    const lock = holdWriteLock(db.name, 5000);
    cleanups.push(() => lock.release());
    const waited = (submitted: number) => (error: unknown) => ({ busy: toStoreError(error) instanceof DatabaseBusy, ms: performance.now() - submitted });
    const first = commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('a')").run()).catch(waited(performance.now()));
    await new Promise((r) => setTimeout(r, 20));
    const second = commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('b')").run()).catch(waited(performance.now()));
    await new Promise((r) => setTimeout(r, 380));
    const third = commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('c')").run()).catch(waited(performance.now()));
    for (const unit of await Promise.all([first, second, third])) {
      expect(unit).toMatchObject({ busy: true });
      // Not rejected with the first unit's deadline: each waited its own 600 ms.
      expect((unit as { ms: number }).ms).toBeGreaterThanOrEqual(590);
    }
  });

  it('splits a large burst into transactions of at most maxBatch units', async () => {
    const { db, other } = setup();
    const commits = new GroupCommit(db, { maxBatch: 4 });
    const committedWhenRun: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        commits.run(() => {
          committedWhenRun.push(committed(other).length);
          db.prepare('INSERT INTO t (v) VALUES (?)').run(`u${i}`);
        }),
      ),
    );
    // Units 0–3 ran before any commit, 4–7 after the first four committed, 8–9 after eight.
    expect(committedWhenRun).toEqual([0, 0, 0, 0, 4, 4, 4, 4, 8, 8]);
    expect(committed(other)).toHaveLength(10);
  });
});
