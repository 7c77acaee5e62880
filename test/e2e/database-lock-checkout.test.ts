import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdWriteLock, type HeldLock } from '../support/db-lock.js';
import { startHarness, type Harness } from '../support/harness.js';
import { BUY_MONTHLY, eventually } from '../support/payments-helpers.js';

let h: Harness;
let lock: HeldLock | undefined;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  lock?.release();
  lock = undefined;
  await h.stop();
});

describe('a checkout when another process locks the database while AiPay creates the invoice', () => {
  it('records the invoice once the lock is gone and sends it, instead of failing and invoicing again', async () => {
    const user = h.tg.addUser({ id: 341, first_name: 'Aruzhan', language_code: 'en', phone_number: '77010000341' });
    await user.sendText('/start monthly');
    await user.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false);
    await user.pressButton(BUY_MONTHLY);
    await user.waitForMessage((m) => m.text?.includes('Kaspi') ?? false);
    // AiPay answers the first attempt only after the client gave up (1 s in the harness): the
    // lock is taken meanwhile, so both the attempt's record and the invoice's meet it.
    h.aipay.injectFault({ times: 1, fault: { hang: true } });
    const requestsBefore = h.aipay.requests.length;
    await user.shareContact();
    await eventually(() => h.aipay.requests.length > requestsBefore, 10_000, 'the invoice request');
    lock = holdWriteLock(h.databasePath, 60_000);
    await eventually(() => h.aipay.invoices.length === 1, 15_000, 'the invoice created at AiPay');
    await new Promise((r) => setTimeout(r, 300));
    lock.release();
    await user.waitForMessage((m) => m.text?.startsWith('Invoice for') ?? false, 15_000);
    const orders = h.app.db.prepare<[], { id: number; state: string; invoice_id: string }>('SELECT id, state, invoice_id FROM orders WHERE user_id = 341').all();
    expect(orders.map((o) => [o.state, o.invoice_id])).toEqual([['invoiced', h.aipay.invoices[0]!.invoice_id]]);
    // Both attempts are on record, the one that timed out during the lock too.
    await eventually(() => h.app.db.prepare('SELECT count(*) FROM invoice_attempts WHERE order_id = ?').pluck().get(orders[0]!.id) === 2, 5000, 'both attempts recorded');
    // Nothing tried again behind the customer's back: one invoice, one invoice message.
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.aipay.invoices).toHaveLength(1);
    expect(user.messages().filter((m) => m.text?.startsWith('Invoice for'))).toHaveLength(1);
  });
});
