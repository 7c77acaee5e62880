import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Orders } from '../../src/payments/orders.js';
import type { Terms } from '../../src/payments/terms.js';
import type { ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, CHAT_CHAT, MAIN_CHAT, TEST_CATALOG, type Harness } from '../support/harness.js';
import { addCustomer, almaty, checkoutMonthly, memberCalls, startLifecycle, subscriptionsOf, type LifecycleHarness } from '../support/lifecycle-helpers.js';
import { createInvoicedOrder, eventually, messageJobs, sendEvent } from '../support/payments-helpers.js';

/*
 * Issue 14: what a customer paid for is the chat itself, not the catalog key it had. Renaming a
 * channel's key (same chat_id) or removing a channel in catalog.yaml while the bot runs must not
 * take paid access away, and the admins are told what the edit means for live subscriptions.
 */

const START = almaty('2026-11-10T15:00');

/** TEST_CATALOG with the channel `main` renamed to `premium` (same chat_id), everywhere. */
const RENAMED = TEST_CATALOG.replace('  main: {', '  premium: {').replaceAll('channels: [main', 'channels: [premium');
/** TEST_CATALOG without the channel `chat` (the bundles keep `main` only). */
const WITHOUT_CHAT = TEST_CATALOG.replace(/\n {2}chat: \{.*\}/, '').replaceAll('[main, chat]', '[main]');

let lc: LifecycleHarness;
let h: Harness;
beforeEach(async () => {
  lc = await startLifecycle(START);
  h = lc.h;
});
afterEach(async () => {
  await lc.stop();
});

/** The texts of the messages queued for the admin that match `pattern`. */
const adminTexts = (pattern: RegExp) => messageJobs(h.app, ADMIN_ID, pattern).map((r) => (JSON.parse(r.payload) as { text: string }).text);

/** Waits for the customer's "Tap to join <title>: <link>" message and returns the link. */
async function joinLink(user: ScriptedUser, title: string): Promise<string> {
  await lc.settle();
  const message = await user.waitForMessage((m) => m.text?.startsWith(`Tap to join ${title}:`) ?? false, 8000);
  const link = /https:\/\/t\.me\/\+\S+/.exec(message.text ?? '')?.[0];
  if (!link) throw new Error(`no link in ${message.text}`);
  return link;
}

/** Opens `link` as `user` and returns the bot's decision on the join request. */
async function requestToJoin(user: ScriptedUser, link: string): Promise<'approveChatJoinRequest' | 'declineChatJoinRequest'> {
  expect(await user.openInviteLink(link)).toBe('requested');
  const decision = await eventually(
    () => h.tg.calls.find((c) => ['approveChatJoinRequest', 'declineChatJoinRequest'].includes(c.method) && Number(c.params.user_id) === user.id),
    8000,
    `a decision on the join request of ${user.id}`,
  );
  return decision.method as 'approveChatJoinRequest' | 'declineChatJoinRequest';
}

describe('renaming a channel in catalog.yaml (same chat_id)', () => {
  it('keeps paid access: a payment after the edit gets its link, an old subscriber is let in and removed at the end, and the admins are told', { timeout: 40_000 }, async () => {
    const before = await checkoutMonthly(h, 601, { languageCode: 'en' });
    await h.aipay.pay(before.externalId);
    const oldLink = await joinLink(before.user, 'Channel');
    // Invoiced before the edit, paid after it.
    const pending = await checkoutMonthly(h, 603, { languageCode: 'en' });

    h.writeCatalog(RENAMED);
    expect(h.app.reloadCatalog()).toBe(true);
    expect([...h.app.catalog.current().channels.keys()]).toEqual(['premium', 'chat']);
    expect(adminTexts(/renamed/)).toEqual([
      'ℹ️ catalog.yaml reloaded. Channels that customers paid for changed:\n• channel `main` was renamed to `premium` (same chat): 1 live subscription keeps its access.',
    ]);

    // Payments after the edit, of an invoice made before it and of an order made after: the
    // receipt and the link to the same chat.
    const later = await addCustomer(h, 602);
    const laterOrder = createInvoicedOrder(h.app, { userId: 602 });
    for (const [user, pay] of [
      [pending.user, () => h.aipay.pay(pending.externalId)],
      [later, () => sendEvent(h, laterOrder)],
    ] as const) {
      await pay();
      await user.waitForMessage((m) => m.text?.startsWith('Payment received') ?? false, 8000);
      const link = await joinLink(user, 'Channel');
      expect(h.tg.inviteLinks(MAIN_CHAT).map((l) => l.invite_link)).toContain(link);
      expect(await requestToJoin(user, link)).toBe('approveChatJoinRequest');
    }

    // The subscriber who paid before the edit opens their link now.
    expect(await requestToJoin(before.user, oldLink)).toBe('approveChatJoinRequest');
    await eventually(() => h.tg.memberStatus(MAIN_CHAT, 601) === 'member', 3000, '601 a member');

    // Their month ends: the expiry job still removes them from the chat.
    const [sub] = subscriptionsOf(h, 601);
    const from = h.tg.calls.length;
    lc.setTime(sub!.ends_at);
    await lc.run('expiry');
    expect(memberCalls(h.tg.calls, from, 601).map((c) => [c.method, c.params.chat_id])).toEqual([
      ['banChatMember', MAIN_CHAT],
      ['unbanChatMember', MAIN_CHAT],
    ]);
    expect(h.tg.memberStatus(MAIN_CHAT, 601)).toBe('left');
  });

  it('keeps a subscription written before chats were frozen (terms with channel keys only) working after a restart and a rename', async () => {
    const user = await addCustomer(h, 631);
    const legacy = { kind: 'plan', id: 'monthly', title: { en: 'Monthly' }, price: 4900, period: { unit: 'months', count: 1 }, periodText: '1m', channels: ['main'] };
    h.app.db
      .prepare("INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, created_at, updated_at) VALUES (631, 'monthly', ?, ?, ?, 'active', ?, ?)")
      .run(JSON.stringify(legacy), START, START + 30 * 86_400_000, START, START);
    await lc.restart(); // the start-up resolves `main` to its chat id with the catalog of the time
    h.writeCatalog(RENAMED);
    expect(h.app.reloadCatalog()).toBe(true);
    expect(adminTexts(/renamed/)).toEqual([expect.stringContaining('channel `main` was renamed to `premium` (same chat): 1 live subscription keeps its access.')]);
    // Fresh links from /my, a join request, and the removal at the end all find the chat.
    await user.sendText('/my');
    const my = await user.waitForMessage((m) => user.buttons(m).includes('Links to Monthly'));
    await user.pressButton('Links to Monthly', { messageId: my.message_id });
    const link = await joinLink(user, 'Channel');
    expect(await requestToJoin(user, link)).toBe('approveChatJoinRequest');
    await eventually(() => h.tg.memberStatus(MAIN_CHAT, 631) === 'member', 3000, '631 a member');
    const from = h.tg.calls.length;
    lc.setTime(START + 30 * 86_400_000);
    await lc.run('expiry');
    expect(memberCalls(h.tg.calls, from, 631, ['banChatMember']).map((c) => c.params.chat_id)).toEqual([MAIN_CHAT]);
  });
});

describe('removing a channel from catalog.yaml', () => {
  it('lets live subscribers keep it until they end, then removes them, and tells the admins', async () => {
    const user = await addCustomer(h, 611);
    const order = createInvoicedOrder(h.app, { userId: 611, itemId: 'bundle' });
    await sendEvent(h, order);
    const chatLink = await joinLink(user, 'Chat');

    h.writeCatalog(WITHOUT_CHAT);
    expect(h.app.reloadCatalog()).toBe(true);
    expect(h.app.catalog.current().channels.has('chat')).toBe(false);
    expect(adminTexts(/was removed/)).toEqual([
      'ℹ️ catalog.yaml reloaded. Channels that customers paid for changed:\n• channel `chat` was removed: 1 live subscription still holds it; they keep access until they end, and are removed then.',
    ]);

    expect(await requestToJoin(user, chatLink)).toBe('approveChatJoinRequest');
    await eventually(() => h.tg.memberStatus(CHAT_CHAT, 611) === 'member', 3000, '611 a member of the chat');

    const [sub] = subscriptionsOf(h, 611);
    const from = h.tg.calls.length;
    lc.setTime(sub!.ends_at);
    await lc.run('expiry');
    expect(memberCalls(h.tg.calls, from, 611, ['banChatMember']).map((c) => c.params.chat_id).sort()).toEqual([MAIN_CHAT, CHAT_CHAT].sort());
    expect(h.tg.memberStatus(CHAT_CHAT, 611)).toBe('left');
  });
});

describe('a paid order that cannot grant what it promised', () => {
  it('alerts the admins instead of a silent receipt when its channel key cannot be resolved to a chat', async () => {
    const user = await addCustomer(h, 621);
    // An order made by an older version for a channel `gone`, which catalog.yaml no longer has.
    const orders = new Orders(h.app.db);
    const legacy = { kind: 'plan', id: 'monthly', title: { en: 'Monthly' }, price: 4900, period: { unit: 'months', count: 1 }, periodText: '1m', channels: ['gone'] };
    const created = orders.create({ userId: 621, terms: legacy as unknown as Terms, listPrice: 4900, amount: 4900, language: 'en' }, START);
    orders.move(created.id, 'invoiced', START, { invoice_id: 'inv_gone_621' });
    await lc.restart();
    await sendEvent(h, new Orders(h.app.db).get(created.id)!);
    await lc.settle();
    await user.waitForMessage((m) => m.text?.startsWith('Payment received') ?? false);
    expect(adminTexts(/cannot/)).toEqual([
      `⚠️ Order ${created.externalId} (Monthly, user 621) is paid, but the channel \`gone\` it was sold with is not in catalog.yaml, so the bot cannot tell which chat to let them into. Let them in by hand, or add \`gone\` back under channels with its chat_id and restart the bot: the customer can then get the link in /my.`,
    ]);
  });
});
