import type { Migration } from '../storage/migrations.js';

export const ordersMigration: Migration = {
  name: 'orders, invoice attempts, AiPay events, audit',
  sql: `
    CREATE TABLE orders (
      id INTEGER PRIMARY KEY,
      external_id TEXT NOT NULL UNIQUE,
      user_id INTEGER NOT NULL REFERENCES customers (user_id),
      item_kind TEXT NOT NULL CHECK (item_kind IN ('plan', 'product')),
      item_id TEXT NOT NULL,
      purpose TEXT NOT NULL DEFAULT 'purchase' CHECK (purpose IN ('purchase', 'renewal')),
      terms TEXT NOT NULL,
      list_price INTEGER NOT NULL CHECK (list_price >= 0),
      promo_code TEXT,
      amount INTEGER NOT NULL CHECK (amount >= 0),
      phone TEXT,
      phone_source TEXT CHECK (phone_source IN ('contact', 'typed', 'saved')),
      language TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('created', 'invoiced', 'paid', 'expired', 'failed', 'cancelled', 'stale')),
      invoice_id TEXT UNIQUE,
      invoice_response TEXT,
      error TEXT,
      chat_id INTEGER,
      message_id INTEGER,
      paid_via TEXT CHECK (paid_via IN ('webhook', 'manual', 'free')),
      paid_check_at INTEGER,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      invoiced_at INTEGER,
      paid_at INTEGER
    ) STRICT;
    CREATE INDEX orders_user_state ON orders (user_id, state);
    CREATE INDEX orders_user_created ON orders (user_id, created_at);
    CREATE INDEX orders_state_created ON orders (state, created_at);
    CREATE INDEX orders_phone_created ON orders (phone, created_at);

    CREATE TABLE invoice_attempts (
      id INTEGER PRIMARY KEY,
      order_id INTEGER NOT NULL REFERENCES orders (id),
      at INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      http_status INTEGER,
      detail TEXT
    ) STRICT;

    CREATE TABLE aipay_events (
      id INTEGER PRIMARY KEY,
      invoice_id TEXT NOT NULL,
      event TEXT NOT NULL,
      external_id TEXT,
      amount INTEGER,
      body TEXT NOT NULL,
      order_id INTEGER REFERENCES orders (id),
      outcome TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      UNIQUE (invoice_id, event)
    ) STRICT;
    CREATE INDEX aipay_events_outcome ON aipay_events (outcome);

    CREATE TABLE audit (
      id INTEGER PRIMARY KEY,
      at INTEGER NOT NULL,
      actor INTEGER,
      action TEXT NOT NULL,
      detail TEXT NOT NULL
    ) STRICT;
  `,
};
