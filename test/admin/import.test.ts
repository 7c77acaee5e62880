import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyImport, checkImport } from '../../src/admin/import.js';
import { ADMIN_ID } from '../support/harness.js';
import { addCustomerRow, adminFixture, type AdminFixture } from './fixture.js';

const almaty = (local: string) => Date.parse(`${local}:00+05:00`);
const NOW = almaty('2026-03-15T10:00');

let f: AdminFixture;
beforeEach(() => {
  f = adminFixture(NOW);
});
afterEach(() => f.close());

const subs = () => f.db.prepare('SELECT user_id, plan_id, ends_at, state FROM subscriptions ORDER BY user_id, plan_id').all();

describe('checking an import file', () => {
  it('reports every problem with its row number and keeps the good rows', () => {
    const csv = [
      'telegram_id,plan,end_date',
      '101,monthly,2026-12-31',
      'abc,monthly,2026-12-31',
      '102,gold,2026-12-31',
      '103,monthly,31.12.2026',
      '104,monthly,2026-02-30',
      '105,monthly,2026-03-14',
      '',
      '101,monthly,2027-01-31',
      '-5,bundle,',
      '106,VIP,2026-03-15',
    ].join('\n');
    const check = checkImport(csv, f.catalog, NOW);
    expect(check.total).toBe(9);
    expect(check.problems).toEqual([
      { row: 3, message: 'telegram_id "abc" is not a Telegram user id (a positive whole number)' },
      { row: 4, message: 'plan "gold" is not in the catalog (plans: monthly, bundle, vip)' },
      { row: 5, message: 'end_date "31.12.2026" is not a date written YYYY-MM-DD' },
      { row: 6, message: 'end_date "2026-02-30" is not a real date' },
      { row: 7, message: 'end_date 2026-03-14 is in the past' },
      { row: 9, message: 'telegram_id 101 with plan monthly is already on row 2' },
      { row: 10, message: 'telegram_id "-5" is not a Telegram user id (a positive whole number); end_date is empty' },
    ]);
    expect(check.rows.map((r) => [r.row, r.userId, r.plan.id, r.endsAt])).toEqual([
      [2, 101, 'monthly', almaty('2026-12-31T23:59')],
      [11, 106, 'vip', almaty('2026-03-15T23:59')], // today still counts: it ends tonight
    ]);
  });

  it('refuses an end date with a mistyped year: more than 10 years ahead, or before 2000, saying what to write', () => {
    const csv = [
      'telegram_id,plan,end_date',
      '101,monthly,9999-12-31',
      '102,monthly,2036-03-15', // exactly ten years ahead: still fine
      '103,monthly,2036-03-16',
      '104,monthly,0026-12-31',
      '105,monthly,1999-12-31',
      '106,monthly,2000-01-01',
    ].join('\n');
    const check = checkImport(csv, f.catalog, NOW);
    expect(check.problems).toEqual([
      { row: 2, message: 'end_date 9999-12-31 is more than 10 years ahead — check the year; write a date up to 2036-03-15' },
      { row: 4, message: 'end_date 2036-03-16 is more than 10 years ahead — check the year; write a date up to 2036-03-15' },
      { row: 5, message: 'end_date 0026-12-31 is before 2000 — check the year' },
      { row: 6, message: 'end_date 1999-12-31 is before 2000 — check the year' },
      { row: 7, message: 'end_date 2000-01-01 is in the past' },
    ]);
    expect(check.rows.map((r) => [r.row, r.userId, r.endsAt])).toEqual([[3, 102, almaty('2036-03-15T23:59')]]);
  });

  it('reads ; separated files with the columns in any order, other columns ignored', () => {
    const check = checkImport('\ufeffPlan;Note;End_Date;Telegram_ID\r\nbundle;"paid; cash";2026-06-01;777\r\n', f.catalog, NOW);
    expect(check.problems).toEqual([]);
    expect(check.rows).toMatchObject([{ userId: 777, endDate: '2026-06-01' }]);
    expect(check.rows[0]!.plan.id).toBe('bundle');
  });

  it('asks for a header naming the columns when it is missing', () => {
    const check = checkImport('101,monthly,2026-12-31\n102,monthly,2026-12-31', f.catalog, NOW);
    expect(check.rows).toEqual([]);
    expect(check.problems).toHaveLength(1);
    expect(check.problems[0]!.row).toBe(1);
    expect(check.problems[0]!.message).toContain('must name the columns telegram_id, plan, end_date');
  });
});

describe('applying an import', () => {
  it('creates customers and active subscriptions, and changes nothing the second time', () => {
    addCustomerRow(f.db, 201, { firstName: 'Known' });
    const csv = 'telegram_id,plan,end_date\n201,monthly,2026-12-31\n202,bundle,2026-05-01\n';
    const first = applyImport(f.db, checkImport(csv, f.catalog, NOW).rows, ADMIN_ID, NOW, 0);
    expect(first).toEqual({ created: 2, extended: 0, unchanged: 0, newCustomers: 1 });
    const after = subs();
    expect(after).toEqual([
      { user_id: 201, plan_id: 'monthly', ends_at: almaty('2026-12-31T23:59'), state: 'active' },
      { user_id: 202, plan_id: 'bundle', ends_at: almaty('2026-05-01T23:59'), state: 'active' },
    ]);
    const second = applyImport(f.db, checkImport(csv, f.catalog, NOW).rows, ADMIN_ID, NOW + 1000, 0);
    expect(second).toEqual({ created: 0, extended: 0, unchanged: 2, newCustomers: 0 });
    expect(subs()).toEqual(after);
    expect(f.db.prepare('SELECT count(*) FROM subscription_periods').pluck().get()).toBe(2);
    expect(f.db.prepare('SELECT count(*) FROM customers').pluck().get()).toBe(2);
    expect(f.db.prepare("SELECT count(*) FROM audit WHERE action = 'import' AND actor = ?").pluck().get(ADMIN_ID)).toBe(2);
    expect(f.db.prepare('SELECT count(*) FROM outbox').pluck().get()).toBe(0); // nobody is messaged
  });

  it('extends an active subscription that ends earlier, and never shortens one that ends later', () => {
    applyImport(f.db, checkImport('telegram_id,plan,end_date\n301,monthly,2026-06-01\n302,monthly,2026-09-01', f.catalog, NOW).rows, ADMIN_ID, NOW, 0);
    const out = applyImport(f.db, checkImport('telegram_id,plan,end_date\n301,monthly,2026-07-01\n302,monthly,2026-08-01', f.catalog, NOW).rows, ADMIN_ID, NOW, 0);
    expect(out).toEqual({ created: 0, extended: 1, unchanged: 1, newCustomers: 0 });
    expect(subs()).toMatchObject([{ user_id: 301, ends_at: almaty('2026-07-01T23:59') }, { user_id: 302, ends_at: almaty('2026-09-01T23:59') }]);
  });
});
