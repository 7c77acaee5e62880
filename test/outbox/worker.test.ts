import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Api } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { OutboxWorker } from '../../src/outbox/worker.js';
import { openDatabase, type Db } from '../../src/storage/open-database.js';
import { holdWriteLock, watchEventLoop } from '../support/db-lock.js';
import { eventually } from '../support/payments-helpers.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Sent {
  chatId: number;
  text: string;
}

/** A worker on a real database file, with a Bot API whose sendMessage the test answers. */
function setup(answer: (sent: Sent) => Promise<void> = async () => undefined) {
  const dir = tempDir();
  const path = join(dir.path, 'bot.db');
  const db = openDatabase(path);
  const sent: Sent[] = [];
  const api = {
    sendMessage: async (chatId: number, text: string) => {
      const s = { chatId, text };
      sent.push(s);
      await answer(s);
      return { message_id: sent.length, date: 0, chat: { id: chatId, type: 'private' } };
    },
  } as unknown as Api;
  const lines: Array<{ level: string; msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as { level: string; msg: string });
      done();
    },
  });
  const worker = new OutboxWorker({ db, api, clock: systemClock, log: createLogger({ destination }), admins: () => [], pollMs: 50 });
  cleanups.push(dir.cleanup, () => db.close(), () => worker.stop());
  return { db, path, sent, lines, worker, outbox: new Outbox(db, systemClock) };
}

const stateOf = (db: Db, id: number) => db.prepare('SELECT state FROM outbox WHERE id = ?').pluck().get(id) as string;

describe('the outbox worker and a database locked by another process', () => {
  it('records a job it performed once the lock is released, so the message is not sent again', async () => {
    let reply!: () => void;
    const { db, path, sent, worker, outbox } = setup(() => new Promise<void>((resolve) => (reply = resolve)));
    const id = outbox.enqueue({ kind: 'message', chatId: 501, text: 'Hello' })!;
    worker.start();
    await eventually(() => sent.length === 1, 5000, 'the message being sent');
    // Telegram answers while another process writes: the worker must wait to record "done".
    const loop = await watchEventLoop();
    const lock = holdWriteLock(path, 1500);
    cleanups.push(() => lock.release(), () => loop.stop());
    reply();
    await new Promise((r) => setTimeout(r, 500));
    expect(stateOf(db, id)).toBe('running');
    await lock.released;
    await eventually(() => stateOf(db, id) === 'done', 5000, 'the job recorded as done');
    expect(loop.maxMs()).toBeLessThan(500);
    await worker.stop();
    expect(sent).toEqual([{ chatId: 501, text: 'Hello' }]);
  });

  it('claims nothing while the lock is held, says so once, and resumes when it is released', async () => {
    const { db, path, sent, lines, worker, outbox } = setup();
    const id = outbox.enqueue({ kind: 'message', chatId: 502, text: 'Later' }, { runAfter: Date.now() + 300 })!;
    const loop = await watchEventLoop();
    const lock = holdWriteLock(path, 2000);
    cleanups.push(() => lock.release(), () => loop.stop());
    worker.start();
    await new Promise((r) => setTimeout(r, 1000));
    expect(sent).toEqual([]);
    await lock.released;
    await eventually(() => stateOf(db, id) === 'done', 5000, 'the job done after the lock');
    expect(sent).toEqual([{ chatId: 502, text: 'Later' }]);
    expect(loop.maxMs()).toBeLessThan(500);
    expect(lines.filter((l) => l.level !== 'debug').map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'the database is locked by another process: interrupted outbox jobs resume when their leases run out'],
      ['warn', 'the database is locked by another process: the outbox waits for it'],
      ['info', 'the database is free again: the outbox resumes'],
    ]);
  });

  it('stops at once while a record waits for the lock (the lease brings the job back after a restart)', async () => {
    let reply!: () => void;
    const { db, path, sent, worker, outbox } = setup(() => new Promise<void>((resolve) => (reply = resolve)));
    const id = outbox.enqueue({ kind: 'message', chatId: 503, text: 'Bye' })!;
    worker.start();
    await eventually(() => sent.length === 1, 5000, 'the message being sent');
    const lock = holdWriteLock(path, 60_000);
    cleanups.push(() => lock.release());
    reply();
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    await worker.stop();
    // Did not wait for the lock (a minute); the margin is for a loaded machine.
    expect(performance.now() - started).toBeLessThan(10_000);
    lock.release();
    expect(stateOf(db, id)).toBe('running');
  });
});
