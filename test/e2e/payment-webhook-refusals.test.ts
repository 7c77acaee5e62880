import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Orders, type Order } from '../../src/payments/orders.js';
import { termsOf } from '../../src/payments/terms.js';
import { ADMIN_ID, startHarness, type Harness } from '../support/harness.js';
import { NBSP, checkoutMonthly, createInvoicedOrder, ensureCustomer, eventually, messageJobs, sendEvent, startCustomer, tables } from '../support/payments-helpers.js';

/*
 * Signed AiPay events the bot must refuse — an invoice that is not the order's, a wrong amount, an
 * unknown order — are recorded and alerted once, change nothing, and do not use up the invoice's
 * (invoice_id, event) key: the genuine or corrected event that follows still takes effect, once.
 */

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const t = () => tables(h.app);
const outcomeOf = (res: { body: string }) => (JSON.parse(res.body) as { outcome: string }).outcome;
const adminJobs = (pattern: RegExp) => messageJobs(h.app, ADMIN_ID, pattern);
const alertText = (pattern: RegExp) => (JSON.parse(adminJobs(pattern)[0]?.payload ?? '{"text":""}') as { text: string }).text;
const rejected = () => h.app.db.prepare('SELECT invoice_id, external_id, outcome, rejected FROM aipay_events ORDER BY id').all();

/** An order whose AiPay create call got no answer: no invoice on record. */
function orderWithoutInvoice(userId: number): Order {
  ensureCustomer(h.app, userId);
  const plan = h.app.catalog.current().plans.get('monthly')!;
  return new Orders(h.app.db).create({ userId, terms: termsOf(plan), listPrice: plan.price, amount: plan.price, phone: '77011234567', language: 'en' }, Date.now());
}

describe('an event whose invoice is not the order’s', () => {
  it('does not grant order B a payment of order A’s invoice, alerts the admins, and still grants A when A’s own event arrives', async () => {
    await startCustomer(h, 150);
    await startCustomer(h, 151);
    const a = createInvoicedOrder(h.app, { userId: 150 });
    const b = createInvoicedOrder(h.app, { userId: 151 });

    const forged = await sendEvent(h, b, 'invoice.paid', { invoiceId: a.invoiceId! });
    expect(forged.status).toBe(200);
    expect(outcomeOf(forged)).toBe('invoice_mismatch');
    expect(t().order(b.externalId)!.state).toBe('invoiced');
    expect(t().subscriptions(151)).toEqual([]);
    expect(adminJobs(/belongs to order/)).toHaveLength(1);
    const alert = alertText(/belongs to order/);
    expect(alert).toContain(`for order ${b.externalId}`);
    expect(alert).toContain(`invoice ${a.invoiceId}, but that invoice belongs to order ${a.externalId}`);
    expect(alert).toContain('Nothing was changed');

    const genuine = await sendEvent(h, a);
    expect(outcomeOf(genuine)).toBe('granted');
    expect(t().order(a.externalId)!.state).toBe('paid');
    expect(t().periods(150)).toHaveLength(1);
    expect(t().order(b.externalId)!.state).toBe('invoiced');
    expect(t().subscriptions(151)).toEqual([]);

    // Neither event again changes anything, nor alerts twice.
    expect(outcomeOf(await sendEvent(h, a))).toBe('duplicate');
    expect(outcomeOf(await sendEvent(h, b, 'invoice.paid', { invoiceId: a.invoiceId! }))).toBe('duplicate');
    expect(adminJobs(/belongs to order/)).toHaveLength(1);
    expect(t().periods(150)).toHaveLength(1);
    expect(rejected()).toEqual([
      { invoice_id: a.invoiceId, external_id: b.externalId, outcome: 'invoice_mismatch', rejected: 1 },
      { invoice_id: a.invoiceId, external_id: a.externalId, outcome: 'granted', rejected: 0 },
    ]);
  });

  it('refuses it also when it comes after A’s payment took effect, instead of taking it for a duplicate', async () => {
    await startCustomer(h, 152);
    await startCustomer(h, 153);
    const a = createInvoicedOrder(h.app, { userId: 152 });
    const b = createInvoicedOrder(h.app, { userId: 153 });
    expect(outcomeOf(await sendEvent(h, a))).toBe('granted');
    const forged = await sendEvent(h, b, 'invoice.paid', { invoiceId: a.invoiceId! });
    expect(outcomeOf(forged)).toBe('invoice_mismatch');
    expect(adminJobs(/belongs to order/)).toHaveLength(1);
    expect(t().subscriptions(153)).toEqual([]);
    expect(t().periods(152)).toHaveLength(1);
  });

  it('refuses another order’s invoice for an order with no invoice on record, and takes an invoice nobody has for it', async () => {
    await startCustomer(h, 154);
    const a = createInvoicedOrder(h.app, { userId: 154 });
    const lost = orderWithoutInvoice(155);

    const forged = await sendEvent(h, lost, 'invoice.paid', { invoiceId: a.invoiceId! });
    expect(outcomeOf(forged)).toBe('invoice_mismatch');
    expect(t().order(lost.externalId)).toMatchObject({ state: 'created', invoiceId: null });
    expect(alertText(/belongs to order/)).toContain(a.externalId);
    expect(outcomeOf(await sendEvent(h, a))).toBe('granted');

    // AiPay's answer to the create call was lost, but the invoice is nobody else's: the customer's payment.
    const paid = await sendEvent(h, lost, 'invoice.paid', { invoiceId: 'inv_answer_lost' });
    expect(outcomeOf(paid)).toBe('granted');
    expect(t().order(lost.externalId)).toMatchObject({ state: 'paid', invoiceId: 'inv_answer_lost' });
    expect(t().periods(155)).toHaveLength(1);
  });

  it('refuses an invoice other than the one on record for an unpaid order, and grants the order’s own invoice after it', async () => {
    await startCustomer(h, 156);
    const order = createInvoicedOrder(h.app, { userId: 156 });
    const other = await sendEvent(h, order, 'invoice.paid', { invoiceId: 'inv_not_on_record' });
    expect(outcomeOf(other)).toBe('invoice_mismatch');
    expect(t().order(order.externalId)!.state).toBe('invoiced');
    expect(alertText(/order's invoice is/)).toContain(`with invoice inv_not_on_record, but the order's invoice is ${order.invoiceId}`);
    // An expiry of an invoice that is not the order's does not expire the order either.
    expect(outcomeOf(await sendEvent(h, order, 'invoice.expired', { invoiceId: 'inv_not_on_record' }))).toBe('invoice_mismatch');
    expect(t().order(order.externalId)!.state).toBe('invoiced');

    expect(outcomeOf(await sendEvent(h, order))).toBe('granted');
    expect(t().periods(156)).toHaveLength(1);
  });

  it('does not let an event for an unknown order use up the invoice: the genuine event for it still grants', async () => {
    await startCustomer(h, 157);
    const order = createInvoicedOrder(h.app, { userId: 157 });
    const orphan = await sendEvent(h, { externalId: 'sb_nobody', invoiceId: order.invoiceId, amount: order.amount });
    expect(outcomeOf(orphan)).toBe('orphan');
    expect(outcomeOf(await sendEvent(h, { externalId: 'sb_nobody', invoiceId: order.invoiceId, amount: order.amount }))).toBe('duplicate');
    expect(adminJobs(/does not know/)).toHaveLength(1);
    expect(outcomeOf(await sendEvent(h, order))).toBe('granted');
    expect(t().periods(157)).toHaveLength(1);
  });
});

describe('a payment with the wrong amount, then the right one', () => {
  it('grants the corrected payment exactly once, and alerts once however often the wrong one repeats', async () => {
    const { user, externalId } = await checkoutMonthly(h, 160);
    user.mark();
    const wrong = await h.aipay.pay(externalId, { amount: 490 });
    expect(outcomeOf(wrong)).toBe('amount_mismatch');
    expect(outcomeOf(await h.aipay.pay(externalId, { amount: 490 }))).toBe('duplicate');
    expect(adminJobs(/amount mismatch/)).toHaveLength(1);
    expect(t().order(externalId)!.state).toBe('invoiced');

    const right = await h.aipay.pay(externalId);
    expect(right.status).toBe(200);
    expect(outcomeOf(right)).toBe('granted');
    expect(t().order(externalId)!.state).toBe('paid');
    expect(outcomeOf(await h.aipay.pay(externalId))).toBe('duplicate');
    expect(outcomeOf(await h.aipay.pay(externalId, { amount: 490 }))).toBe('duplicate');
    expect(adminJobs(/amount mismatch/)).toHaveLength(1);

    await user.waitForMessage((m) => m.text?.startsWith('Payment received') ?? false);
    await eventually(() => user.messages().some((m) => m.text?.startsWith('Tap to join')), 5000, 'the join link');
    expect(t().periods(160)).toHaveLength(1);
    expect(user.messages().filter((m) => m.text?.startsWith('Payment received'))).toHaveLength(1);
    expect(user.messages().find((m) => m.text?.startsWith('Payment received'))!.text).toContain(`4${NBSP}900${NBSP}₸`);
    expect(rejected()).toEqual([
      expect.objectContaining({ outcome: 'amount_mismatch', rejected: 1 }),
      expect.objectContaining({ outcome: 'granted', rejected: 0 }),
    ]);
  });
});
