import type { Migration } from '../storage/migrations.js';

/**
 * AiPay events: only a delivery that took effect uses up its invoice's (invoice_id, event) key.
 * A refused one (wrong amount, an invoice that belongs to another order, an unknown order) is
 * kept with `rejected = 1`, unique per what it said, so the corrected or genuine delivery that
 * follows is still applied, and an identical repeat of the refused one is a duplicate (no second
 * alert). SQLite cannot drop the old table-wide UNIQUE, so the table is rebuilt.
 */
export const eventsDedupeMigration: Migration = {
  name: 'AiPay events: refused deliveries do not use up the invoice and event',
  sql: `
    CREATE TABLE aipay_events_new (
      id INTEGER PRIMARY KEY,
      invoice_id TEXT NOT NULL,
      event TEXT NOT NULL,
      external_id TEXT,
      amount INTEGER,
      body TEXT NOT NULL,
      order_id INTEGER REFERENCES orders (id),
      outcome TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      rejected INTEGER NOT NULL DEFAULT 0 CHECK (rejected IN (0, 1))
    ) STRICT;
    INSERT INTO aipay_events_new (id, invoice_id, event, external_id, amount, body, order_id, outcome, received_at, rejected)
      SELECT id, invoice_id, event, external_id, amount, body, order_id, outcome, received_at,
             outcome IN ('amount_mismatch', 'orphan')
      FROM aipay_events;
    DROP TABLE aipay_events;
    ALTER TABLE aipay_events_new RENAME TO aipay_events;
    CREATE INDEX aipay_events_outcome ON aipay_events (outcome);
    CREATE UNIQUE INDEX aipay_events_effective ON aipay_events (invoice_id, event) WHERE rejected = 0;
    CREATE UNIQUE INDEX aipay_events_rejected ON aipay_events (invoice_id, event, external_id, ifnull(amount, -1), outcome) WHERE rejected = 1;
  `,
};
