import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatDate } from '../../src/catalog/format.js';
import { addMonths } from '../../src/catalog/time-zone.js';
import type { ManualClock } from '../../src/clock.js';
import type { BotMessage, ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, CHAT_CHAT, MAIN_CHAT, type Harness } from '../support/harness.js';
import {
  almaty,
  buyer,
  DAY,
  editCatalog,
  enterPromo,
  FIXTURE_PDF,
  MINUTE,
  money,
  offersCatalog,
  openCard,
  PROMO_PROMPT,
  startOffers,
  startsWith,
  ZONE,
  type OffersHarness,
} from '../support/offers-helpers.js';
import { createInvoicedOrder, eventually, messageJobs, sendEvent } from '../support/payments-helpers.js';

/*
 * One-time products (text + link, a file, channels for life, "get it again"), free trials and promo
 * codes, through the emulator. Time is pinned at 02:00 in Almaty on 10 March 2027 — still 9 March
 * in UTC, so a promo date compared in the wrong zone shows.
 */

const TODAY = '2027-03-10';
const START = almaty(`${TODAY}T02:00`);

let o: OffersHarness;
let h: Harness;
let clock: ManualClock;
beforeEach(async () => {
  o = await startOffers(START, { catalog: offersCatalog(TODAY) });
  ({ h, clock } = o);
});
afterEach(async () => {
  await o.stop();
});

interface OrderRow {
  id: number;
  external_id: string;
  item_id: string;
  list_price: number;
  promo_code: string | null;
  amount: number;
  phone: string | null;
  state: string;
  paid_via: string | null;
}
interface SubscriptionRow {
  plan_id: string;
  starts_at: number;
  ends_at: number;
  state: string;
  trial: number;
}
const ordersOf = (userId: number) => h.app.db.prepare<[number], OrderRow>('SELECT * FROM orders WHERE user_id = ? ORDER BY id').all(userId);
const ordersWithCode = (code: string) => h.app.db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE promo_code = ? ORDER BY id').all(code);
const subscriptionsOf = (userId: number) => h.app.db.prepare<[number], SubscriptionRow>('SELECT * FROM subscriptions WHERE user_id = ? ORDER BY id').all(userId);
const purchasesOf = (userId: number) =>
  h.app.db.prepare<[number], { id: number; product_id: string; order_id: number }>('SELECT * FROM purchases WHERE user_id = ? ORDER BY id').all(userId);
const trialsOf = (userId: number) => h.app.db.prepare<[number], { plan_id: string }>('SELECT plan_id FROM trials WHERE user_id = ?').all(userId);
const documentCalls = () => h.tg.calls.filter((c) => c.method === 'sendDocument');
const isDocument = (m: BotMessage) => m.document !== undefined;
const linkIn = (text: string | undefined): string => {
  const match = /https:\/\/t\.me\/\+[\w-]+/.exec(text ?? '');
  if (!match) throw new Error(`no invite link in ${JSON.stringify(text)}`);
  return match[0];
};

/** Pays `itemId` for `user` by webhook (the order goes straight to invoiced) and waits for the receipt. */
async function buy(user: ScriptedUser, itemId: string): Promise<BotMessage> {
  const order = createInvoicedOrder(h.app, { userId: user.id, itemId });
  user.mark();
  const res = await sendEvent(h, order);
  expect(JSON.parse(res.body)).toMatchObject({ ok: true, outcome: 'granted' });
  return user.waitForMessage(startsWith('Payment received'));
}

/** Opens a join-request link and waits until the bot approved it. */
async function join(user: ScriptedUser, chatId: number, link: string): Promise<void> {
  expect(await user.openInviteLink(link)).toBe('requested');
  await eventually(() => h.tg.memberStatus(chatId, user.id) === 'member', 5000, `user ${user.id} approved into ${chatId}`);
}

/** The callback answer the bot gives to the next button press (after `from` answers). */
const answerAfter = (from: number) => eventually(() => h.tg.callbackAnswers[from], 5000, 'a callback answer');

describe('products', () => {
  it('a text-and-link product arrives as one message after payment: receipt, text and link', async () => {
    const user = await buyer(h, 301);
    const receipt = await buy(user, 'course');
    expect(receipt.text).toBe(`Payment received: Course, ${money(15000)}. Thank you!\n\nThanks!\n\nYour link: https://example.com/course`);
    expect(purchasesOf(301)).toEqual([expect.objectContaining({ product_id: 'course', order_id: ordersOf(301)[0]!.id })]);
    await o.settle();
    expect(user.messages().filter(isDocument)).toEqual([]);
    expect(subscriptionsOf(301)).toEqual([]);
  });

  it('a file product sends the file as a document, and the next sale sends it by file_id instead of uploading it again', async () => {
    const bytes = readFileSync(FIXTURE_PDF);
    const first = await buyer(h, 311);
    const second = await buyer(h, 312);

    const receipt = await buy(first, 'guide');
    expect(receipt.text).toBe(`Payment received: Guide, ${money(3000)}. Thank you!\n\nHere is your guide.`);
    const doc = await first.waitForMessage(isDocument);
    expect(doc.document).toMatchObject({ file_name: 'guide.pdf' });
    const fileId = doc.document!.file_id;
    expect(h.tg.fileContent(fileId)).toEqual(bytes);
    expect(documentCalls()).toHaveLength(1);
    expect(documentCalls()[0]!.params.document).toEqual({ upload: 'guide.pdf', size: bytes.length });

    await buy(second, 'guide');
    const doc2 = await second.waitForMessage(isDocument);
    expect(documentCalls()).toHaveLength(2);
    expect(documentCalls()[1]!.params.document).toBe(fileId);
    expect(doc2.document!.file_id).toBe(fileId);
    expect(h.tg.fileContent(doc2.document!.file_id)).toEqual(bytes);
  });

  it('/my lists a purchase with "Get Guide again", which delivers it again (the file by file_id) without a new order', async () => {
    const user = await buyer(h, 321);
    await buy(user, 'guide');
    const doc = await user.waitForMessage(isDocument);

    await user.sendText('/my');
    const my = await user.waitForMessage(startsWith('Your subscriptions and purchases'));
    expect(my.text).toBe(`Your subscriptions and purchases:\n\n• Guide: bought ${formatDate(clock.now(), 'en', ZONE)}`);
    expect(user.buttons(my)).toEqual(['Get Guide again']);

    await user.pressButton('Get Guide again');
    const again = await user.waitForMessage(startsWith('Guide'));
    expect(again.text).toBe('Guide\n\nHere is your guide.');
    const doc2 = await user.waitForMessage(isDocument);
    expect(doc2.document!.file_id).toBe(doc.document!.file_id);
    expect(documentCalls().at(-1)!.params.document).toBe(doc.document!.file_id);
    expect(ordersOf(321)).toHaveLength(1);
    expect(purchasesOf(321)).toHaveLength(1);
    expect(h.aipay.invoices).toEqual([]);
  });

  it('a channel for life: a link after payment, and a year later the expiry job removes the customer only from the channel whose subscription ended', async () => {
    const user = await buyer(h, 331);
    const receipt = await buy(user, 'alumni');
    expect(receipt.text).toBe(`Payment received: Alumni chat, ${money(20000)}. Thank you!`);
    const invite = await user.waitForMessage(startsWith('Tap to join Chat: '));
    await join(user, CHAT_CHAT, linkIn(invite.text));

    // A 30-day bundle of the channel and the same chat on top.
    await buy(user, 'bundle');
    const mainInvite = await user.waitForMessage(startsWith('Tap to join Channel: '));
    await join(user, MAIN_CHAT, linkIn(mainInvite.text));
    await o.settle();

    clock.advance(365 * DAY);
    const callsBefore = h.tg.calls.length;
    user.mark();
    await h.app.scheduler.runNow('expiry');
    await o.settle();
    await user.waitForMessage(startsWith('Your subscription Channel + chat has ended.'));
    expect(subscriptionsOf(331)).toEqual([expect.objectContaining({ plan_id: 'bundle', state: 'ended' })]);
    expect(h.tg.memberStatus(MAIN_CHAT, 331)).toBe('left');
    expect(h.tg.memberStatus(CHAT_CHAT, 331)).toBe('member');
    const bans = h.tg.calls.slice(callsBefore).filter((c) => c.method === 'banChatMember');
    expect(bans.map((c) => Number(c.params.chat_id))).toEqual([MAIN_CHAT]);
  });

  it('"Get Alumni chat again" after leaving the chat sends a fresh link that lets the customer back in', async () => {
    const user = await buyer(h, 341);
    await buy(user, 'alumni');
    const invite = await user.waitForMessage(startsWith('Tap to join Chat: '));
    const first = linkIn(invite.text);
    await join(user, CHAT_CHAT, first);
    await user.leaveChat(CHAT_CHAT);
    // Later (the manual clock stands still otherwise; join requests are told apart by their date).
    clock.advance(10 * MINUTE);

    await user.sendText('/my');
    const my = await user.waitForMessage(startsWith('Your subscriptions and purchases'));
    expect(user.buttons(my)).toEqual(['Get Alumni chat again']);
    await user.pressButton('Get Alumni chat again');
    await user.waitForMessage((m) => m.text === 'Alumni chat');
    const again = await user.waitForMessage(startsWith('Tap to join Chat: '));
    expect(linkIn(again.text)).not.toBe(first);
    await join(user, CHAT_CHAT, linkIn(again.text));
    expect(ordersOf(341)).toHaveLength(1);
  });
});

describe('free trials', () => {
  const TRY = 'Try free for 3 days';

  it('"Try free for 3 days" starts the trial at once: message, link, a 3-day trial subscription, no invoice; the card stops offering it', async () => {
    const user = await buyer(h, 401);
    const card = await openCard(user, 'monthly');
    expect(card.text).toContain('Free trial: 3 days');
    expect(user.buttons(card)).toEqual([`Buy for ${money(4900)}`, TRY, 'I have a promo code', '« Back']);

    await user.pressButton(TRY, { messageId: card.message_id });
    const endsAt = clock.now() + 3 * DAY;
    const started = await user.waitForMessage(startsWith('Your free trial'));
    expect(started.text).toBe(`Your free trial of Monthly is on until ${formatDate(endsAt, 'en', ZONE)}.`);
    const invite = await user.waitForMessage(startsWith('Tap to join Channel: '));
    expect(subscriptionsOf(401)).toEqual([expect.objectContaining({ plan_id: 'monthly', starts_at: clock.now(), ends_at: endsAt, state: 'active', trial: 1 })]);
    expect(ordersOf(401)).toEqual([expect.objectContaining({ item_id: 'monthly', amount: 0, list_price: 4900, state: 'paid', paid_via: 'free', promo_code: null })]);
    expect(h.aipay.invoices).toEqual([]);
    await join(user, MAIN_CHAT, linkIn(invite.text));

    const later = await openCard(user, 'monthly');
    expect(later.text).not.toContain('Free trial');
    expect(user.buttons(later)).toEqual([`Buy for ${money(4900)}`, 'I have a promo code', '« Back']);

    // The button of the old card still exists in the chat: it is refused.
    const answers = h.tg.callbackAnswers.length;
    await user.pressButton(TRY, { messageId: card.message_id });
    expect(await answerAfter(answers)).toMatchObject({ text: "You've already used the free trial of Monthly.", show_alert: true });
    await o.settle();
    expect(subscriptionsOf(401)).toHaveLength(1);
    expect(ordersOf(401)).toHaveLength(1);
    expect(trialsOf(401)).toEqual([{ plan_id: 'monthly' }]);
  });

  it('a trial button on a card shown before the catalog dropped the trial says the offer is gone, not "already used"', async () => {
    const user = await buyer(h, 403);
    const card = await openCard(user, 'monthly');
    h.writeCatalog(offersCatalog(TODAY).replace(/\n\s*trial_days: 3/, ''));
    expect(h.app.reloadCatalog()).toBe(true);
    const answers = h.tg.callbackAnswers.length;
    await user.pressButton(TRY, { messageId: card.message_id });
    expect(await answerAfter(answers)).toMatchObject({ text: "This offer is no longer available. Here is what's available now:" });
    await o.settle();
    expect(subscriptionsOf(403)).toEqual([]);
    expect(trialsOf(403)).toEqual([]);
  });

  it('pressing the trial button twice at once grants one trial', async () => {
    const user = await buyer(h, 402);
    const card = await openCard(user, 'monthly');
    const answers = h.tg.callbackAnswers.length;
    await Promise.all([user.pressButton(TRY, { messageId: card.message_id }), user.pressButton(TRY, { messageId: card.message_id })]);
    await eventually(() => h.tg.callbackAnswers.length >= answers + 2, 5000, 'two callback answers');
    expect(h.tg.callbackAnswers.slice(answers).filter((a) => a.show_alert)).toEqual([
      expect.objectContaining({ text: "You've already used the free trial of Monthly." }),
    ]);
    expect(subscriptionsOf(402)).toHaveLength(1);
    expect(ordersOf(402)).toHaveLength(1);
  });

  it('when the trial ends the customer is removed, and the trial is never offered again', async () => {
    const user = await buyer(h, 403);
    const card = await openCard(user, 'monthly');
    await user.pressButton(TRY, { messageId: card.message_id });
    const invite = await user.waitForMessage(startsWith('Tap to join Channel: '));
    await join(user, MAIN_CHAT, linkIn(invite.text));
    await o.settle();

    clock.advance(4 * DAY);
    user.mark();
    await h.app.scheduler.runNow('expiry');
    await o.settle();
    const ended = await user.waitForMessage(startsWith('Your subscription Monthly has ended'));
    expect(ended.text).toBe('Your subscription Monthly has ended. Renew any time to come back.');
    expect(h.tg.memberStatus(MAIN_CHAT, 403)).toBe('left');
    expect(subscriptionsOf(403)).toEqual([expect.objectContaining({ trial: 1, state: 'ended' })]);

    const later = await openCard(user, 'monthly');
    expect(later.text).not.toContain('Free trial');
    expect(user.buttons(later)).not.toContain(TRY);
    const answers = h.tg.callbackAnswers.length;
    await user.pressButton(TRY, { messageId: card.message_id });
    expect(await answerAfter(answers)).toMatchObject({ text: "You've already used the free trial of Monthly.", show_alert: true });
    expect(subscriptionsOf(403)).toHaveLength(1);
  });
});

describe('promo codes', () => {
  it.each([
    ['an unknown code', 'monthly', 'NOSUCH', 'There is no promo code NOSUCH. Check the spelling.'],
    ['an unknown code, shown as typed (markup stays text)', 'monthly', '<b>x</b>', 'There is no promo code <b>x</b>. Check the spelling.'],
    ['a code that has not started yet, with its first day', 'monthly', 'spring', 'Promo code SPRING works from 15 Mar 2027.'],
    ['a code whose last day was yesterday in Almaty (still today in UTC)', 'monthly', 'OLD', 'Promo code OLD has expired.'],
    ['a code for other items', 'monthly', 'COURSEONLY', "Promo code COURSEONLY doesn't apply to Monthly."],
    ['a plan code typed on a product', 'course', 'WELCOME10', "Promo code WELCOME10 doesn't apply to Course."],
  ])('refuses %s with the exact reason, and no order is made', async (_what, itemId, typed, expected) => {
    const user = await buyer(h, 501);
    const answer = await enterPromo(user, itemId, typed);
    expect(answer.text).toBe(expected);
    await o.settle();
    expect(user.messages().filter(startsWith('Which Kaspi number'))).toEqual([]);
    expect(ordersOf(501)).toEqual([]);
    expect(h.aipay.invoices).toEqual([]);
  });

  it.each([
    ['a percent code (WELCOME10 on Monthly)', 'monthly', 'WELCOME10', 'WELCOME10', 'Monthly', 4900, 4410],
    ['a code typed in lower case', 'monthly', 'welcome10', 'WELCOME10', 'Monthly', 4900, 4410],
    ['an amount code (1 000 ₸ off the course)', 'course', 'MINUS1000', 'MINUS1000', 'Course', 15000, 14000],
    ['a code valid only today, Almaty time (still yesterday in UTC)', 'bundle', 'today', 'TODAY', 'Channel + chat', 12000, 6000],
  ])('applies %s, then checks out at the new price: phone prompt, AiPay invoice, order, receipt', async (_what, itemId, typed, code, title, listPrice, price) => {
    const user = await buyer(h, 511);
    const applied = await enterPromo(user, itemId, typed);
    expect(applied.text).toBe(`Promo code ${code} applied: ${money(listPrice)} → ${money(price)}.`);
    const prompt = await user.waitForMessage(startsWith('Which Kaspi number'));
    expect(prompt.text).toContain(`Which Kaspi number should I send the invoice for ${title} (${money(price)}) to?`);
    await user.shareContact();
    const invoiceMessage = await user.waitForMessage(startsWith('Invoice for'));
    expect(invoiceMessage.text).toContain(`Invoice for ${money(price)} sent to`);

    const [order, ...others] = ordersOf(511);
    expect(others).toEqual([]);
    expect(order).toMatchObject({ item_id: itemId, promo_code: code, list_price: listPrice, amount: price, state: 'invoiced' });
    expect(h.aipay.invoices.map((i) => i.amount)).toEqual([price]);
    expect(h.aipay.getInvoice(order!.external_id)?.amount).toBe(price);

    user.mark();
    await h.aipay.pay(order!.external_id);
    const receipt = await user.waitForMessage(startsWith('Payment received'));
    expect(receipt.text).toContain(`Payment received: ${title}, ${money(price)}.`);
    const notice = await eventually(() => messageJobs(h.app, ADMIN_ID, /^💰/)[0], 5000, 'the admins’ payment notice');
    expect((JSON.parse(notice.payload) as { text: string }).text).toBe(`💰 ${money(price)} — ${title} — user 511 (order ${order!.external_id}, code ${code})`);
  });

  it('a 100 % code grants at once: no phone, no AiPay invoice, an order of 0 ₸ paid via "free"', async () => {
    const user = await buyer(h, 521);
    await enterPromo(user, 'monthly', 'free100');
    // The grant is committed before the bot replies, so the receipt may come first.
    const applied = await user.waitForMessage(startsWith('Promo code'));
    expect(applied.text).toBe(`Promo code FREE100 applied: ${money(4900)} → ${money(0)}.`);
    const receipt = await user.waitForMessage(startsWith('Payment received'));
    const endsAt = addMonths(clock.now(), 1, ZONE);
    expect(receipt.text).toBe(`Payment received: Monthly, ${money(0)}. Active until ${formatDate(endsAt, 'en', ZONE)}. Thank you!`);
    const invite = await user.waitForMessage(startsWith('Tap to join Channel: '));
    await join(user, MAIN_CHAT, linkIn(invite.text));

    expect(ordersOf(521)).toEqual([
      expect.objectContaining({ item_id: 'monthly', promo_code: 'FREE100', list_price: 4900, amount: 0, state: 'paid', paid_via: 'free', phone: null }),
    ]);
    expect(subscriptionsOf(521)).toEqual([expect.objectContaining({ plan_id: 'monthly', ends_at: endsAt, state: 'active', trial: 0 })]);
    expect(h.aipay.invoices).toEqual([]);
    expect(h.aipay.requests).toEqual([]);
    expect(user.messages().filter(startsWith('Which Kaspi number'))).toEqual([]);
  });

  it('a code with max_uses 1 taken by one open invoice is "used up" for the next customer, and free again once that invoice expires', async () => {
    const first = await buyer(h, 531);
    const second = await buyer(h, 532);
    expect((await enterPromo(first, 'monthly', 'ONCE')).text).toBe(`Promo code ONCE applied: ${money(4900)} → ${money(2450)}.`);
    await first.waitForMessage(startsWith('Which Kaspi number'));
    await first.shareContact();
    await first.waitForMessage(startsWith('Invoice for'));

    expect((await enterPromo(second, 'bundle', 'once')).text).toBe('Promo code ONCE has been used up.');

    const [order] = ordersOf(531);
    await h.aipay.expire(order!.external_id);
    await eventually(() => ordersOf(531)[0]!.state === 'expired', 5000, 'the first order expired');
    expect((await enterPromo(second, 'bundle', 'ONCE')).text).toBe(`Promo code ONCE applied: ${money(12000)} → ${money(6000)}.`);
  });

  it('two customers racing for the last use of a code: exactly one order gets it, the other is told it is used up', async () => {
    const a = await buyer(h, 541);
    const b = await buyer(h, 542);
    for (const user of [a, b]) {
      expect((await enterPromo(user, 'monthly', 'ONCE')).text).toBe(`Promo code ONCE applied: ${money(4900)} → ${money(2450)}.`);
      await user.waitForMessage(startsWith('Which Kaspi number'));
    }
    await Promise.all([a.shareContact(), b.shareContact()]);
    const outcome = (u: ScriptedUser) => u.waitForMessage((m) => startsWith('Invoice for')(m) || startsWith('Promo code ONCE')(m));
    const texts = (await Promise.all([outcome(a), outcome(b)])).map((m) => m.text!);

    expect(texts.filter((t) => t.startsWith(`Invoice for ${money(2450)}`))).toHaveLength(1);
    expect(texts.filter((t) => t === 'Promo code ONCE has been used up.')).toHaveLength(1);
    expect(ordersWithCode('ONCE')).toEqual([expect.objectContaining({ amount: 2450, state: 'invoiced' })]);
    expect(h.aipay.invoices.map((i) => i.amount)).toEqual([2450]);
  });

  it('a command at the promo prompt leaves it: the command is answered, and a code typed afterwards is not taken', async () => {
    const user = await buyer(h, 551);
    const card = await openCard(user, 'monthly');
    await user.pressButton('I have a promo code', { messageId: card.message_id });
    await user.waitForMessage(startsWith(PROMO_PROMPT));

    await user.sendText('/my');
    const my = await user.waitForMessage();
    expect(my.text).toBe("You have no subscriptions or purchases yet. /start shows what's available.");
    await user.sendText('WELCOME10');
    const after = await user.waitForMessage();
    expect(after.text).not.toContain('Promo code');
    expect(after.text).toContain('Hi, Buyer551!');
    expect(ordersOf(551)).toEqual([]);
  });

  // BUG (src/bot/checkout-conversation.ts, checkoutFeature, the `promo` branch): the Buy button
  // refuses a plan with `buy_again_extends: false` while it is active ("already_active" alert),
  // but "I have a promo code" enters the promo conversation, and from there the checkout, without
  // that check — so the plan can be bought again with any code (a 100 % code extends it at once).
  // Fix: run the same active-subscription check for `promo` (and before grantFree/invoice).
  it('a plan that cannot be bought while active cannot be bought through a promo code either', async () => {
    await o.stop();
    o = await startOffers(START, {
      catalog: editCatalog(offersCatalog(TODAY), (doc) => {
        (doc.plans!.monthly as Record<string, unknown>).buy_again_extends = false;
      }),
    });
    ({ h, clock } = o);
    const user = await buyer(h, 561);
    await buy(user, 'monthly');
    const card = await openCard(user, 'monthly');
    const answers = h.tg.callbackAnswers.length;
    await user.pressButton(`Buy for ${money(4900)}`, { messageId: card.message_id });
    expect(await answerAfter(answers)).toMatchObject({ text: expect.stringMatching(/^You already have Monthly until /), show_alert: true });

    const promoAnswers = h.tg.callbackAnswers.length;
    await user.pressButton('I have a promo code', { messageId: card.message_id });
    // The same alert instead of the promo prompt; the press is handled once it is answered.
    expect(await answerAfter(promoAnswers)).toMatchObject({ text: expect.stringMatching(/^You already have Monthly until /), show_alert: true });
    expect(user.messages().filter((m) => m.message_id > card.message_id)).toEqual([]);
    expect(ordersOf(561)).toHaveLength(1);
  });

  it('Cancel at the promo prompt ends it', async () => {
    const user = await buyer(h, 552);
    const card = await openCard(user, 'monthly');
    await user.pressButton('I have a promo code', { messageId: card.message_id });
    await user.waitForMessage(startsWith(PROMO_PROMPT));
    await user.pressButton('Cancel');
    expect((await user.waitForMessage()).text).toBe('Cancelled. /start shows the menu.');
    await user.sendText('WELCOME10');
    expect((await user.waitForMessage()).text).toContain('Hi, Buyer552!');
  });
});
