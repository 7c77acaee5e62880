import type { Catalog } from '../catalog/types.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';

/**
 * Whether `userId` may be in Telegram chat `chatId` at `now`: an active subscription whose paid
 * terms include that chat (within the grace period after its end), or a lifetime purchase of it.
 * Decided by the chat ids frozen in the terms at checkout, so renaming or removing the channel in
 * the catalog changes nothing for those who paid.
 */
export function isEntitled(db: Db, catalog: Catalog, userId: number, chatId: number, now: number): boolean {
  const sub = prepared(db, 
      `SELECT 1 FROM subscriptions s, json_each(s.terms, '$.chats') c
       WHERE s.user_id = ? AND s.state = 'active' AND s.ends_at + ? > ? AND json_extract(c.value, '$.chatId') = ? LIMIT 1`,
    )
    .get(userId, catalog.settings.graceMs, now, chatId);
  if (sub) return true;
  const lifetime = prepared(db, 
      `SELECT 1 FROM purchases p, json_each(p.terms, '$.deliver.chats') c
       WHERE p.user_id = ? AND json_extract(c.value, '$.chatId') = ? LIMIT 1`,
    )
    .get(userId, chatId);
  return lifetime !== undefined;
}
