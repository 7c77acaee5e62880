import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { createInvoicedOrder, outboxIdle, sendEvent, startCustomer, tables } from '../support/payments-helpers.js';

/*
 * A database that cannot store anything (disk full, I/O error): AiPay gets 503 (retry later, nothing
 * acknowledged) and /healthz says the database is unavailable, until a write commits again. The
 * disk is filled for real, by SQLite itself: PRAGMA max_page_count stops the file growing, and a
 * write that needs a new page fails with SQLITE_FULL, as on a full disk.
 */

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const health = async () => {
  const res = await fetch(`${h.app.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; database: string } };
};

/** Padding that needs new pages: more than the free pages the file has, well under the 64 kb body limit. */
const PADDING = 'x'.repeat(50_000);

describe('a database that cannot store anything', () => {
  it('answers AiPay 503 and reports the database unavailable on /healthz, until a write commits again', async () => {
    await startCustomer(h, 170);
    const order = createInvoicedOrder(h.app, { userId: 170 });
    expect(await health()).toMatchObject({ status: 200, body: { ok: true, database: 'ok' } });

    const db = h.app.db;
    const maxPages = db.pragma('max_page_count', { simple: true }) as number;
    expect((db.pragma('freelist_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number)).toBeLessThan(PADDING.length);
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    let refused;
    try {
      refused = await sendEvent(h, order, 'invoice.paid', { extra: { padding: PADDING } });
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toEqual({ error: 'not recorded, retry' });
      expect(tables(h.app).count('aipay_events')).toBe(0);
      expect(tables(h.app).order(order.externalId)!.state).toBe('invoiced');
      // Reads still work; the failed write is what tells.
      expect(await health()).toEqual({ status: 503, body: { ok: false, database: 'unavailable', bot: 'polling' } });
    } finally {
      db.pragma(`max_page_count = ${maxPages}`);
    }
    // Space again, but nothing wrote since: still reported, so a monitor does not see it clear by itself.
    expect((await health()).body.database).toBe('unavailable');

    const retried = await sendEvent(h, order, 'invoice.paid', { extra: { padding: PADDING } });
    expect(retried.status).toBe(200);
    expect(JSON.parse(retried.body)).toEqual({ ok: true, outcome: 'granted' });
    expect(tables(h.app).periods(170)).toHaveLength(1);
    expect(await health()).toMatchObject({ status: 200, body: { ok: true, database: 'ok' } });
  });

  it('checks that a write can begin without waiting for another connection’s lock', async () => {
    // Nothing else of the app writes while the lock is held, so only /healthz could wait on it:
    // the start-up updates are handled, no job is due or running.
    await startCustomer(h, 171);
    await h.app.scheduler.stop();
    await outboxIdle(h.app);
    await h.app.worker.stop();
    const busyTimeout = h.app.db.pragma('busy_timeout', { simple: true });
    const other = new Database(h.databasePath);
    try {
      other.exec('BEGIN IMMEDIATE');
      const started = performance.now();
      const res = await health();
      // The lock is held until this answer comes, so a check that waited for it would end with the
      // wait's timeout and not 'ok'; the bound only guards against a long wait, wide for a loaded machine.
      expect(performance.now() - started).toBeLessThan(1500);
      // A lock is someone's write in progress, not a failure.
      expect(res).toMatchObject({ status: 200, body: { database: 'ok' } });
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    expect(h.app.db.pragma('busy_timeout', { simple: true })).toBe(busyTimeout);
  });
});
