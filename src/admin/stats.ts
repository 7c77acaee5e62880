import { DAY } from '../catalog/duration.js';
import { formatDateTime, formatMoney, formatStars } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import { fromLocal, toLocal } from '../catalog/time-zone.js';
import type { Catalog, TextInput } from '../catalog/types.js';
import { escapeHtml } from '../bot/html.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';

export interface PlanCount {
  planId: string;
  title: string;
  count: number;
  trials: number;
}

export interface Stats {
  at: number;
  /** Active subscriptions per plan (plans no longer in the catalog too), most first. */
  activeByPlan: PlanCount[];
  /** Different people with at least one active subscription. */
  activeSubscribers: number;
  /** Tenge (Kaspi) and Telegram Stars kept apart: `amount` is tenge, `stars` is Stars, never summed. */
  revenueToday: { amount: number; stars: number; payments: number };
  revenueMonth: { amount: number; stars: number; payments: number };
  /** Monthly recurring revenue: each active paid subscription's price from its terms, per 30 days. */
  mrr: number;
  /** Paid extensions of an existing subscription (periods after its first) in the last 30 days. */
  renewals30d: number;
  /** Subscriptions that ended (expired or revoked) in the last 30 days. */
  ended30d: number;
  /** Active subscriptions whose end falls in the next 7 days. */
  endingNext7d: number;
  problems: { attention: number; orphans: number; mismatches: number; unconfirmedPaid: number };
}

/** Local midnight of today and of the 1st of this month in `timeZone`. */
export function localPeriodStarts(now: number, timeZone: string): { day: number; month: number } {
  const l = toLocal(now, timeZone);
  return {
    day: fromLocal({ ...l, hour: 0, minute: 0, second: 0 }, timeZone),
    month: fromLocal({ ...l, day: 1, hour: 0, minute: 0, second: 0 }, timeZone),
  };
}

/** The numbers behind /stats, read from the database at `now`. Pure: no side effects. */
export function collectStats(db: Db, catalog: Catalog, now: number): Stats {
  const count = (sql: string, ...params: unknown[]) => prepared(db, sql).pluck().get(...params) as number;
  const byPlan = prepared<[], { plan_id: string; terms: string; count: number; trials: number }>(
    db,
    `SELECT plan_id, max(terms) AS terms, count(*) AS count, sum(trial) AS trials
     FROM subscriptions WHERE state = 'active' GROUP BY plan_id ORDER BY count DESC, plan_id`,
  ).all();
  const activeByPlan = byPlan.map((r) => {
    const plan = catalog.plans.get(r.plan_id);
    const title = localize(plan?.title ?? (JSON.parse(r.terms) as { title: TextInput }).title, 'en', catalog.settings.defaultLanguage);
    return { planId: r.plan_id, title, count: r.count, trials: r.trials };
  });
  const starts = localPeriodStarts(now, catalog.settings.timezone);
  const revenue = (from: number) => {
    const r = prepared<[number, number], { amount: number | null; stars: number | null; payments: number }>(
      db,
      "SELECT sum(CASE WHEN currency = 'KZT' THEN amount END) AS amount, sum(CASE WHEN currency = 'XTR' THEN amount END) AS stars, count(*) AS payments FROM orders WHERE state = 'paid' AND amount > 0 AND paid_at >= ? AND paid_at <= ?",
    ).get(from, now)!;
    return { amount: r.amount ?? 0, stars: r.stars ?? 0, payments: r.payments };
  };
  const mrr = prepared(
    db,
    `SELECT coalesce(sum(CASE json_extract(terms, '$.period.unit')
                   WHEN 'months' THEN json_extract(terms, '$.price') * 1.0 / json_extract(terms, '$.period.count')
                   ELSE json_extract(terms, '$.price') * 30.0 / json_extract(terms, '$.period.count') END), 0)
     FROM subscriptions WHERE state = 'active' AND trial = 0 AND json_extract(terms, '$.period.count') > 0`,
  )
    .pluck()
    .get() as number;
  return {
    at: now,
    activeByPlan,
    activeSubscribers: count("SELECT count(DISTINCT user_id) FROM subscriptions WHERE state = 'active'"),
    revenueToday: revenue(starts.day),
    revenueMonth: revenue(starts.month),
    mrr: Math.round(mrr),
    renewals30d: count(
      `SELECT count(*) FROM subscription_periods p
       WHERE p.created_at > ? AND p.order_id IS NOT NULL
         AND EXISTS (SELECT 1 FROM subscription_periods q WHERE q.subscription_id = p.subscription_id AND q.id < p.id)`,
      now - 30 * DAY,
    ),
    ended30d: count("SELECT count(*) FROM subscriptions WHERE state = 'ended' AND ended_at > ?", now - 30 * DAY),
    endingNext7d: count("SELECT count(*) FROM subscriptions WHERE state = 'active' AND ends_at > ? AND ends_at <= ?", now, now + 7 * DAY),
    problems: {
      attention: count("SELECT count(*) FROM outbox WHERE state = 'attention'"),
      orphans: count("SELECT count(*) FROM aipay_events WHERE outcome = 'orphan'"),
      mismatches: count("SELECT count(*) FROM aipay_events WHERE outcome = 'amount_mismatch'"),
      unconfirmedPaid: count("SELECT count(*) FROM orders WHERE paid_check_at IS NOT NULL AND state != 'paid'"),
    },
  };
}

const money = (r: { amount: number; stars: number; payments: number }) =>
  `${formatMoney(r.amount)}${r.stars > 0 ? ` + ${formatStars(r.stars)}` : ''} (${r.payments} payment${r.payments === 1 ? '' : 's'})`;

/** /stats as an admin reads it (HTML). */
export function formatStats(s: Stats, catalog: Catalog): string {
  const tz = catalog.settings.timezone;
  const lines = [`<b>📊 Stats</b> — ${escapeHtml(formatDateTime(s.at, 'en', tz))} (${escapeHtml(tz)})`, ''];
  lines.push(`<b>Active subscribers: ${s.activeSubscribers}</b>`);
  if (s.activeByPlan.length === 0) lines.push('none yet');
  for (const p of s.activeByPlan) lines.push(escapeHtml(`• ${p.title} (${p.planId}): ${p.count}${p.trials ? `, of them ${p.trials} on trial` : ''}`));
  lines.push('');
  lines.push(escapeHtml(`Revenue today: ${money(s.revenueToday)}`));
  lines.push(escapeHtml(`Revenue this month: ${money(s.revenueMonth)}`));
  lines.push(escapeHtml(`MRR: ${formatMoney(s.mrr)}`));
  lines.push(escapeHtml(`Last 30 days: ${s.renewals30d} renewals, ${s.ended30d} ended`));
  lines.push(escapeHtml(`Ending in the next 7 days: ${s.endingNext7d}`));
  lines.push('');
  const p = s.problems;
  if (p.attention + p.orphans + p.mismatches + p.unconfirmedPaid === 0) {
    lines.push('Open problems: none ✅');
  } else {
    lines.push('<b>⚠️ Open problems</b>');
    if (p.attention) lines.push(`• Outbox jobs needing attention: ${p.attention}`);
    if (p.orphans) lines.push(`• Orphan payments (no matching order): ${p.orphans}`);
    if (p.mismatches) lines.push(`• Payments with a wrong amount: ${p.mismatches}`);
    if (p.unconfirmedPaid) lines.push(`• "I have paid" not confirmed: ${p.unconfirmedPaid}`);
  }
  return lines.join('\n');
}
