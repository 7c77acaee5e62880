import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdWriteLock, holdWriteLockInChild, watchEventLoop, type HeldLock } from '../support/db-lock.js';
import { startHarness, type Harness } from '../support/harness.js';
import { addCustomer, addSubscription, almaty, reminderRows, startLifecycle, type LifecycleHarness } from '../support/lifecycle-helpers.js';
import { createInvoicedOrder, eventually, sendEvent, startCustomer } from '../support/payments-helpers.js';

let h: Harness;
let lock: HeldLock | undefined;
let loop: Awaited<ReturnType<typeof watchEventLoop>> | undefined;
afterEach(async () => {
  loop?.stop();
  lock?.release();
  await lock?.released;
  lock = loop = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
};
const getUpdatesCalls = () => h.tg.calls.filter((c) => c.method === 'getUpdates').length;

describe('another process holding the database write lock', () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('does not freeze the bot: /healthz answers at once, polling goes on, and a webhook gets 503 within about 2 s', async () => {
    const customer = await startCustomer(h, 301);
    const order = createInvoicedOrder(h.app, { userId: 301 });
    loop = await watchEventLoop();
    // Held until released below, however long the checks take on a busy machine.
    lock = await holdWriteLockInChild(h.databasePath, 60_000);

    const webhook = timed(() => sendEvent(h, order));
    const health: number[] = [];
    const polledBefore = getUpdatesCalls();
    // A message during the lock: the bot's long poll brings it in, the lock or not.
    const stranger = h.tg.addUser({ id: 302, first_name: 'Stranger', language_code: 'en' });
    await stranger.sendText('/help');
    for (let i = 0; i < 6; i++) {
      health.push((await timed(() => fetch(`${h.app.url}/healthz`).then((r) => r.text()))).ms);
      await sleep(200);
    }
    const refused = await webhook;
    expect(refused.value.status).toBe(503);
    expect(refused.ms).toBeLessThan(4000); // AiPay's deadline is 5 s; the bot waits ~2 s for the lock
    expect(Math.max(...health)).toBeLessThan(500);
    await eventually(() => getUpdatesCalls() > polledBefore, 3000, 'a getUpdates call during the lock');
    expect(loop.maxMs()).toBeLessThan(500);
    // Still inside the lock: everything above happened while it was held.
    expect(await Promise.race([lock.released.then(() => 'released'), sleep(0).then(() => 'held')])).toBe('held');

    lock.release();
    await lock.released;
    // AiPay delivers again: stored now; the customer gets access; the bot answers messages again.
    expect((await sendEvent(h, order)).status).toBe(200);
    await customer.waitForMessage((m) => m.text?.includes('Tap to join') ?? false, 10_000);
    stranger.mark();
    await stranger.sendText('/help');
    await stranger.waitForMessage(undefined, 10_000);
  });

  it('stores a webhook that arrives during a short lock: 200 once the lock is released, inside the deadline', async () => {
    await startCustomer(h, 311);
    const order = createInvoicedOrder(h.app, { userId: 311 });
    loop = await watchEventLoop();
    lock = await holdWriteLockInChild(h.databasePath, 700);
    const answer = await timed(() => sendEvent(h, order));
    expect(answer.value.status).toBe(200);
    expect(JSON.parse(answer.value.body)).toEqual({ ok: true, outcome: 'granted' });
    expect(answer.ms).toBeLessThan(4000);
    expect(loop.maxMs()).toBeLessThan(500);
  });

  it('lets the outbox deliver what came due during the lock once it is released', async () => {
    const customer = await startCustomer(h, 321);
    customer.mark();
    loop = await watchEventLoop();
    h.app.outbox.enqueue({ kind: 'message', chatId: 321, userId: 321, text: 'Due during the lock' }, { runAfter: Date.now() + 300 });
    // Taken at once, before the job is due (a connection of this process stands for the other process).
    lock = holdWriteLock(h.databasePath, 2000);
    await sleep(1000);
    expect(customer.messages().filter((m) => m.text === 'Due during the lock')).toEqual([]);
    await lock.released;
    await customer.waitForMessage((m) => m.text === 'Due during the lock', 10_000);
    expect(loop.maxMs()).toBeLessThan(500);
  });
});

describe('a scheduled job when another process locks the database in the middle of it', () => {
  let lc: LifecycleHarness;
  beforeEach(async () => {
    lc = await startLifecycle(almaty('2026-11-10T15:00'));
  });
  afterEach(async () => {
    await lc.stop();
  });

  it('still sends a renewal reminder claimed before the lock, with the invoice it waited to record, once the lock is gone', async () => {
    const user = await addCustomer(lc.h, 406, { phone: '77010000406', renewalInvoices: true });
    const sub = addSubscription(lc.h, 406, { endsAt: almaty('2026-12-10T15:00'), now: lc.clock.now() });
    // AiPay answers the first attempt only after the client gave up (1 s): the lock comes meanwhile.
    lc.h.aipay.injectFault({ times: 1, fault: { hang: true } });
    lc.setTime(almaty('2026-12-07T10:00'));
    user.mark();
    const run = lc.run('reminders');
    await eventually(() => reminderRows(lc.h, sub).length > 0, 5000, 'the reminder claimed');
    lock = holdWriteLock(lc.h.databasePath, 2500);
    await run;
    const reminder = await user.waitForMessage((m) => m.text?.startsWith('Your subscription Monthly ends on 10 Dec 2026') ?? false, 10_000);
    expect(reminder.text).toBe(
      "Your subscription Monthly ends on 10 Dec 2026. I've sent a renewal invoice for 4\u00a0900\u00a0₸ to +7 701 *** 04 06: open Kaspi and confirm it.",
    );
    // One invoice: recording it waited for the lock instead of failing (and being made again).
    expect(lc.h.aipay.invoices).toHaveLength(1);
    expect(lc.h.app.db.prepare("SELECT state FROM orders WHERE user_id = 406 AND purpose = 'renewal'").pluck().all()).toEqual(['invoiced']);
  });
});
