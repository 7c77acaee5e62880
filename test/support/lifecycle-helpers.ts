import { ManualClock } from '../../src/clock.js';
import { tables, type OutboxRow } from './payments-helpers.js';
import { createLogger } from '../../src/logger.js';
import { termsOf } from '../../src/payments/terms.js';
import type { EmulatorCall, ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, startHarness, type Harness, type HarnessOptions } from './harness.js';

/*
 * Helpers for the lifecycle tests (reminders, renewal invoices, expiry, stale invoices): a harness
 * on a ManualClock with the real-time cron switched off (jobs run only when a test says so),
 * customers and subscriptions written straight into SQLite, and small readers.
 */

export const ZONE = 'Asia/Almaty';
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const NBSP = '\u00a0';

/** The instant Almaty's wall clock shows `local` ("2026-12-10T15:00"); Almaty is UTC+5 all year. */
export const almaty = (local: string): number => Date.parse(`${local}:00+05:00`);

export type JobName = 'reminders' | 'expiry' | 'stale-invoices' | 'paid-checks';

export interface LifecycleHarness {
  h: Harness;
  clock: ManualClock;
  /** warn and error log lines of the app (JSON), e.g. "scheduled job failed". */
  logs: string[];
  /** Runs one scheduler job now, then waits for {@link LifecycleHarness.settle}. */
  run(job: JobName): Promise<void>;
  /**
   * Waits until every outbox job due by the manual clock was performed (or rescheduled), like
   * `worker.drain()`, except jobs for the admin chat: the worker paces each chat to one message a
   * second of real time, and the admin's set-up notices would cost every test that second.
   */
  settle(timeoutMs?: number): Promise<void>;
  /** Restarts the app on the same database (cron off again). */
  restart(): Promise<void>;
  /** Moves the clock to `at` (forward only). */
  setTime(at: number): void;
  stop(): Promise<void>;
}

/**
 * The real app with its time on a ManualClock starting at `start`. node-cron would fire the jobs
 * at real minute boundaries with the manual time; it is stopped so a test decides when jobs run.
 */
export async function startLifecycle(start: number, options: Omit<HarnessOptions, 'clock'> = {}): Promise<LifecycleHarness> {
  const clock = new ManualClock(start);
  const logs: string[] = [];
  const log = createLogger({ level: 'warn', destination: { write: (line: string) => void logs.push(line) } });
  const h = await startHarness({ ...options, clock, app: { log, ...options.app } });
  await h.app.scheduler.stop().catch(async (error: unknown) => {
    await h.stop();
    throw error;
  });
  const settle = async (timeoutMs = 10_000) => {
    const due = h.app.db
      .prepare("SELECT id, kind, chat_id, state FROM outbox WHERE ((state = 'pending' AND run_after <= ?) OR state = 'running') AND chat_id IS NOT ?")
      .bind(clock.now(), ADMIN_ID);
    const until = Date.now() + timeoutMs;
    h.app.worker.wake();
    for (let left = due.all(); left.length > 0; left = due.all()) {
      if (Date.now() > until) throw new Error(`settle: outbox jobs still due after ${timeoutMs} ms: ${JSON.stringify(left)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await settle().catch(async (error: unknown) => {
    await h.stop();
    throw error;
  });
  return {
    h,
    clock,
    logs,
    settle,
    async run(job) {
      await h.app.scheduler.runNow(job);
      await settle();
    },
    async restart() {
      await h.restart();
      await h.app.scheduler.stop();
      await settle();
    },
    setTime(at) {
      if (at < clock.now()) throw new Error(`setTime: ${new Date(at).toISOString()} is before ${new Date(clock.now()).toISOString()}`);
      clock.set(at);
    },
    stop: () => h.stop(),
  };
}

export interface CustomerOptions {
  language?: 'en' | 'ru';
  /** Saved Kaspi phone, 7XXXXXXXXXX. */
  phone?: string;
  renewalInvoices?: boolean;
  firstName?: string;
}

/**
 * A customer who wrote to the bot (so it may message them) and whose language is stored, as after
 * the language picker; optionally with a saved phone and renewal invoices on.
 */
export async function addCustomer(h: Harness, userId: number, o: CustomerOptions = {}): Promise<ScriptedUser> {
  const language = o.language ?? 'en';
  const user = h.tg.addUser({ id: userId, first_name: o.firstName ?? `Customer${userId}`, language_code: language });
  await user.sendText('/help');
  await user.waitForMessage();
  h.app.db
    .prepare('UPDATE customers SET language = ?, phone = ?, renewal_invoices = ? WHERE user_id = ?')
    .run(language, o.phone ?? null, o.renewalInvoices ? 1 : 0, userId);
  return user;
}

/** Inserts an active subscription to catalog plan `planId` (terms as fulfil-order writes them). Returns its id. */
export function addSubscription(h: Harness, userId: number, o: { planId?: string; endsAt: number; startsAt?: number; trial?: boolean; now: number }): number {
  const planId = o.planId ?? 'monthly';
  const plan = h.app.catalog.current().plans.get(planId);
  if (!plan) throw new Error(`no plan ${planId}`);
  return Number(
    h.app.db
      .prepare("INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, trial, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)")
      .run(userId, planId, JSON.stringify(termsOf(plan)), o.startsAt ?? o.endsAt - 30 * DAY, o.endsAt, o.trial ? 1 : 0, o.now, o.now).lastInsertRowid,
  );
}

export interface SubscriptionRow {
  id: number;
  user_id: number;
  plan_id: string;
  starts_at: number;
  ends_at: number;
  state: string;
  ended_at: number | null;
}

export function subscription(h: Harness, id: number): SubscriptionRow {
  const row = h.app.db.prepare<[number], SubscriptionRow>('SELECT * FROM subscriptions WHERE id = ?').get(id);
  if (!row) throw new Error(`no subscription ${id}`);
  return row;
}

export function subscriptionsOf(h: Harness, userId: number): SubscriptionRow[] {
  return h.app.db.prepare<[number], SubscriptionRow>('SELECT * FROM subscriptions WHERE user_id = ? ORDER BY id').all(userId);
}

/** The reminders rows of a subscription: `offset:state` for its end `endsAt`, largest offset first. */
export function reminderRows(h: Harness, subscriptionId: number): Array<{ ends_at: number; offset_days: number; state: string }> {
  return h.app.db
    .prepare<[number], { ends_at: number; offset_days: number; state: string }>(
      'SELECT ends_at, offset_days, state FROM reminders WHERE subscription_id = ? ORDER BY ends_at, offset_days DESC',
    )
    .all(subscriptionId);
}

export interface OrderRow {
  id: number;
  external_id: string;
  user_id: number;
  item_id: string;
  purpose: string;
  amount: number;
  phone: string | null;
  state: string;
  created_at: number;
}

export function ordersOf(h: Harness, userId: number): OrderRow[] {
  return h.app.db.prepare<[number], OrderRow>('SELECT * FROM orders WHERE user_id = ? ORDER BY id').all(userId);
}

export function outboxByKey(h: Harness, prefix: string): OutboxRow[] {
  return tables(h.app).jobsByKey(prefix);
}

/** The customer's messages whose text matches `pattern`, current state. */
export function messagesMatching(user: ScriptedUser, pattern: RegExp) {
  return user.messages().filter((m) => pattern.test(m.text ?? ''));
}

/** English and Russian openings of the reminder texts (reminder, reminder_today, reminder_invoice). */
export const REMINDER = /^(Your subscription .* ends|Ваша подписка .* заканчивается)/;

/** Emulator calls from index `from` on of `methods`, for `userId` (ban/unban and friends). */
export function memberCalls(calls: readonly EmulatorCall[], from: number, userId: number, methods = ['banChatMember', 'unbanChatMember']): EmulatorCall[] {
  return calls.slice(from).filter((c) => methods.includes(c.method) && Number(c.params.user_id) === userId);
}

export const BUY_MONTHLY = `Buy for 4${NBSP}900${NBSP}₸`;

/**
 * Drives the real checkout of `monthly`: `/start monthly` → Buy → share contact → "Invoice for …".
 * `languageCode: 'de'` (the default) makes the bot ask for a language, and the customer picks
 * English, so their language is stored; `'en'` skips the picker (Telegram's language is used).
 */
export async function checkoutMonthly(
  h: Harness,
  userId: number,
  o: { languageCode?: string; phone?: string } = {},
): Promise<{ user: ScriptedUser; externalId: string; invoiceMessageId: number; phone: string }> {
  const phone = o.phone ?? `7701${String(userId).padStart(7, '0')}`;
  const languageCode = o.languageCode ?? 'de';
  const user = h.tg.addUser({ id: userId, first_name: `Buyer${userId}`, language_code: languageCode, phone_number: phone });
  await user.sendText('/start monthly');
  if (languageCode === 'de') {
    await user.waitForMessage((m) => m.text?.includes('Choose your language') ?? false);
    await user.pressButton('🇬🇧 English');
  }
  await user.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false);
  await user.pressButton(BUY_MONTHLY);
  await user.waitForMessage((m) => m.text?.includes('Kaspi') ?? false);
  await user.shareContact();
  const invoice = await user.waitForMessage((m) => m.text?.startsWith('Invoice for') ?? false);
  const order = ordersOf(h, userId).at(-1);
  if (!order) throw new Error(`no order stored for user ${userId}`);
  return { user, externalId: order.external_id, invoiceMessageId: invoice.message_id, phone };
}
