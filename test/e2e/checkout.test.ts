import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BotMessage, ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, API_KEY, startHarness, TEST_CATALOG, type Harness } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const NBSP = '\u00a0';
const money = (tenge: string) => `${tenge.replace(' ', NBSP)}${NBSP}₸`;
const MONTHLY = money('4 900');
const MASKED = '+7 701 *** 45 67';
const PROMPT_EN = `Which Kaspi number should I send the invoice for Monthly (${MONTHLY}) to?`;
const TYPED_EN = 'Type your Kaspi phone number, e.g. +7 701 123 45 67.';
const CONTACT_KEYBOARD_EN = {
  keyboard: [[{ text: '📱 Use my Telegram number', request_contact: true }], [{ text: 'Cancel' }]],
  resize_keyboard: true,
  one_time_keyboard: true,
};

interface OrderRow {
  id: number;
  external_id: string;
  user_id: number;
  item_id: string;
  amount: number;
  phone: string | null;
  phone_source: string | null;
  language: string;
  state: string;
  invoice_id: string | null;
  error: string | null;
  chat_id: number | null;
  message_id: number | null;
}

/** Reads the SQLite file the app writes, through a separate read-only connection. */
function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(h.databasePath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
const ordersOf = (userId: number) => query<OrderRow>('SELECT * FROM orders WHERE user_id = ? ORDER BY id', userId);
const attemptsOf = (orderId: number) =>
  query<{ outcome: string; http_status: number | null }>('SELECT outcome, http_status FROM invoice_attempts WHERE order_id = ? ORDER BY id', orderId);
const checkoutStateOf = (userId: number) => query<{ key: string }>('SELECT key FROM kv WHERE key = ?', `conv:${userId}`);

/** Polls until `read` gives a value (for writes the app makes right after the message the test waited for). */
async function until<T>(read: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`until: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let nextUserId = 1000;
function customer(language = 'en', phone = '+77011234567'): ScriptedUser {
  return h.tg.addUser({ id: nextUserId++, first_name: 'Aidos', language_code: language, phone_number: phone });
}

const startsWith = (prefix: string) => (m: BotMessage) => m.text?.startsWith(prefix) ?? false;
const isPrompt = startsWith('Which Kaspi number');
const isInvoice = startsWith('Invoice for');

/** Opens the item's card by deep link and presses its Buy button. */
async function pressBuy(u: ScriptedUser, item = 'monthly'): Promise<BotMessage> {
  await u.sendText(`/start ${item}`);
  const card = await u.waitForMessage();
  await u.pressButton(/^(Buy for|Купить за) /, { messageId: card.message_id });
  return card;
}

/**
 * Everything a queued update could still make the bot say has been said once this returns: updates
 * are handled one by one, so the answer to /support comes after the answers to earlier actions.
 */
async function settle(u: ScriptedUser): Promise<void> {
  await u.sendText('/support');
  await u.waitForMessage(startsWith('Questions?'));
}

/** A first purchase of the Monthly plan with the user's own contact, up to the invoice message. */
async function buyWithContact(u: ScriptedUser, item = 'monthly'): Promise<BotMessage> {
  await pressBuy(u, item);
  await u.waitForMessage(isPrompt);
  await u.shareContact();
  return u.waitForMessage(isInvoice);
}

/** The latest reply keyboard (or its removal) the bot sent in the chat. */
function lastReplyKeyboardMarkup(u: ScriptedUser): object | undefined {
  return u
    .messages()
    .map((m) => m.reply_markup)
    .filter((r) => r !== undefined && ('keyboard' in r || 'remove_keyboard' in r))
    .at(-1);
}

describe('checkout: a full purchase', () => {
  it('sends one Kaspi invoice to the shared own number and shows it with "I have paid" and "Cancel"', async () => {
    const u = customer('en');
    await pressBuy(u);
    const prompt = await u.waitForMessage(isPrompt);
    expect(prompt.text).toBe(`${PROMPT_EN}\n${TYPED_EN}`);
    expect(prompt.reply_markup).toEqual(CONTACT_KEYBOARD_EN);
    expect(h.tg.callbackAnswers.at(-1)?.show_alert).toBeUndefined();
    expect(ordersOf(u.id)).toEqual([]);

    await u.shareContact();
    const invoiceMessage = await u.waitForMessage(isInvoice);
    expect(invoiceMessage.text).toContain(`Invoice for ${MONTHLY} sent to ${MASKED}. Open Kaspi and confirm it. It is valid until `);
    // A plan with renewal invoices also offers to turn them on, below the two invoice buttons.
    expect(u.buttons(invoiceMessage)).toEqual(['I have paid', 'Cancel', 'Turn on renewal invoices']);
    // The phone keyboard is taken away before the invoice message.
    expect(lastReplyKeyboardMarkup(u)).toEqual({ remove_keyboard: true });

    expect(h.aipay.invoices).toHaveLength(1);
    const invoice = h.aipay.invoices[0]!;
    expect(invoice).toMatchObject({ phone: '77011234567', amount: 4900, status: 'pending' });
    // The description carries the plan's title in the catalog's default language (ru).
    expect(invoice.description).toBe('Test Academy: Месяц');
    expect(invoice.request.headers.authorization).toBe(`Bearer ${API_KEY}`);

    const [order] = ordersOf(u.id);
    expect(order).toMatchObject({
      external_id: invoice.external_id,
      item_id: 'monthly',
      amount: 4900,
      phone: '77011234567',
      phone_source: 'contact',
      language: 'en',
      state: 'invoiced',
      invoice_id: invoice.invoice_id,
    });
    expect(ordersOf(u.id)).toHaveLength(1);
    expect(attemptsOf(order!.id)).toEqual([{ outcome: 'ok', http_status: 201 }]);
    await until(() => ordersOf(u.id)[0]!.message_id === invoiceMessage.message_id, 'the invoice message id stored with the order');
    expect(ordersOf(u.id)[0]!.chat_id).toBe(u.id);
    expect(query<{ phone: string }>('SELECT phone FROM customers WHERE user_id = ?', u.id)).toEqual([{ phone: '77011234567' }]);
  });

  it('speaks Russian to a Russian-speaking customer all the way to the invoice', async () => {
    const u = customer('ru');
    await pressBuy(u);
    const prompt = await u.waitForMessage(startsWith('На какой номер Kaspi'));
    expect(prompt.text).toBe(`На какой номер Kaspi отправить счёт за Месяц (${MONTHLY})?\nВведите номер телефона Kaspi, например +7 701 123 45 67.`);
    expect(prompt.reply_markup).toMatchObject({ keyboard: [[{ text: '📱 Использовать номер из Telegram', request_contact: true }], [{ text: 'Отмена' }]] });
    await u.shareContact();
    const invoiceMessage = await u.waitForMessage(startsWith('Счёт на'));
    expect(invoiceMessage.text).toContain(`Счёт на ${MONTHLY} отправлен на ${MASKED}. Откройте Kaspi и подтвердите оплату.`);
    expect(u.buttons(invoiceMessage).slice(0, 2)).toEqual(['Я оплатил(а)', 'Отмена']);
    expect(h.aipay.invoices.map((i) => [i.phone, i.amount])).toEqual([['77011234567', 4900]]);
    expect(ordersOf(u.id)).toEqual([expect.objectContaining({ language: 'ru', state: 'invoiced', invoice_id: h.aipay.invoices[0]!.invoice_id })]);
  });
});

describe('checkout: the phone number', () => {
  it('refuses an invalid and a Russian number, then asks to confirm a typed Kazakhstan number and invoices it on Yes', async () => {
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);

    await u.sendText('my number is 123');
    expect((await u.waitForMessage()).text).toBe("That doesn't look like a phone number. Type it like +7 701 123 45 67.");
    await u.sendText('+7 916 123 45 67');
    expect((await u.waitForMessage()).text).toBe('This looks like a Russian number (+7 9xx). Kaspi works with Kazakhstan numbers (+7 7xx) only.');
    await u.sendText('+7 495 123 45 67');
    expect((await u.waitForMessage()).text).toBe('Kaspi needs a Kazakhstan mobile number (+7 7xx …). Please type it like +7 701 123 45 67.');
    expect(h.aipay.requests).toEqual([]);
    expect(ordersOf(u.id)).toEqual([]);

    await u.sendText('8 701 123 45 67');
    const confirm = await u.waitForMessage();
    expect(confirm.text).toBe(`Send the invoice to ${MASKED}?`);
    expect(u.buttons(confirm)).toEqual(['Yes, send it', 'Another number', 'Cancel']);
    expect(h.aipay.requests).toEqual([]);

    await u.pressButton('Yes, send it');
    const edited = await u.waitForMessage((m) => m.message_id === confirm.message_id);
    expect(edited.text).toBe(`✅ ${MASKED}`);
    const invoiceMessage = await u.waitForMessage(isInvoice);
    expect(invoiceMessage.text).toContain(`sent to ${MASKED}`);
    expect(h.aipay.invoices.map((i) => i.phone)).toEqual(['77011234567']);
    expect(ordersOf(u.id)).toEqual([expect.objectContaining({ phone: '77011234567', phone_source: 'typed', state: 'invoiced' })]);
  });

  it('refuses someone else\'s contact with the phone_not_own text and keeps waiting for the customer\'s own', async () => {
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.shareContact({ ownContact: false, phone: '+77051112233' });
    expect((await u.waitForMessage()).text).toBe('Please share your own contact with the button, or type the number.');
    expect(h.aipay.requests).toEqual([]);
    expect(ordersOf(u.id)).toEqual([]);

    await u.shareContact();
    await u.waitForMessage(isInvoice);
    expect(h.aipay.invoices.map((i) => i.phone)).toEqual(['77011234567']);
  });

  it('refuses a shared contact with a Russian number', async () => {
    const u = customer('en', '+79161234567');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.shareContact();
    expect((await u.waitForMessage()).text).toBe('This looks like a Russian number (+7 9xx). Kaspi works with Kazakhstan numbers (+7 7xx) only.');
    await settle(u);
    expect(h.aipay.requests).toEqual([]);
    expect(ordersOf(u.id)).toEqual([]);
  });

  it('offers the saved number first on the next purchase and invoices it on Yes', async () => {
    const u = customer('en');
    await buyWithContact(u);

    await pressBuy(u, 'bundle');
    const offer = await u.waitForMessage(isPrompt);
    expect(offer.text).toBe(`Which Kaspi number should I send the invoice for Channel + chat (${money('12 000')}) to?\nSend the invoice to ${MASKED} again?`);
    expect(u.buttons(offer)).toEqual(['Yes, send it', 'Another number', 'Cancel']);
    await u.pressButton('Yes, send it');
    const invoiceMessage = await u.waitForMessage(isInvoice);
    expect(invoiceMessage.text).toContain(`Invoice for ${money('12 000')} sent to ${MASKED}`);
    expect(h.aipay.invoices.map((i) => [i.phone, i.amount])).toEqual([
      ['77011234567', 4900],
      ['77011234567', 12000],
    ]);
    expect(ordersOf(u.id).map((o) => [o.item_id, o.phone_source, o.state])).toEqual([
      ['monthly', 'contact', 'invoiced'],
      ['bundle', 'saved', 'invoiced'],
    ]);
  });

  it('takes another number instead of the saved one and saves it for next time', async () => {
    const u = customer('en');
    await buyWithContact(u);
    await pressBuy(u, 'bundle');
    await u.waitForMessage(isPrompt);
    await u.pressButton('Another number');
    const prompt = await u.waitForMessage(isPrompt);
    expect(prompt.reply_markup).toEqual(CONTACT_KEYBOARD_EN);
    await u.sendText('+7 747 987 65 43');
    await u.waitForMessage(startsWith('Send the invoice to +7 747 *** 65 43?'));
    await u.pressButton('Yes, send it');
    await u.waitForMessage(isInvoice);
    expect(h.aipay.invoices.at(-1)).toMatchObject({ phone: '77479876543', amount: 12000 });
    expect(ordersOf(u.id).at(-1)).toMatchObject({ phone: '77479876543', phone_source: 'typed' });
    await until(() => query<{ phone: string }>('SELECT phone FROM customers WHERE user_id = ?', u.id)[0]?.phone === '77479876543', 'the new phone saved');
  });
});

describe('checkout: resilience', () => {
  it('resumes a checkout after a restart in the middle and creates the invoice', async () => {
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    // The plugin stores the checkout after the prompt went out: restart once it is in the file.
    await until(() => checkoutStateOf(u.id).length === 1, 'the checkout stored');
    await h.restart();

    await u.sendText('+7 701 123 45 67');
    const confirm = await u.waitForMessage();
    expect(confirm.text).toBe(`Send the invoice to ${MASKED}?`);
    await u.pressButton('Yes, send it');
    const invoiceMessage = await u.waitForMessage(isInvoice);
    expect(invoiceMessage.text).toContain(`Invoice for ${MONTHLY} sent to ${MASKED}`);
    expect(h.aipay.invoices).toHaveLength(1);
    expect(ordersOf(u.id)).toEqual([expect.objectContaining({ state: 'invoiced', invoice_id: h.aipay.invoices[0]!.invoice_id, phone_source: 'typed' })]);
  });

  it('retries an AiPay 500 with the same external_id and still sends exactly one invoice', async () => {
    h.aipay.injectFault({ fault: { status: 500 } });
    const u = customer('en');
    const invoiceMessage = await buyWithContact(u);
    expect(invoiceMessage.text).toContain(`sent to ${MASKED}`);
    expect(h.aipay.requests.map((r) => r.status)).toEqual([500, 201]);
    const [order] = ordersOf(u.id);
    expect(h.aipay.requests.map((r) => (r.body as { external_id: string }).external_id)).toEqual([order!.external_id, order!.external_id]);
    expect(h.aipay.invoices).toHaveLength(1);
    expect(order).toMatchObject({ state: 'invoiced', invoice_id: h.aipay.invoices[0]!.invoice_id });
    expect(attemptsOf(order!.id)).toEqual([
      { outcome: 'server_error', http_status: 500 },
      { outcome: 'ok', http_status: 201 },
    ]);
  });

  it('answers an AiPay 401 with a calm failure and "Try again", fails the order and alerts the admin', async () => {
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    h.aipay.injectFault({ fault: { status: 401, body: { error: 'unauthorized', message: 'bad key' } } });
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.shareContact();
    const failed = await u.waitForMessage(startsWith("I couldn't create the invoice"));
    expect(failed.text).toBe("I couldn't create the invoice right now. Please try again in a minute — we've been told.");
    expect(u.buttons(failed)).toEqual(['Try again']);
    expect(u.messages().some((m) => isInvoice(m))).toBe(false);

    expect(h.aipay.requests).toHaveLength(1);
    expect(h.aipay.invoices).toHaveLength(0);
    const [order] = ordersOf(u.id);
    expect(order).toMatchObject({ state: 'failed', invoice_id: null });
    expect(order!.error).toContain('401');
    expect(attemptsOf(order!.id)).toEqual([{ outcome: 'rejected', http_status: 401 }]);

    // The alert is enqueued with the failed order (one transaction), then delivered by the outbox worker.
    expect(query<{ chat_id: number }>("SELECT chat_id FROM outbox WHERE dedupe_key LIKE 'aipay-failed:%'")).toEqual([{ chat_id: ADMIN_ID }]);
    const alert = await admin.waitForMessage((m) => m.text?.includes('AiPay could not create an invoice') ?? false);
    expect(alert.chat_id).toBe(ADMIN_ID);
    expect(alert.text).toContain(order!.external_id);
    expect(alert.text).toContain('401');
    expect(alert.text).not.toContain(API_KEY);

    // "Try again" starts a new checkout (the failed order does not count as open).
    await u.pressButton('Try again');
    const prompt = await u.waitForMessage(isPrompt);
    expect(prompt.reply_markup).toEqual(CONTACT_KEYBOARD_EN);
  });

  it('gives up on an AiPay that never answers after the client timeout and retries', async () => {
    h.aipay.injectFault({ times: 3, fault: { hang: true } });
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    const started = Date.now();
    await u.shareContact();
    const failed = await u.waitForMessage(startsWith("I couldn't create the invoice"), 15_000);
    const took = Date.now() - started;
    expect(u.buttons(failed)).toEqual(['Try again']);
    // The harness runs the client with timeoutMs 1000 and 3 attempts: it waited for each of them (a
    // busy machine only adds to this). The deadline above bounds it; the requests below count the tries.
    expect(took).toBeGreaterThanOrEqual(3000);
    expect(h.aipay.requests.map((r) => r.fault)).toEqual(['hang', 'hang', 'hang']);
    const [order] = ordersOf(u.id);
    expect(order!.state).toBe('failed');
    expect(attemptsOf(order!.id).map((a) => a.outcome)).toEqual(['timeout', 'timeout', 'timeout']);
  });

  // Regression test (fixed): updates are handled one at a time (grammY's built-in long polling, src/app.ts
  // `bot.start`), and the checkout awaits AiPay inside the update handler
  // (checkout-conversation.ts, the `conversation.external` around `checkout.invoice`). While one
  // customer's invoice is being created nobody else gets any answer: with the production client
  // (3 tries of 10 s) the whole bot is silent for over 30 s whenever AiPay is slow.
  it('keeps answering other customers while AiPay is slow for one of them', async () => {
    // Every try hangs until the client gives up (3 × 1 s in the harness).
    h.aipay.injectFault({ times: 3, fault: { hang: true } });
    const slow = customer('en');
    await pressBuy(slow);
    await slow.waitForMessage(isPrompt);
    await slow.shareContact();
    await until(() => h.aipay.requests.length === 1, 'the first AiPay request');
    const other = customer('en');
    await other.sendText('/support');
    await other.waitForMessage(startsWith('Questions?'));
    // Answered while the slow checkout still waited for AiPay: a bot held up by it would answer only
    // after telling the slow customer the invoice failed. The order is checked, not the time taken.
    expect(slow.messages().filter((m) => m.text?.startsWith("I couldn't create the invoice"))).toEqual([]);
  });

  // Regression test (fixed): src/app.ts stops the bot with grammY's bot.stop(), which does not wait for the
  // update being handled, and then closes the database under it. A restart while AiPay is being
  // called (here: the first try hangs for the 1 s client timeout, the retry would succeed) makes
  // the old handler hit "The database connection is not open": no retry, the order stays
  // `created`, and the contact update is already confirmed, so the new process never sees it.
  it('finishes the invoice being created when the app is restarted meanwhile', async () => {
    h.aipay.injectFault({ fault: { hang: true } });
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await until(() => checkoutStateOf(u.id).length === 1, 'the checkout stored');
    await u.shareContact();
    await until(() => h.aipay.requests.length === 1, 'the first AiPay request');
    await h.restart();
    // Fixed, the invoice message comes once the retry succeeds; today "Something went wrong" does.
    const outcome = await u.waitForMessage((m) => isInvoice(m) || (m.text?.startsWith('Something went wrong') ?? false));
    expect(outcome.text).toMatch(/^Invoice for /);
    expect(ordersOf(u.id)).toEqual([expect.objectContaining({ state: 'invoiced' })]);
  });

  // Regression test (fixed): after a failed invoice the phone reply keyboard ("📱 Use my Telegram number" /
  // "Cancel") stays on screen; checkout-conversation.ts removes it on success, on a limit and on
  // Cancel, but the `invoice_failed` reply carries only the inline "Try again" keyboard.
  it('takes the phone keyboard away when the invoice could not be created', async () => {
    h.aipay.injectFault({ fault: { status: 401 } });
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.sendText('+7 701 123 45 67');
    await u.waitForMessage(startsWith('Send the invoice to'));
    await u.pressButton('Yes, send it');
    await u.waitForMessage(startsWith("I couldn't create the invoice"));
    expect(lastReplyKeyboardMarkup(u)).toEqual({ remove_keyboard: true });
  });
});

describe('checkout: cancelling and leaving', () => {
  it('ends the checkout when Cancel is pressed on the phone keyboard', async () => {
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.sendText('Cancel');
    const cancelled = await u.waitForMessage();
    expect(cancelled.text).toBe('Cancelled. /start shows the menu.');
    expect(cancelled.reply_markup).toEqual({ remove_keyboard: true });
    await until(() => checkoutStateOf(u.id).length === 0, 'the checkout removed');

    // The checkout is over: a contact now is not taken as the phone for an invoice.
    await u.shareContact();
    expect((await u.waitForMessage()).text).toContain('Choose what');
    expect(h.aipay.requests).toEqual([]);
    expect(ordersOf(u.id)).toEqual([]);
  });

  it('ends the checkout when Cancel is pressed on the number confirmation', async () => {
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.sendText('+7 701 123 45 67');
    await u.waitForMessage(startsWith('Send the invoice to'));
    await u.pressButton('Cancel');
    expect((await u.waitForMessage()).text).toBe('Cancelled. /start shows the menu.');
    await settle(u);
    expect(h.aipay.requests).toEqual([]);
    expect(ordersOf(u.id)).toEqual([]);
  });

  it('marks the order cancelled when Cancel is pressed on the invoice message', async () => {
    const u = customer('en');
    const invoiceMessage = await buyWithContact(u);
    await until(() => ordersOf(u.id)[0]!.message_id !== null, 'the invoice message id stored');
    await u.pressButton('Cancel', { messageId: invoiceMessage.message_id });
    const edited = await u.waitForMessage((m) => m.message_id === invoiceMessage.message_id);
    expect(edited.text).toBe("Invoice cancelled. If you already paid it, don't worry: you'll get access anyway.");
    expect(u.buttons(edited)).toEqual([]);
    expect(ordersOf(u.id)).toEqual([expect.objectContaining({ state: 'cancelled', invoice_id: h.aipay.invoices[0]!.invoice_id })]);
  });

  it('leaves the checkout cleanly for another command: /my is answered and a later number is not taken as the phone', async () => {
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.sendText('/my');
    expect((await u.waitForMessage()).text).toBe("You have no subscriptions or purchases yet. /start shows what's available.");
    await until(() => checkoutStateOf(u.id).length === 0, 'the checkout removed');

    await u.sendText('+7 701 123 45 67');
    const answer = await u.waitForMessage();
    expect(answer.text).toContain('Choose what');
    await settle(u);
    expect(u.messages().some((m) => m.text?.startsWith('Send the invoice to'))).toBe(false);
    expect(h.aipay.requests).toEqual([]);
    expect(ordersOf(u.id)).toEqual([]);
  });
});

describe('checkout: abuse limits', () => {
  it('refuses a third Buy with an alert while two invoices are open, and allows it again after one is cancelled', async () => {
    const u = customer('en');
    await buyWithContact(u);
    await pressBuy(u, 'bundle');
    await u.waitForMessage(isPrompt);
    await u.pressButton('Yes, send it');
    const second = await u.waitForMessage(isInvoice);
    expect(ordersOf(u.id).map((o) => o.state)).toEqual(['invoiced', 'invoiced']);

    const answersBefore = h.tg.callbackAnswers.length;
    const card = await pressBuy(u, 'course');
    const alert = await h.tg.waitForCall('answerCallbackQuery', (c) => c.params.show_alert === true);
    expect(alert.params.text).toBe('You already have 2 unpaid invoices. Pay or cancel one first.');
    expect(h.tg.callbackAnswers.slice(answersBefore)).toEqual([expect.objectContaining({ show_alert: true })]);
    await settle(u);
    expect(u.messages().filter((m) => isPrompt(m) && m.message_id > card.message_id)).toEqual([]);
    await until(() => checkoutStateOf(u.id).length === 0, 'no checkout stored');
    expect(ordersOf(u.id)).toHaveLength(2);
    expect(h.aipay.requests).toHaveLength(2);

    await u.pressButton('Cancel', { messageId: second.message_id });
    await u.waitForMessage(startsWith('Invoice cancelled'));
    await u.pressButton(/^Buy for/, { messageId: card.message_id });
    const offer = await u.waitForMessage(isPrompt);
    expect(offer.text).toContain('Course');
  });

  it('refuses a new typed number beyond the daily limit at the end of the checkout, without an order', async () => {
    await h.stop();
    h = await startHarness({ catalog: TEST_CATALOG.replace('invoice_lifetime: 1h', 'invoice_lifetime: 1h\n  limits: { phones_per_day: 1 }') });
    const u = customer('en');
    await pressBuy(u);
    await u.waitForMessage(isPrompt);
    await u.sendText('+7 701 123 45 67');
    await u.waitForMessage(startsWith('Send the invoice to'));
    await u.pressButton('Yes, send it');
    await u.waitForMessage(isInvoice);

    await pressBuy(u, 'bundle');
    await u.waitForMessage(isPrompt);
    await u.pressButton('Another number');
    await u.waitForMessage(isPrompt);
    await u.sendText('+7 747 987 65 43');
    await u.waitForMessage(startsWith('Send the invoice to'));
    await u.pressButton('Yes, send it');
    const refused = await u.waitForMessage(startsWith('Too many'));
    expect(refused.text).toBe('Too many different numbers today. Please try again tomorrow or contact support.');
    expect(refused.reply_markup).toEqual({ remove_keyboard: true });
    expect(ordersOf(u.id)).toHaveLength(1);
    expect(h.aipay.requests).toHaveLength(1);
  });

  it('makes one checkout and one order when Buy is pressed twice quickly', async () => {
    const u = customer('en');
    await u.sendText('/start monthly');
    const card = await u.waitForMessage();
    const answersBefore = h.tg.callbackAnswers.length;
    await u.pressButton(/^Buy for/, { messageId: card.message_id });
    await u.pressButton(/^Buy for/, { messageId: card.message_id });
    // Each press is answered; the second one restarts the checkout (a second prompt), never a second one beside it.
    await until(() => u.messages().filter(isPrompt).length === 2, 'a prompt for each press');
    expect(h.tg.callbackAnswers.length - answersBefore).toBe(2);
    await until(() => checkoutStateOf(u.id).length === 1, 'the checkout stored');
    await u.shareContact();
    await u.waitForMessage(isInvoice);
    await settle(u);
    expect(u.messages().filter(isInvoice)).toHaveLength(1);
    expect(ordersOf(u.id)).toHaveLength(1);
    expect(h.aipay.invoices).toHaveLength(1);
    expect(h.aipay.requests).toHaveLength(1);
  });
});
