import { cancelReminders } from '../access/extend-subscription.js';
import { addMonths, daysInMonth, fromLocal, localDate } from '../catalog/time-zone.js';
import type { Catalog, Plan } from '../catalog/types.js';
import { termsOf } from '../payments/terms.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';
import { audit } from './audit.js';
import { parseCsv } from './csv.js';

export interface ImportProblem {
  /** The line in the file (the header is row 1). */
  row: number;
  message: string;
}

export interface ImportRow {
  row: number;
  userId: number;
  plan: Plan;
  endDate: string;
  /** end_date at 23:59 in the catalog's zone. */
  endsAt: number;
}

export interface ImportCheck {
  rows: ImportRow[];
  problems: ImportProblem[];
  /** Data rows in the file (valid or not). */
  total: number;
}

/** More rows than this in one file are refused (split the file). */
export const MAX_IMPORT_ROWS = 20_000;

/** An end date further ahead than this is a mistyped year (9999-12-31, 2206-…), not a membership. */
export const MAX_YEARS_AHEAD = 10;

/** An end date before this year is a mistyped year (0026-…, 1926-…) too. */
const MIN_YEAR = 2000;

const COLUMNS = { telegram_id: ['telegram_id', 'user_id', 'telegram id', 'id'], plan: ['plan', 'plan_id'], end_date: ['end_date', 'end date', 'ends', 'until'] } as const;

/**
 * Reads and checks a members file: a header naming telegram_id, plan and end_date (any order,
 * other columns ignored; `,` or `;` separated), then one row per member. Every row is checked (id,
 * plan, date, not past, at most MAX_YEARS_AHEAD years ahead, not repeated) and every problem
 * reported with its row number.
 */
export function checkImport(csv: string, catalog: Catalog, now: number): ImportCheck {
  const records = parseCsv(csv);
  const problems: ImportProblem[] = [];
  const header = records[0];
  if (!header) return { rows: [], problems: [{ row: 1, message: 'the file is empty' }], total: 0 };
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const index = (aliases: readonly string[]) => names.findIndex((n) => aliases.includes(n));
  const col = { id: index(COLUMNS.telegram_id), plan: index(COLUMNS.plan), end: index(COLUMNS.end_date) };
  if (col.id < 0 || col.plan < 0 || col.end < 0) {
    const missing = (['telegram_id', 'plan', 'end_date'] as const).filter((_, i) => [col.id, col.plan, col.end][i]! < 0);
    return {
      rows: [],
      problems: [{ row: header.row, message: `the first row must name the columns telegram_id, plan, end_date — missing ${missing.join(', ')} (found: ${header.fields.join(', ') || 'nothing'})` }],
      total: Math.max(0, records.length - 1),
    };
  }
  const data = records.slice(1);
  if (data.length > MAX_IMPORT_ROWS) {
    return { rows: [], problems: [{ row: data[MAX_IMPORT_ROWS]!.row, message: `too many rows: at most ${MAX_IMPORT_ROWS} per file — split it` }], total: data.length };
  }
  const tz = catalog.settings.timezone;
  const planIds = [...catalog.plans.keys()];
  const seen = new Map<string, number>();
  const rows: ImportRow[] = [];
  // YYYY-MM-DD strings compare as dates.
  const latest = localDate(addMonths(now, 12 * MAX_YEARS_AHEAD, tz), tz);
  for (const r of data) {
    const id = (r.fields[col.id] ?? '').trim();
    const planText = (r.fields[col.plan] ?? '').trim();
    const date = (r.fields[col.end] ?? '').trim();
    const rowProblems: string[] = [];

    let userId: number | undefined;
    if (id === '') rowProblems.push('telegram_id is empty');
    else if (!/^\d{1,16}$/.test(id) || Number(id) <= 0 || !Number.isSafeInteger(Number(id))) rowProblems.push(`telegram_id "${id}" is not a Telegram user id (a positive whole number)`);
    else userId = Number(id);

    const plan = catalog.plans.get(planText) ?? [...catalog.plans.values()].find((p) => p.id.toLowerCase() === planText.toLowerCase());
    if (planText === '') rowProblems.push('plan is empty');
    else if (!plan) rowProblems.push(`plan "${planText}" is not in the catalog (plans: ${planIds.join(', ') || 'none'})`);

    let endsAt: number | undefined;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    if (date === '') rowProblems.push('end_date is empty');
    else if (!m) rowProblems.push(`end_date "${date}" is not a date written YYYY-MM-DD`);
    else {
      const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) rowProblems.push(`end_date "${date}" is not a real date`);
      else if (year < MIN_YEAR) rowProblems.push(`end_date ${date} is before ${MIN_YEAR} — check the year`);
      else if (date > latest) rowProblems.push(`end_date ${date} is more than ${MAX_YEARS_AHEAD} years ahead — check the year; write a date up to ${latest}`);
      else {
        endsAt = fromLocal({ year, month, day, hour: 23, minute: 59, second: 0 }, tz);
        if (endsAt <= now) rowProblems.push(`end_date ${date} is in the past`);
      }
    }

    if (userId !== undefined && plan) {
      const key = `${userId}:${plan.id}`;
      const first = seen.get(key);
      if (first !== undefined) rowProblems.push(`telegram_id ${userId} with plan ${plan.id} is already on row ${first}`);
      else seen.set(key, r.row);
    }
    if (rowProblems.length > 0) problems.push({ row: r.row, message: rowProblems.join('; ') });
    else rows.push({ row: r.row, userId: userId!, plan: plan!, endDate: date, endsAt: endsAt! });
  }
  return { rows, problems, total: data.length };
}

export interface ImportOutcome {
  created: number;
  extended: number;
  unchanged: number;
  newCustomers: number;
}

/**
 * Adopts valid rows in one transaction: an unknown customer is added; a member without an active
 * subscription to the plan gets one ending at end_date 23:59; an active one ending earlier is
 * extended to it; one ending later is left alone. Importing the same file again changes nothing.
 * Nobody is messaged or let into a channel: these people paid elsewhere and are already in.
 */
export function applyImport(db: Db, rows: readonly ImportRow[], adminId: number, now: number, problems: number): ImportOutcome {
  return db
    .transaction((): ImportOutcome => {
      const out: ImportOutcome = { created: 0, extended: 0, unchanged: 0, newCustomers: 0 };
      for (const r of rows) {
        out.newCustomers += prepared(db, 'INSERT INTO customers (user_id, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING').run(r.userId, now, now).changes;
        const active = prepared<[number, string], { id: number; ends_at: number }>(db, "SELECT id, ends_at FROM subscriptions WHERE user_id = ? AND plan_id = ? AND state = 'active'").get(
          r.userId,
          r.plan.id,
        );
        if (!active) {
          const id = Number(
            prepared(db, "INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, trial, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', 0, ?, ?)").run(
              r.userId,
              r.plan.id,
              JSON.stringify(termsOf(r.plan)),
              now,
              r.endsAt,
              now,
              now,
            ).lastInsertRowid,
          );
          prepared(db, 'INSERT INTO subscription_periods (subscription_id, order_id, from_at, to_at, created_at) VALUES (?, NULL, ?, ?, ?)').run(id, now, r.endsAt, now);
          out.created++;
        } else if (active.ends_at < r.endsAt) {
          prepared(db, 'UPDATE subscriptions SET ends_at = ?, updated_at = ? WHERE id = ?').run(r.endsAt, now, active.id);
          prepared(db, 'INSERT INTO subscription_periods (subscription_id, order_id, from_at, to_at, created_at) VALUES (?, NULL, ?, ?, ?)').run(active.id, active.ends_at, r.endsAt, now);
          cancelReminders(db, active.id, now);
          out.extended++;
        } else {
          out.unchanged++;
        }
      }
      audit(db, adminId, 'import', { rows: rows.length, problems, ...out }, now);
      return out;
    })
    .immediate();
}
