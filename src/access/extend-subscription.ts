import { DAY } from '../catalog/duration.js';
import { addMonths } from '../catalog/time-zone.js';
import type { Period } from '../catalog/types.js';
import type { Terms } from '../payments/terms.js';
import type { Db } from '../storage/open-database.js';
import { prepared } from '../storage/prepared.js';

/** End of a period that starts at `from`: days are 24 h each; months follow the calendar in the catalog's zone. */
export function addPeriod(from: number, period: Period, timeZone: string): number {
  return period.unit === 'days' ? from + period.count * DAY : addMonths(from, period.count, timeZone);
}

export interface Extended {
  subscriptionId: number;
  /** The subscription_periods row this call recorded. */
  periodId: number;
  from: number;
  to: number;
  /** An active subscription was extended (rather than a new one started). */
  extended: boolean;
}

/**
 * Starts a subscription, or extends the active one from its current end while access lasts (a
 * subscription past its end and grace, not yet swept by the expiry job, starts again from now),
 * records the period (with the order that paid for it, if any: an order extends once), and
 * cancels reminders about the old end. Synchronous: call inside the caller's transaction.
 */
export function extendSubscription(
  db: Db,
  s: { userId: number; terms: Extract<Terms, { kind: 'plan' }>; orderId: number | null; trial?: boolean; graceMs: number; timeZone: string; now: number; days?: number },
): Extended {
  const { userId, terms, now } = s;
  const active = prepared<[number, string], { id: number; ends_at: number }>(db, "SELECT id, ends_at FROM subscriptions WHERE user_id = ? AND plan_id = ? AND state = 'active'").get(
    userId,
    terms.id,
  );
  const from = active && active.ends_at + s.graceMs > now ? active.ends_at : now;
  const to = s.days !== undefined ? from + s.days * DAY : addPeriod(from, terms.period, s.timeZone);
  let subscriptionId: number;
  if (active) {
    prepared(db, 'UPDATE subscriptions SET ends_at = ?, terms = ?, trial = 0, updated_at = ? WHERE id = ?').run(to, JSON.stringify(terms), now, active.id);
    subscriptionId = active.id;
    // Reminders about the old end are moot now.
    cancelReminders(db, active.id, now);
  } else {
    subscriptionId = Number(
      prepared(db, "INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, trial, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)").run(
        userId,
        terms.id,
        JSON.stringify(terms),
        now,
        to,
        s.trial ? 1 : 0,
        now,
        now,
      ).lastInsertRowid,
    );
  }
  const periodId = Number(
    prepared(db, 'INSERT INTO subscription_periods (subscription_id, order_id, from_at, to_at, created_at) VALUES (?, ?, ?, ?, ?)').run(subscriptionId, s.orderId, from, to, now).lastInsertRowid,
  );
  return { subscriptionId, periodId, from, to, extended: active !== undefined };
}

/** Reminders still waiting in the outbox about a subscription whose end has changed are moot. */
export function cancelReminders(db: Db, subscriptionId: number, now: number): void {
  prepared(db, "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE state = 'pending' AND dedupe_key LIKE ?").run(now, `reminder:${subscriptionId}:%`);
}
