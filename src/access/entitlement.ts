import type { Catalog } from '../catalog/types.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';

/**
 * Whether `userId` may be in Telegram chat `chatId` at `now`: an active subscription whose paid
 * terms include a catalog channel with that chat id (within the grace period after its end), or
 * a lifetime purchase of one.
 */
export function isEntitled(db: Db, catalog: Catalog, userId: number, chatId: number, now: number): boolean {
  const channelIds = [...catalog.channels.values()].filter((c) => c.chatId === chatId).map((c) => c.id);
  if (channelIds.length === 0) return false;
  const ids = JSON.stringify(channelIds);
  const sub = prepared(db, 
      `SELECT 1 FROM subscriptions s, json_each(s.terms, '$.channels') c
       WHERE s.user_id = ? AND s.state = 'active' AND s.ends_at + ? > ? AND c.value IN (SELECT value FROM json_each(?)) LIMIT 1`,
    )
    .get(userId, catalog.settings.graceMs, now, ids);
  if (sub) return true;
  const lifetime = prepared(db, 
      `SELECT 1 FROM purchases p, json_each(p.terms, '$.deliver.channels') c
       WHERE p.user_id = ? AND c.value IN (SELECT value FROM json_each(?)) LIMIT 1`,
    )
    .get(userId, ids);
  return lifetime !== undefined;
}
