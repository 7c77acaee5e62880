import type { VersionedStateStorage } from '@grammyjs/conversations';
import type { Db } from '../storage/open-database.js';
import type { Clock } from '../clock.js';

/**
 * Conversation state in the kv table, so a checkout survives a restart. Keys are prefixed by
 * the plugin (see create-bot.ts); values are the plugin's versioned JSON.
 */
export function sqliteConversationStorage<S>(db: Db, clock: Clock): VersionedStateStorage<string, S> {
  const read = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
  const write = db.prepare(
    'INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  const remove = db.prepare('DELETE FROM kv WHERE key = ?');
  return {
    read: (key) => {
      const row = read.get(key);
      return row ? (JSON.parse(row.value) as ReturnType<VersionedStateStorage<string, S>['read']> & object) : undefined;
    },
    write: (key, state) => {
      write.run(key, JSON.stringify(state), clock.now());
    },
    delete: (key) => {
      remove.run(key);
    },
  };
}
