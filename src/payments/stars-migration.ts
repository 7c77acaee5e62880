import type { Migration } from '../storage/migrations.js';

/**
 * Telegram Stars: an order's currency ('KZT' for Kaspi, 'XTR' for Stars; `amount` is in that
 * currency's whole units), and one row per Stars payment, unique by Telegram's charge id, so a
 * repeated successful_payment changes nothing. A refund is recorded on the payment row.
 */
export const starsMigration: Migration = {
  name: 'Telegram Stars: order currency, Stars payments, refunds',
  sql: `
    ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'KZT' CHECK (currency IN ('KZT', 'XTR'));
    CREATE TABLE star_payments (
      id INTEGER PRIMARY KEY,
      charge_id TEXT NOT NULL UNIQUE,
      order_id INTEGER REFERENCES orders (id),
      user_id INTEGER NOT NULL,
      amount INTEGER NOT NULL,
      payload TEXT NOT NULL,
      outcome TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      refunded_at INTEGER
    ) STRICT;
    CREATE INDEX star_payments_order ON star_payments (order_id);
    CREATE TABLE refunds (
      id INTEGER PRIMARY KEY,
      order_id INTEGER NOT NULL REFERENCES orders (id),
      currency TEXT NOT NULL,
      amount INTEGER NOT NULL,
      actor INTEGER,
      at INTEGER NOT NULL,
      UNIQUE (order_id)
    ) STRICT;
  `,
};
