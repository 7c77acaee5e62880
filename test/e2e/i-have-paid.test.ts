import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ADMIN_ID, startHarness, type Harness } from '../support/harness.js';
import { checkoutToInvoice } from '../support/checkout-steps.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function invoiceFor(h: Harness, id: number) {
  const u = h.tg.addUser({ id, first_name: 'Payer', language_code: 'en' });
  return { u, invoice: await checkoutToInvoice(u) };
}

describe('"I have paid" when no webhook arrives', () => {
  it('asks the admins after 5 minutes, and Confirm grants exactly as a payment would, audited', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T08:00:00Z'));
    h = await startHarness({ clock });
    await h.app.scheduler.stop();
    const { u, invoice } = await invoiceFor(h, 71);
    await u.pressButton('I have paid', { messageId: invoice.message_id });
    expect((await u.waitForMessage((m) => m.text?.startsWith('Thanks! I') ?? false)).text).toContain('an admin will confirm it by hand');

    // Not yet: the webhook may still come.
    clock.advance(4 * 60_000);
    await h.app.scheduler.runNow('paid-checks');
    expect(h.app.db.prepare("SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'paid-check:%'").pluck().get()).toBe(0);

    clock.advance(2 * 60_000);
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    await h.app.scheduler.runNow('paid-checks');
    await h.app.scheduler.runNow('paid-checks'); // asked once, however often the job runs
    const ask = await admin.waitForMessage((m) => m.text?.includes('says they paid') ?? false, 8000);
    expect(ask.text).toContain('4\u00a0900\u00a0₸');
    expect(admin.buttons(ask)).toEqual(['✅ Confirm payment', '❌ Reject']);
    expect(h.app.db.prepare("SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'paid-check:%'").pluck().get()).toBe(1);

    u.mark();
    await admin.pressButton('✅ Confirm payment', { messageId: ask.message_id });
    expect((await u.waitForMessage((m) => m.text?.startsWith('Payment received') ?? false)).text).toContain('Monthly');
    await u.waitForMessage((m) => m.text?.includes('Tap to join') ?? false);
    const order = h.app.db.prepare('SELECT state, paid_via FROM orders WHERE user_id = 71').get();
    expect(order).toEqual({ state: 'paid', paid_via: 'manual' });
    expect(h.app.db.prepare("SELECT actor, action FROM audit WHERE action = 'payment_confirmed'").all()).toEqual([{ actor: ADMIN_ID, action: 'payment_confirmed' }]);

    // A second press (or a late AiPay webhook for the same invoice) grants nothing more.
    await admin.pressButton(/Confirm payment|Already paid/, { messageId: ask.message_id }).catch(() => undefined);
    const late = await h.aipay.pay(h.aipay.invoices[0]!.invoice_id);
    expect(late.status).toBe(200);
    expect(h.app.db.prepare('SELECT count(*) FROM subscription_periods').pluck().get()).toBe(1);
  });

  it('Reject grants nothing and is audited', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T08:00:00Z'));
    h = await startHarness({ clock });
    await h.app.scheduler.stop();
    const { u, invoice } = await invoiceFor(h, 72);
    await u.pressButton('I have paid', { messageId: invoice.message_id });
    await u.waitForMessage((m) => m.text?.startsWith('Thanks! I') ?? false);
    clock.advance(6 * 60_000);
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    await h.app.scheduler.runNow('paid-checks');
    const ask = await admin.waitForMessage((m) => m.text?.includes('says they paid') ?? false, 8000);
    await admin.pressButton('❌ Reject', { messageId: ask.message_id });
    await h.tg.waitForCall('answerCallbackQuery', (c) => String(c.params.text ?? '').startsWith('❌ Rejected'));
    expect(h.app.db.prepare('SELECT state FROM orders WHERE user_id = 72').pluck().get()).toBe('invoiced');
    expect(h.app.db.prepare("SELECT count(*) FROM audit WHERE action = 'payment_rejected' AND actor = ?").pluck().get(ADMIN_ID)).toBe(1);
    expect(h.app.db.prepare('SELECT count(*) FROM subscriptions WHERE user_id = 72').pluck().get()).toBe(0);
  });
});
