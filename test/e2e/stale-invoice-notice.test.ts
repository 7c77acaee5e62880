import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_ID, type Harness } from '../support/harness.js';
import { HOUR, MINUTE, addCustomer, almaty, checkoutMonthly, messagesMatching, ordersOf, outboxByKey, startLifecycle, type LifecycleHarness } from '../support/lifecycle-helpers.js';
import { createInvoicedOrder } from '../support/payments-helpers.js';

/*
 * AiPay promises no retries: a lost webhook must not leave a paying customer with nothing. When an
 * invoice goes stale without any event, its customer is told, and "I have paid" takes the payment
 * to the admins' Confirm / Reject.
 */

const START = almaty('2026-11-10T15:00');
/** The invoice lifetime of the test catalog (1 h) plus the 15-minute margin, and a millisecond. */
const STALE_AT = START + HOUR + 15 * MINUTE + 1;
const NOTICE = /^No payment has arrived/;

let lc: LifecycleHarness;
let h: Harness;
beforeEach(async () => {
  lc = await startLifecycle(START);
  h = lc.h;
});
afterEach(async () => {
  await lc.stop();
});

describe('an invoice that went stale without any word from AiPay', () => {
  it('tells the customer once, and "I have paid" brings the payment to the admins, whose Confirm grants it', async () => {
    const { user, externalId } = await checkoutMonthly(h, 801);
    lc.setTime(STALE_AT - 1);
    await lc.run('stale-invoices');
    expect(messagesMatching(user, NOTICE)).toEqual([]);

    lc.setTime(STALE_AT);
    await lc.run('stale-invoices');
    expect(ordersOf(h, 801)[0]!.state).toBe('stale');
    const notice = await user.waitForMessage((m) => NOTICE.test(m.text ?? ''));
    expect(notice.text).toBe("No payment has arrived for Monthly. If you already paid, press “I have paid” and we'll check. If not, get a new invoice.");
    expect(user.buttons(notice)).toEqual(['I have paid', 'New invoice']);
    // Once per order, however often the job runs.
    lc.setTime(STALE_AT + 5 * MINUTE);
    await lc.run('stale-invoices');
    expect(outboxByKey(h, 'stale:')).toHaveLength(1);
    expect(messagesMatching(user, NOTICE)).toHaveLength(1);

    await user.pressButton('I have paid', { messageId: notice.message_id });
    await user.waitForMessage((m) => m.text?.startsWith('Thanks! I') ?? false);
    lc.setTime(STALE_AT + 11 * MINUTE);
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    await lc.run('paid-checks');
    const ask = await admin.waitForMessage((m) => m.text?.includes('says they paid') ?? false, 8000);
    expect(ask.text).toContain(externalId);
    expect(admin.buttons(ask)).toEqual(['✅ Confirm payment', '❌ Reject']);

    user.mark();
    await admin.pressButton('✅ Confirm payment', { messageId: ask.message_id });
    await user.waitForMessage((m) => m.text?.startsWith('Payment received: Monthly') ?? false);
    expect(h.app.db.prepare('SELECT state, paid_via FROM orders WHERE external_id = ?').get(externalId)).toEqual({ state: 'paid', paid_via: 'manual' });
  });

  it('offers a new invoice from the notice', async () => {
    const { user } = await checkoutMonthly(h, 802);
    lc.setTime(STALE_AT);
    await lc.run('stale-invoices');
    const notice = await user.waitForMessage((m) => NOTICE.test(m.text ?? ''));
    user.mark();
    await user.pressButton('New invoice', { messageId: notice.message_id });
    await user.waitForMessage((m) => m.text?.includes('Kaspi') ?? false);
  });

  it('speaks the customer’s language, and does not ask a customer who already said they paid', async () => {
    const ruUser = await addCustomer(h, 803, { language: 'ru' });
    const enUser = await addCustomer(h, 804);
    const ru = createInvoicedOrder(h.app, { userId: 803, language: 'ru' });
    const saidPaid = createInvoicedOrder(h.app, { userId: 804 });
    h.app.db.prepare('UPDATE orders SET created_at = ? WHERE id IN (?, ?)').run(START, ru.id, saidPaid.id);
    h.app.db.prepare('UPDATE orders SET paid_check_at = ? WHERE id = ?').run(START + 30 * MINUTE, saidPaid.id);

    lc.setTime(STALE_AT);
    await lc.run('stale-invoices');
    expect(ordersOf(h, 803)[0]!.state).toBe('stale');
    expect(ordersOf(h, 804)[0]!.state).toBe('stale');
    const notice = await ruUser.waitForMessage((m) => m.text?.startsWith('Оплата') ?? false);
    expect(notice.text).toBe('Оплата за Месяц не поступила. Если вы уже оплатили, нажмите «Я оплатил(а)» — мы проверим. Если нет, получите новый счёт.');
    expect(ruUser.buttons(notice)).toEqual(['Я оплатил(а)', 'Новый счёт']);
    expect(outboxByKey(h, 'stale:').map((j) => j.chat_id)).toEqual([803]);
    expect(messagesMatching(enUser, NOTICE)).toEqual([]);
  });
});
