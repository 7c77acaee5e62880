import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalogOrThrow } from '../../../src/app.js';
import type { Catalog } from '../../../src/catalog/types.js';
import { projectRoot } from '../../../src/project-root.js';
import { jumpTargets } from '../../../src/sandbox/playground/jump-targets.js';
import { openDatabase, type Db } from '../../../src/storage/open-database.js';

/** Almaty wall-clock time as an instant (UTC+5 all year). */
const almaty = (local: string) => Date.parse(`${local}:00+05:00`);
/** The example catalog: Asia/Almaty, reminders 3, 1 and 0 days before the end at 10:00, quiet 22:00–09:00, grace 1 day. */
const catalog: Catalog = loadCatalogOrThrow(join(projectRoot, 'catalog.example.yaml'));
const EMMA = 7_000_003;
const DMITRY = 7_000_002;
const STRANGER = 42;

let db: Db;
beforeEach(() => {
  db = openDatabase(':memory:');
  for (const [id, blocked] of [[EMMA, 0], [DMITRY, 0], [STRANGER, 0]] as const) {
    db.prepare('INSERT INTO customers (user_id, first_name, blocked, created_at, updated_at) VALUES (?, ?, ?, 0, 0)').run(id, `User${id}`, blocked);
  }
});
afterEach(() => db.close());

function subscribe(userId: number, endsAt: number, o: { state?: 'active' | 'ended'; plan?: string } = {}): number {
  return Number(
    db
      .prepare("INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, created_at, updated_at) VALUES (?, ?, '{}', 0, ?, ?, 0, 0)")
      .run(userId, o.plan ?? 'monthly', endsAt, o.state ?? 'active').lastInsertRowid,
  );
}
const handle = (subscriptionId: number, endsAt: number, offset: number) =>
  db.prepare("INSERT INTO reminders (subscription_id, ends_at, offset_days, state, at) VALUES (?, ?, ?, 'sent', 0)").run(subscriptionId, endsAt, offset);
const at = (t: { at: number } | null) => t?.at ?? null;

describe('where the playground clock can jump', () => {
  it('has nowhere to jump without an active subscription of a simulated user', () => {
    subscribe(EMMA, almaty('2027-03-01T10:00'), { state: 'ended' });
    subscribe(STRANGER, almaty('2027-03-01T10:00'));
    expect(jumpTargets(db, catalog, [EMMA, DMITRY], almaty('2027-01-30T10:00'))).toEqual({ reminder: null, end: null, removal: null });
  });

  it('finds the 3-day reminder, the end and the end + 1 day grace of a month bought on 30 January', () => {
    const end = almaty('2027-02-28T10:01');
    subscribe(EMMA, end);
    const t = jumpTargets(db, catalog, [EMMA], almaty('2027-01-30T10:01'));
    expect(t.reminder).toEqual({ at: almaty('2027-02-25T10:00'), userId: EMMA, planId: 'monthly' });
    expect(at(t.end)).toBe(end);
    expect(at(t.removal)).toBe(almaty('2027-03-01T10:01'));
  });

  it('skips the reminders already sent or skipped for the current end, and keeps those of an earlier end aside', () => {
    const end = almaty('2027-01-04T10:00');
    const id = subscribe(EMMA, end);
    handle(id, end, 3);
    handle(id, almaty('2026-12-04T10:00'), 1);
    expect(at(jumpTargets(db, catalog, [EMMA], almaty('2027-01-01T10:05')).reminder)).toBe(almaty('2027-01-03T10:00'));
    handle(id, end, 1);
    handle(id, end, 0);
    expect(jumpTargets(db, catalog, [EMMA], almaty('2027-01-03T10:05')).reminder).toBeNull();
  });

  it('takes a reminder that is already due as now, and one at a quiet hour at the end of the quiet hours', () => {
    const now = almaty('2027-02-27T12:00');
    subscribe(EMMA, almaty('2027-03-01T10:00'));
    expect(at(jumpTargets(db, catalog, [EMMA], now).reminder)).toBe(now);
    const night = almaty('2027-02-27T23:00');
    expect(at(jumpTargets(db, catalog, [EMMA], night).reminder)).toBe(almaty('2027-02-28T09:00'));
  });

  it('finds no reminder for a subscription that ends before the quiet hours are over on its last day', () => {
    const end = almaty('2027-03-01T08:30');
    const id = subscribe(EMMA, end);
    handle(id, end, 3);
    handle(id, end, 1);
    expect(jumpTargets(db, catalog, [EMMA], almaty('2027-02-28T23:00')).reminder).toBeNull();
  });

  it('sends no reminder to a customer who blocked the bot, but still ends and removes them', () => {
    db.prepare('UPDATE customers SET blocked = 1 WHERE user_id = ?').run(EMMA);
    subscribe(EMMA, almaty('2026-12-31T10:00'));
    const t = jumpTargets(db, catalog, [EMMA], almaty('2026-12-04T10:00'));
    expect(t.reminder).toBeNull();
    expect(at(t.end)).toBe(almaty('2026-12-31T10:00'));
    expect(at(t.removal)).toBe(almaty('2027-01-01T10:00'));
  });

  it('keeps a subscription in its grace period for the removal only, and a removal already due as now', () => {
    subscribe(EMMA, almaty('2027-02-28T10:00'));
    expect(jumpTargets(db, catalog, [EMMA], almaty('2027-02-28T18:00'))).toMatchObject({ reminder: null, end: null, removal: { at: almaty('2027-03-01T10:00') } });
    const late = almaty('2027-03-01T11:00');
    expect(at(jumpTargets(db, catalog, [EMMA], late).removal)).toBe(late);
  });

  it('picks the soonest among the simulated customers', () => {
    subscribe(EMMA, almaty('2027-03-01T10:00'));
    subscribe(DMITRY, almaty('2027-02-28T15:00'), { plan: 'yearly' });
    const t = jumpTargets(db, catalog, [EMMA, DMITRY], almaty('2027-01-30T10:00'));
    expect(t.reminder).toEqual({ at: almaty('2027-02-25T10:00'), userId: DMITRY, planId: 'yearly' });
    expect(t.end).toEqual({ at: almaty('2027-02-28T15:00'), userId: DMITRY, planId: 'yearly' });
    expect(t.removal).toEqual({ at: almaty('2027-03-01T15:00'), userId: DMITRY, planId: 'yearly' });
  });
});
