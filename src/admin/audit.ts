import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';

/**
 * Records an admin action in the audit table. `detail` is JSON and never holds personal data
 * (names, usernames, phones): only ids, plans, dates and counts, so /forget leaves nothing behind.
 */
export function audit(db: Db, actor: number, action: string, detail: Record<string, unknown>, now: number): void {
  prepared(db, 'INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)').run(now, actor, action, JSON.stringify(detail));
}
