import type { RunningApp } from '../../src/app.js';
import { findItem } from '../../src/catalog/types.js';
import { Customers } from '../../src/customers/customers.js';
import { Orders, type Order } from '../../src/payments/orders.js';
import { termsOf } from '../../src/payments/terms.js';
import type { FakeInvoice, WebhookOpts, WebhookResult } from '../../src/sandbox/aipay-fake.js';
import type { ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import type { Harness } from './harness.js';

/*
 * Helpers for the payment, access and outbox tests: getting an order to pay (through the real
 * checkout, or straight into SQLite), sending AiPay webhooks for direct orders, and reading rows.
 */

export const NBSP = '\u00a0';
/** "Buy for 4 900 ₸": the monthly plan's button as an English-speaking customer sees it. */
export const BUY_MONTHLY = `Buy for 4${NBSP}900${NBSP}₸`;

export interface CheckedOut {
  user: ScriptedUser;
  invoice: FakeInvoice;
  externalId: string;
  order: Order;
}

/**
 * Drives a customer through the real checkout of `monthly` in the emulator: `/start monthly` →
 * Buy → share contact → "Invoice for …". Returns the AiPay fake's invoice and the stored order.
 */
export async function checkoutMonthly(h: Harness, userId: number, firstName = 'Aruzhan'): Promise<CheckedOut> {
  const user = h.tg.addUser({ id: userId, first_name: firstName, language_code: 'en', phone_number: `7701${String(userId).padStart(7, '0')}` });
  await user.sendText('/start monthly');
  await user.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false);
  await user.pressButton(BUY_MONTHLY);
  await user.waitForMessage((m) => m.text?.includes('Kaspi') ?? false);
  await user.shareContact();
  await user.waitForMessage((m) => m.text?.startsWith('Invoice for') ?? false);
  const order = h.app.db.prepare<[number], { external_id: string }>('SELECT external_id FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 1').get(userId);
  if (!order) throw new Error(`no order stored for user ${userId}`);
  const invoice = h.aipay.getInvoice(order.external_id);
  if (!invoice) throw new Error(`the AiPay fake has no invoice for ${order.external_id}`);
  return { user, invoice, externalId: order.external_id, order: new Orders(h.app.db).byExternalId(order.external_id)! };
}

/**
 * A customer who has written to the bot (so the bot may message them, and their customers row
 * exists): `/help` in English, waiting for the answer.
 */
export async function startCustomer(h: Harness, userId: number, firstName = `Customer${userId}`): Promise<ScriptedUser> {
  const user = h.tg.addUser({ id: userId, first_name: firstName, language_code: 'en' });
  await user.sendText('/help');
  await user.waitForMessage();
  return user;
}

/** Stores a customer (as the bot would on their first message) so orders can reference them. */
export function ensureCustomer(app: RunningApp, userId: number, language: 'en' | 'ru' = 'en'): void {
  const customers = new Customers(app.db);
  customers.seen({ id: userId, first_name: `User ${userId}` }, Date.now());
  customers.setLanguage(userId, language, Date.now());
}

let invoiceCounter = 0;

/**
 * Inserts an order for catalog item `itemId` directly and moves it to `invoiced` with a made-up
 * AiPay invoice id, as Checkout would after AiPay answered. The fake knows nothing about it: send
 * its webhooks with {@link sendEvent}.
 */
export function createInvoicedOrder(app: RunningApp, o: { userId: number; itemId?: string; amount?: number; language?: 'en' | 'ru'; invoiceId?: string }): Order {
  ensureCustomer(app, o.userId, o.language ?? 'en');
  const item = findItem(app.catalog.current(), o.itemId ?? 'monthly');
  if (!item) throw new Error(`no item ${o.itemId}`);
  const orders = new Orders(app.db);
  const now = Date.now();
  const order = orders.create(
    { userId: o.userId, terms: termsOf(item), listPrice: item.price, amount: o.amount ?? item.price, phone: '77011234567', phoneSource: 'contact', language: o.language ?? 'en' },
    now,
  );
  const invoiceId = o.invoiceId ?? `inv_test_${process.pid}_${++invoiceCounter}`;
  if (!orders.move(order.id, 'invoiced', now, { invoice_id: invoiceId, invoiced_at: now })) throw new Error('could not move the order to invoiced');
  return orders.get(order.id)!;
}

export type EventName = 'invoice.paid' | 'invoice.expired' | 'invoice.error' | (string & {});

/** The body AiPay sends for `event` about `order` (the documented fields, in AiPay's order). */
export function eventPayload(order: Pick<Order, 'externalId' | 'invoiceId' | 'amount'>, event: EventName = 'invoice.paid', invoiceId = order.invoiceId ?? 'inv_unknown'): Record<string, unknown> {
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const base = { event, invoice_id: invoiceId, external_id: order.externalId, amount: order.amount };
  if (event === 'invoice.paid') return { ...base, paid_at: at };
  if (event === 'invoice.expired') return { ...base, status: 'expired', expired_at: at };
  if (event === 'invoice.error') return { ...base, status: 'error', failed_at: at };
  return base;
}

/** Sends a signed webhook about a directly created order through the AiPay fake. */
export function sendEvent(
  h: Harness,
  order: Pick<Order, 'externalId' | 'invoiceId' | 'amount'>,
  event: EventName = 'invoice.paid',
  opts: WebhookOpts & { invoiceId?: string } = {},
): Promise<WebhookResult> {
  const { invoiceId, ...webhookOpts } = opts;
  return h.aipay.sendWebhook(eventPayload(order, event, invoiceId), webhookOpts);
}

export interface EventRow {
  id: number;
  invoice_id: string;
  event: string;
  external_id: string | null;
  amount: number | null;
  body: string;
  order_id: number | null;
  outcome: string;
}

export interface OutboxRow {
  id: number;
  kind: string;
  payload: string;
  chat_id: number | null;
  dedupe_key: string | null;
  state: string;
  attempts: number;
  run_after: number;
  progress: string;
  last_error: string | null;
}

/** Small typed readers of the tables these tests assert on. */
export function tables(app: RunningApp) {
  const db = app.db;
  return {
    events: () => db.prepare<[], EventRow>('SELECT * FROM aipay_events ORDER BY id').all(),
    order: (externalId: string) => new Orders(db).byExternalId(externalId),
    subscriptions: (userId: number) =>
      db.prepare<[number], { id: number; plan_id: string; starts_at: number; ends_at: number; state: string }>('SELECT * FROM subscriptions WHERE user_id = ? ORDER BY id').all(userId),
    periods: (userId: number) =>
      db
        .prepare<[number], { subscription_id: number; order_id: number; from_at: number; to_at: number }>(
          'SELECT p.* FROM subscription_periods p JOIN subscriptions s ON s.id = p.subscription_id WHERE s.user_id = ? ORDER BY p.id',
        )
        .all(userId),
    outbox: () => db.prepare<[], OutboxRow>('SELECT * FROM outbox ORDER BY id').all(),
    job: (id: number) => db.prepare<[number], OutboxRow>('SELECT * FROM outbox WHERE id = ?').get(id),
    jobsByKey: (prefix: string) => db.prepare<[string], OutboxRow>("SELECT * FROM outbox WHERE dedupe_key LIKE ? || '%' ORDER BY id").all(prefix),
    inviteLinks: (userId: number) =>
      db.prepare<[number], { chat_id: number; link: string; job_id: number | null }>('SELECT * FROM invite_links WHERE user_id = ? ORDER BY id').all(userId),
    count: (table: 'aipay_events' | 'orders' | 'subscriptions' | 'subscription_periods' | 'outbox' | 'invite_links' | 'purchases') =>
      db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number,
  };
}

/** Polls `probe` every 20 ms until it returns a truthy value; rejects after `timeoutMs`. */
export async function eventually<T>(probe: () => T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`eventually: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Makes every pending outbox job due now (skips the backoff a retry scheduled) and wakes the worker. */
export function makeJobsDue(app: RunningApp): void {
  app.db.prepare("UPDATE outbox SET run_after = ? WHERE state = 'pending'").run(Date.now());
  app.worker.wake();
}

/** Outbox message jobs to `chatId` whose text matches `pattern` (an alert is durable once enqueued). */
export function messageJobs(app: RunningApp, chatId: number, pattern: RegExp): OutboxRow[] {
  return app.db
    .prepare<[number], OutboxRow>("SELECT * FROM outbox WHERE kind = 'message' AND chat_id = ? ORDER BY id")
    .all(chatId)
    .filter((r) => pattern.test((JSON.parse(r.payload) as { text: string }).text));
}

/** Waits until no outbox job is pending or running (start-up notices delivered, nothing in flight). */
export function outboxIdle(app: RunningApp, timeoutMs = 10_000): Promise<true> {
  return eventually(
    () => (app.db.prepare("SELECT count(*) FROM outbox WHERE state IN ('pending', 'running')").pluck().get() as number) === 0,
    timeoutMs,
    'an idle outbox',
  );
}
