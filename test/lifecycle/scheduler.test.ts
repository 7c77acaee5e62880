import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/lifecycle/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { holdWriteLock, watchEventLoop } from '../support/db-lock.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function capture() {
  const lines: Array<{ level: string; msg: string; job?: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as { level: string; msg: string });
      done();
    },
  });
  return { lines, log: createLogger({ destination }) };
}

describe('Scheduler', () => {
  it('lets a job that finds the database locked run again next time, saying so once, not as a failure', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'bot.db');
    const db = openDatabase(path, { migrations: [{ name: 't', sql: 'CREATE TABLE runs (id INTEGER PRIMARY KEY)' }] });
    cleanups.push(dir.cleanup, () => void db.close());
    const { lines, log } = capture();
    const scheduler = new Scheduler([{ name: 'expiry', cron: '* * * * *', run: () => void db.prepare('INSERT INTO runs DEFAULT VALUES').run() }], log, 'Asia/Almaty');
    cleanups.push(() => scheduler.stop());
    const loop = await watchEventLoop();
    const lock = holdWriteLock(path, 5000);
    cleanups.push(() => lock.release(), () => loop.stop());
    for (let tick = 0; tick < 3; tick++) await scheduler.runNow('expiry');
    expect(loop.maxMs()).toBeLessThan(500);
    lock.release();
    await scheduler.runNow('expiry');
    await scheduler.runNow('expiry');
    expect(db.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(2);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'the database is locked by another process: the job runs again at its next time'],
      ['info', 'scheduled job ran again after the database was locked'],
    ]);
    expect(lines.every((l) => l.job === 'expiry')).toBe(true);
  });

  it('still logs any other failure of a job as an error', async () => {
    const { lines, log } = capture();
    const broken = () => {
      throw new Error('boom');
    };
    const scheduler = new Scheduler([{ name: 'broken', cron: '* * * * *', run: broken }], log, 'Asia/Almaty');
    cleanups.push(() => scheduler.stop());
    await scheduler.runNow('broken');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([['error', 'scheduled job failed']]);
  });
});
