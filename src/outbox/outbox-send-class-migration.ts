import type { Migration } from '../storage/migrations.js';

export const outboxSendClassMigration: Migration = {
  name: 'outbox jobs carry their send class (access, admin, reminder, broadcast) and an optional batch',
  sql: `
    ALTER TABLE outbox ADD COLUMN send_class TEXT NOT NULL DEFAULT 'access'
      CHECK (send_class IN ('access', 'reply', 'admin', 'reminder', 'broadcast'));
    ALTER TABLE outbox ADD COLUMN batch TEXT;
    CREATE INDEX outbox_batch ON outbox (chat_id, batch, state) WHERE batch IS NOT NULL;
  `,
};
