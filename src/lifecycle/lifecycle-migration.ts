import type { Migration } from '../storage/migrations.js';

export const lifecycleMigration: Migration = {
  name: 'reminders sent or skipped, per subscription end and offset',
  sql: `
    CREATE TABLE reminders (
      subscription_id INTEGER NOT NULL REFERENCES subscriptions (id),
      ends_at INTEGER NOT NULL,
      offset_days INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('sent', 'skipped')),
      at INTEGER NOT NULL,
      PRIMARY KEY (subscription_id, ends_at, offset_days)
    ) STRICT;
  `,
};
