import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventsDedupeMigration } from '../../src/payments/events-dedupe-migration.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { tempDir } from '../support/temp-dir.js';

const dirs: Array<{ cleanup: () => void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

describe('the AiPay events migration (refused deliveries do not use up the invoice and event)', () => {
  it('keeps every event, marks the refused ones, and from then on keys only the events that took effect', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'bot.db');
    const version = MIGRATIONS.indexOf(eventsDedupeMigration);
    expect(version).toBeGreaterThan(0);
    const before = openDatabase(path, { migrations: MIGRATIONS.slice(0, version) });
    const old = before.prepare("INSERT INTO aipay_events (invoice_id, event, external_id, amount, body, outcome, received_at) VALUES (?, 'invoice.paid', ?, ?, '{}', ?, 1)");
    old.run('inv_wrong_amount', 'sb_a', 490, 'amount_mismatch');
    old.run('inv_granted', 'sb_b', 4900, 'granted');
    old.run('inv_orphan', 'sb_nobody', 4900, 'orphan');
    before.close();

    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare('SELECT id, invoice_id, outcome, rejected FROM aipay_events ORDER BY id').all()).toEqual([
      { id: 1, invoice_id: 'inv_wrong_amount', outcome: 'amount_mismatch', rejected: 1 },
      { id: 2, invoice_id: 'inv_granted', outcome: 'granted', rejected: 0 },
      { id: 3, invoice_id: 'inv_orphan', outcome: 'orphan', rejected: 1 },
    ]);
    const insert = db.prepare(
      "INSERT INTO aipay_events (invoice_id, event, external_id, amount, body, outcome, received_at, rejected) VALUES (?, 'invoice.paid', ?, ?, '{}', ?, 2, ?) ON CONFLICT DO NOTHING",
    );
    // The corrected payment after a refused one still counts; a second effective one does not.
    expect(insert.run('inv_wrong_amount', 'sb_a', 4900, 'granted', 0).changes).toBe(1);
    expect(insert.run('inv_granted', 'sb_b', 4900, 'granted', 0).changes).toBe(0);
    // A refused delivery is kept once per what it said.
    expect(insert.run('inv_wrong_amount', 'sb_a', 490, 'amount_mismatch', 1).changes).toBe(0);
    expect(insert.run('inv_wrong_amount', 'sb_a', 49, 'amount_mismatch', 1).changes).toBe(1);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});
