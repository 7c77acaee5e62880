import type { Migration } from './migrations.js';

export const customersMigration: Migration = {
  name: 'customers and key/value state',
  sql: `
    CREATE TABLE customers (
      user_id INTEGER PRIMARY KEY,
      username TEXT,
      first_name TEXT,
      last_name TEXT,
      language TEXT CHECK (language IN ('ru', 'kk', 'en')),
      phone TEXT CHECK (phone IS NULL OR phone GLOB '7[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
      renewal_invoices INTEGER NOT NULL DEFAULT 0 CHECK (renewal_invoices IN (0, 1)),
      blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX customers_username ON customers (username COLLATE NOCASE);
    CREATE INDEX customers_phone ON customers (phone);

    CREATE TABLE kv (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
  `,
};
