import type { Catalog } from '../../catalog/types.js';
import { afterQuietHours } from '../../lifecycle/local-time.js';
import { reminderDueAt, type ReminderRules } from '../../lifecycle/plan-reminder.js';
import type { Db } from '../../storage/open-database.js';
import { prepared } from '../../storage/prepared.js';

/** What the playground's clock can jump to. */
export type JumpTo = 'reminder' | 'end' | 'removal';
export const JUMPS: readonly JumpTo[] = ['reminder', 'end', 'removal'];

/** The soonest instant of one kind, and whose subscription it belongs to. */
export interface JumpTarget {
  at: number;
  userId: number;
  planId: string;
}

interface Row {
  user_id: number;
  plan_id: string;
  ends_at: number;
  blocked: number;
  handled: string | null;
}

/**
 * The soonest upcoming reminder, subscription end and removal (end + grace) among the active
 * subscriptions of `userIds`, as the reminders and expiry jobs will see them; null when there is
 * none. A reminder or removal already due (the next job run sends or performs it) counts as `now`.
 * Pure in the rows, the catalog and `now`.
 */
export function jumpTargets(db: Db, catalog: Catalog, userIds: readonly number[], now: number): Record<JumpTo, JumpTarget | null> {
  const s = catalog.settings;
  const rules: ReminderRules = { daysBeforeEnd: s.reminders.daysBeforeEnd, time: s.reminders.time, quietHours: s.reminders.quietHours, timeZone: s.timezone };
  const rows = prepared<[string], Row>(
    db,
    `SELECT s.user_id, s.plan_id, s.ends_at, c.blocked,
            (SELECT group_concat(r.offset_days) FROM reminders r WHERE r.subscription_id = s.id AND r.ends_at = s.ends_at) AS handled
     FROM subscriptions s JOIN customers c ON c.user_id = s.user_id
     WHERE s.state = 'active' AND s.user_id IN (SELECT value FROM json_each(?))`,
  ).all(JSON.stringify(userIds));
  const targets: Record<JumpTo, JumpTarget | null> = { reminder: null, end: null, removal: null };
  const offer = (to: JumpTo, at: number, r: Row) => {
    const current = targets[to];
    if (!current || at < current.at) targets[to] = { at, userId: r.user_id, planId: r.plan_id };
  };
  for (const r of rows) {
    offer('removal', Math.max(now, r.ends_at + s.graceMs), r);
    if (r.ends_at <= now) continue;
    offer('end', r.ends_at, r);
    if (r.blocked === 1) continue;
    const handled = new Set((r.handled ?? '').split(',').filter(Boolean).map(Number));
    for (const offset of s.reminders.daysBeforeEnd) {
      if (handled.has(offset)) continue;
      // The job sends nothing in quiet hours and nothing after the end (see planReminder).
      const at = afterQuietHours(Math.max(now, reminderDueAt(r.ends_at, offset, rules)), rules.quietHours, rules.timeZone);
      if (at < r.ends_at) offer('reminder', at, r);
    }
  }
  return targets;
}
