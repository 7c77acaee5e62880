import type { Catalog } from '../catalog/types.js';
import type { Db } from '../storage/open-database.js';
import { prepared } from '../storage/prepared.js';

/** Who holds a chat through the chat ids frozen in their terms. */
export interface Holders {
  /** Active subscriptions (their end, plus grace, may have passed; the expiry job has not run yet). */
  subscriptions: number;
  /** Lifetime purchases (products whose `deliver.channels` opened it). */
  purchases: number;
}

/** How many live subscriptions and lifetime purchases grant chat `chatId`. */
export function holdersOf(db: Db, chatId: number): Holders {
  const subscriptions = prepared(
    db,
    `SELECT count(DISTINCT s.id) FROM subscriptions s, json_each(s.terms, '$.chats') c
     WHERE s.state = 'active' AND json_extract(c.value, '$.chatId') = ?`,
  )
    .pluck()
    .get(chatId) as number;
  const purchases = prepared(db, `SELECT count(DISTINCT p.id) FROM purchases p, json_each(p.terms, '$.deliver.chats') c WHERE json_extract(c.value, '$.chatId') = ?`)
    .pluck()
    .get(chatId) as number;
  return { subscriptions, purchases };
}

/** "3 live subscriptions and 1 lifetime purchase". */
export function holdersPhrase(h: Holders): string {
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  const parts = [h.subscriptions > 0 && n(h.subscriptions, 'live subscription'), h.purchases > 0 && n(h.purchases, 'lifetime purchase')].filter(Boolean);
  return parts.join(' and ');
}

/**
 * What a catalog edit means for people who paid: one line for each channel of `before` whose key
 * was renamed, that was removed, or whose key now names another chat — when live subscriptions or
 * lifetime purchases hold that chat (access follows the chat ids frozen at checkout, so they keep
 * it). Empty when no paid access is concerned. For the admins and the log after a reload.
 */
export function describeChannelChanges(db: Db, before: Catalog, after: Catalog): string[] {
  const lines: string[] = [];
  for (const old of before.channels.values()) {
    const now = after.channels.get(old.id);
    if (now?.chatId === old.chatId) continue;
    const held = holdersOf(db, old.chatId);
    const total = held.subscriptions + held.purchases;
    if (total === 0) continue;
    const who = holdersPhrase(held);
    const one = total === 1;
    const renamedTo = [...after.channels.values()].find((c) => c.chatId === old.chatId);
    if (renamedTo) {
      lines.push(`channel \`${old.id}\` was renamed to \`${renamedTo.id}\` (same chat): ${who} ${one ? 'keeps its' : 'keep their'} access.`);
      continue;
    }
    const until = [
      held.subscriptions > 0 && `${held.purchases > 0 ? 'subscriptions' : 'they'} keep access until they end, and are removed then`,
      held.purchases > 0 && `${held.subscriptions > 0 ? 'lifetime purchases' : 'they'} keep it for good`,
    ]
      .filter(Boolean)
      .join('; ');
    if (now) {
      lines.push(`channel \`${old.id}\` now names another chat (${now.chatId} instead of ${old.chatId}): ${who} still ${one ? 'holds' : 'hold'} the old chat; ${until}. They are not let into the new one.`);
    } else {
      lines.push(`channel \`${old.id}\` was removed: ${who} still ${one ? 'holds' : 'hold'} it; ${until}.`);
    }
  }
  return lines;
}
