import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectStats, formatStats } from '../../src/admin/stats.js';
import { termsOf } from '../../src/payments/terms.js';
import { addCustomerRow, adminFixture, type AdminFixture } from './fixture.js';

const DAY = 86_400_000;
const almaty = (local: string) => Date.parse(`${local}:00+05:00`);
const NOW = almaty('2026-03-15T10:00');

let f: AdminFixture;
let orderSeq = 0;

function order(o: { userId: number; amount: number; state?: string; paidAt?: number; paidCheckAt?: number; createdAt?: number }): number {
  const createdAt = o.createdAt ?? o.paidAt ?? NOW;
  return Number(
    f.db
      .prepare(
        `INSERT INTO orders (external_id, user_id, item_kind, item_id, terms, list_price, amount, language, state, paid_via, paid_check_at, created_at, updated_at, paid_at)
         VALUES (?, ?, 'plan', 'monthly', '{}', ?, ?, 'en', ?, ?, ?, ?, ?, ?)`,
      )
      .run(`sb_${++orderSeq}`, o.userId, o.amount, o.amount, o.state ?? 'paid', (o.state ?? 'paid') === 'paid' ? 'webhook' : null, o.paidCheckAt ?? null, createdAt, createdAt, o.paidAt ?? null)
      .lastInsertRowid,
  );
}

function subscription(userId: number, planId: string, o: { endsAt: number; state?: string; endedAt?: number; trial?: boolean }): number {
  return Number(
    f.db
      .prepare('INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, ended_at, trial, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, 0, 0)')
      .run(userId, planId, JSON.stringify(termsOf(f.catalog.plans.get(planId)!)), o.endsAt, o.state ?? 'active', o.endedAt ?? null, o.trial ? 1 : 0).lastInsertRowid,
  );
}

function period(subscriptionId: number, orderId: number | null, createdAt: number): void {
  f.db.prepare('INSERT INTO subscription_periods (subscription_id, order_id, from_at, to_at, created_at) VALUES (?, ?, 0, 0, ?)').run(subscriptionId, orderId, createdAt);
}

beforeEach(() => {
  f = adminFixture(NOW);
  for (const id of [1, 2, 3, 4, 5]) addCustomerRow(f.db, id);
});
afterEach(() => f.close());

describe('/stats numbers', () => {
  it('counts active subscribers per plan and MRR from their terms, trials not paying', () => {
    subscription(1, 'monthly', { endsAt: NOW + 20 * DAY }); // 4 900 a month
    subscription(2, 'bundle', { endsAt: NOW + 20 * DAY }); // 12 000 per 30 days
    subscription(2, 'vip', { endsAt: NOW + 200 * DAY }); // 99 000 a year → 8 250
    subscription(3, 'monthly', { endsAt: NOW + 5 * DAY, trial: true });
    subscription(4, 'monthly', { endsAt: NOW - DAY, state: 'ended', endedAt: NOW - DAY });
    const s = collectStats(f.db, f.catalog, NOW);
    expect(s.activeByPlan).toEqual([
      { planId: 'monthly', title: 'Monthly', count: 2, trials: 1 },
      { planId: 'bundle', title: 'Channel + chat', count: 1, trials: 0 },
      { planId: 'vip', title: 'VIP', count: 1, trials: 0 },
    ]);
    expect(s.activeSubscribers).toBe(3);
    expect(s.mrr).toBe(4900 + 12000 + 8250);
    expect(s.endingNext7d).toBe(1);
  });

  it('sums revenue by local dates in the catalog time zone, not UTC', () => {
    order({ userId: 1, amount: 4900, paidAt: almaty('2026-03-15T00:10') }); // today in Almaty, still the 14th in UTC
    order({ userId: 1, amount: 1000, paidAt: almaty('2026-03-14T23:50') }); // yesterday
    order({ userId: 2, amount: 12000, paidAt: almaty('2026-03-01T00:30') }); // this month, February in UTC
    order({ userId: 2, amount: 7000, paidAt: almaty('2026-02-28T23:30') }); // last month
    order({ userId: 3, amount: 4900, state: 'invoiced' }); // not paid
    const s = collectStats(f.db, f.catalog, NOW);
    expect(s.revenueToday).toEqual({ amount: 4900, stars: 0, payments: 1 });
    expect(s.revenueMonth).toEqual({ amount: 4900 + 1000 + 12000, stars: 0, payments: 3 });
  });

  it('counts renewals (paid periods after the first) and endings over the last 30 days', () => {
    const a = subscription(1, 'monthly', { endsAt: NOW + 20 * DAY });
    period(a, order({ userId: 1, amount: 4900, paidAt: NOW - 40 * DAY }), NOW - 40 * DAY);
    period(a, order({ userId: 1, amount: 4900, paidAt: NOW - 5 * DAY }), NOW - 5 * DAY); // a renewal
    period(a, null, NOW - 2 * DAY); // an admin's gift: not a renewal
    const b = subscription(2, 'monthly', { endsAt: NOW + 20 * DAY });
    period(b, order({ userId: 2, amount: 4900, paidAt: NOW - 3 * DAY }), NOW - 3 * DAY); // a first purchase
    subscription(3, 'monthly', { endsAt: NOW - 10 * DAY, state: 'ended', endedAt: NOW - 10 * DAY });
    subscription(4, 'monthly', { endsAt: NOW - 40 * DAY, state: 'ended', endedAt: NOW - 40 * DAY });
    const s = collectStats(f.db, f.catalog, NOW);
    expect(s.renewals30d).toBe(1);
    expect(s.ended30d).toBe(1);
  });

  it('lists open problems: jobs needing attention, orphan and mismatched payments, unconfirmed "I have paid"', () => {
    f.db.prepare("INSERT INTO outbox (kind, payload, state, run_after, created_at, updated_at) VALUES ('message', '{}', 'attention', 0, 0, 0)").run();
    const event = f.db.prepare("INSERT INTO aipay_events (invoice_id, event, body, outcome, received_at) VALUES (?, 'invoice.paid', '{}', ?, 0)");
    event.run('inv_1', 'orphan');
    event.run('inv_2', 'orphan');
    event.run('inv_3', 'amount_mismatch');
    event.run('inv_4', 'granted');
    order({ userId: 1, amount: 4900, state: 'invoiced', paidCheckAt: NOW - 600_000 });
    order({ userId: 2, amount: 4900, paidAt: NOW - 600_000, paidCheckAt: NOW - 900_000 });
    const s = collectStats(f.db, f.catalog, NOW);
    expect(s.problems).toEqual({ attention: 1, orphans: 2, mismatches: 1, unconfirmedPaid: 1 });
    const text = formatStats(s, f.catalog);
    expect(text).toContain('Outbox jobs needing attention: 1');
    expect(text).toContain('Orphan payments (no matching order): 2');
    expect(text).toContain('"I have paid" not confirmed: 1');
  });

  it('says there are no problems when there are none', () => {
    expect(formatStats(collectStats(f.db, f.catalog, NOW), f.catalog)).toContain('Open problems: none');
  });
});
