import type { Migration } from '../storage/migrations.js';

export const inboxMigration: Migration = {
  name: 'durable inbox of Telegram updates and the journal of what handling them sent',
  sql: `
    CREATE TABLE inbox (
      update_id INTEGER PRIMARY KEY,
      chat_key TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
      attempts INTEGER NOT NULL DEFAULT 0,
      received_at INTEGER NOT NULL,
      handled_at INTEGER
    ) STRICT;
    CREATE INDEX inbox_pending ON inbox (state, update_id);
    CREATE TABLE sent_journal (
      update_id INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      method TEXT NOT NULL,
      result TEXT NOT NULL,
      PRIMARY KEY (update_id, seq)
    ) STRICT, WITHOUT ROWID;
  `,
};
