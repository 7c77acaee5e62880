import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Orders } from '../../src/payments/orders.js';
import { recordStarPayment } from '../../src/payments/stars.js';
import { ADMIN_ID, TEST_CATALOG, startHarness, type Harness } from '../support/harness.js';
import { NBSP, eventually } from '../support/payments-helpers.js';

const STARS_CATALOG = TEST_CATALOG.replace('  invoice_lifetime: 1h\n', '  invoice_lifetime: 1h\n  payments: [kaspi, stars]\n')
  .replace('    price: 4900\n', '    price: 4900\n    stars: 250\n')
  .replace('    price: 15000\n', '    price: 15000\n    stars: 700\n');

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ catalog: STARS_CATALOG });
});
afterEach(async () => {
  await h.stop();
});

const orderOf = (userId: number) => {
  const row = h.app.db.prepare<[number], { external_id: string }>('SELECT external_id FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 1').get(userId)!;
  return new Orders(h.app.db).byExternalId(row.external_id)!;
};

/** `/start <item>` → the card → "Telegram Stars · …" → the invoice. */
async function openStarsInvoice(userId: number, item: string, title: RegExp) {
  const user = h.tg.user(userId);
  await user.sendText(`/start ${item}`);
  await user.waitForMessage((m) => title.test(m.text ?? ''));
  await user.pressButton(/^Telegram Stars · /);
  const invoice = await user.waitForMessage((m) => m.invoice !== undefined);
  return { user, invoice };
}

describe('Telegram Stars', () => {
  it('sells a plan for Stars: the card offers both ways, the invoice is in XTR, payment grants once with a receipt in ⭐', async () => {
    const user = h.tg.addUser({ id: 301, first_name: 'Aruzhan', language_code: 'en' });
    await user.sendText('/start monthly');
    const card = await user.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false);
    expect(user.buttons(card)).toEqual(expect.arrayContaining([`Kaspi · 4${NBSP}900${NBSP}₸`, `Telegram Stars · 250${NBSP}⭐`]));
    await user.pressButton(/^Telegram Stars · /);
    const invoice = await user.waitForMessage((m) => m.invoice !== undefined);
    expect(invoice.invoice).toMatchObject({ currency: 'XTR', total_amount: 250, title: 'Monthly' });
    await eventually(() => orderOf(301).state === 'invoiced', 5000, 'order invoiced');
    const order = orderOf(301);
    expect(order).toMatchObject({ currency: 'XTR', amount: 250 });

    user.mark();
    const paid = await user.payInvoice();
    expect(paid.ok).toBe(true);
    const receipt = await user.waitForMessage((m) => m.text?.includes(`250${NBSP}⭐`) ?? false);
    expect(receipt.text).toContain('Monthly');
    await eventually(() => orderOf(301).state === 'paid', 5000, 'order paid');
    expect(h.app.db.prepare('SELECT count(*) FROM subscriptions WHERE user_id = 301').pluck().get()).toBe(1);
    const charge = h.app.db.prepare<[], { outcome: string; amount: number }>('SELECT outcome, amount FROM star_payments').get();
    expect(charge).toEqual({ outcome: 'granted', amount: 250 });

    // The same successful_payment again (a redelivery with the same charge id) grants nothing more.
    const { db, outbox } = h.app;
    const again = recordStarPayment(
      { db, orders: new Orders(db), outbox, catalog: h.app.catalog.current() },
      { userId: 301, chargeId: (paid as { chargeId: string }).chargeId, currency: 'XTR', totalAmount: 250, payload: order.externalId },
      Date.now(),
    );
    expect(again).toBe('duplicate');
    expect(h.app.db.prepare('SELECT count(*) FROM subscription_periods').pluck().get()).toBe(1);
  });

  it('sells a product for Stars and delivers it', async () => {
    h.tg.addUser({ id: 302, first_name: 'Dana', language_code: 'en' });
    const { user } = await openStarsInvoice(302, 'course', /^Course/);
    user.mark();
    expect((await user.payInvoice()).ok).toBe(true);
    const delivered = await user.waitForMessage((m) => m.text?.includes('https://example.com/course') ?? false);
    expect(delivered.text).toContain(`700${NBSP}⭐`);
    expect(h.app.db.prepare('SELECT count(*) FROM purchases WHERE user_id = 302').pluck().get()).toBe(1);
  });

  it('refuses the payment at pre-checkout when the price changed since the invoice (catalog reload)', async () => {
    h.tg.addUser({ id: 303, first_name: 'Erlan', language_code: 'en' });
    const { user } = await openStarsInvoice(303, 'monthly', /^Monthly/);
    h.writeCatalog(STARS_CATALOG.replace('    stars: 250\n', '    stars: 300\n'));
    expect(h.app.reloadCatalog()).toBe(true);
    const paid = await user.payInvoice();
    expect(paid).toEqual({ ok: false, error: expect.stringMatching(/price has changed/) });
    expect(orderOf(303).state).toBe('invoiced');
    expect(h.app.db.prepare('SELECT count(*) FROM subscriptions WHERE user_id = 303').pluck().get()).toBe(0);
  });

  it('refuses the payment at pre-checkout when the order was cancelled', async () => {
    h.tg.addUser({ id: 304, first_name: 'Gulnar', language_code: 'en' });
    const { user } = await openStarsInvoice(304, 'monthly', /^Monthly/);
    h.app.db.prepare("UPDATE orders SET state = 'cancelled' WHERE user_id = 304").run();
    const paid = await user.payInvoice();
    expect(paid).toEqual({ ok: false, error: expect.stringMatching(/cancelled or has expired/) });
  });

  it('keeps ₸ and ⭐ apart in /stats, never summed', async () => {
    h.tg.addUser({ id: 306, first_name: 'Kairat', language_code: 'en' });
    const { user } = await openStarsInvoice(306, 'monthly', /^Monthly/);
    user.mark();
    expect((await user.payInvoice()).ok).toBe(true);
    await eventually(() => orderOf(306).state === 'paid', 5000, 'order paid');
    // A Kaspi payment beside it, straight into the table: 4 900 ₸.
    const kaspi = new Orders(h.app.db).create({ userId: 306, terms: orderOf(306).terms, listPrice: 4900, amount: 4900, language: 'en', state: 'paid' }, Date.now());
    h.app.db.prepare("UPDATE orders SET paid_via = 'webhook' WHERE id = ?").run(kaspi.id);
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    await admin.sendText('/stats');
    const stats = await admin.waitForMessage((m) => m.text?.includes('Revenue today') ?? false);
    expect(stats.text).toContain(`Revenue today: 4${NBSP}900${NBSP}₸ + 250${NBSP}⭐ (2 payments)`);
  });

  it('answers /paysupport with the support contact and how refunds work', async () => {
    const user = h.tg.addUser({ id: 305, first_name: 'Ilyas', language_code: 'en' });
    await user.sendText('/paysupport');
    const m = await user.waitForMessage();
    expect(m.text).toContain('@help_desk');
    expect(m.text).toMatch(/refunded in Stars/);
  });
});
