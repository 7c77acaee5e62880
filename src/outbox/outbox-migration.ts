import type { Migration } from '../storage/migrations.js';

export const outboxMigration: Migration = {
  name: 'outbox of Telegram side effects',
  sql: `
    CREATE TABLE outbox (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      payload TEXT NOT NULL,
      chat_id INTEGER,
      dedupe_key TEXT UNIQUE,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'attention', 'cancelled')),
      attempts INTEGER NOT NULL DEFAULT 0,
      run_after INTEGER NOT NULL,
      lease_until INTEGER,
      progress TEXT NOT NULL DEFAULT '{}',
      last_error TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (state, run_after);
  `,
};
