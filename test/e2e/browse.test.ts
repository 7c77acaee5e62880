import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, TEST_CATALOG, type Harness } from '../support/harness.js';
import { checkoutToInvoice } from '../support/checkout-steps.js';
import { loadCatalogOrThrow } from '../../src/app.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const NBSP = '\u00a0';

describe('browsing the catalog', () => {
  it('asks for a language when Telegram gives one the catalog does not enable, and remembers the choice', async () => {
    const u = h.tg.addUser({ id: 1, first_name: 'Aidos', language_code: 'de' });
    await u.sendText('/start');
    const picker = await u.waitForMessage();
    expect(u.buttons(picker)).toEqual(['🇷🇺 Русский', '🇬🇧 English']);
    await u.pressButton('🇬🇧 English');
    const menu = await u.waitForMessage((m) => m.text?.includes('Choose what') ?? false);
    expect(menu.text).toContain('Hi, Aidos!');
    await u.sendText('/start');
    const again = await u.waitForMessage();
    expect(again.text).toContain('Hi, Aidos!');
    await u.sendText('/language');
    await u.waitForMessage();
    await u.pressButton('🇷🇺 Русский');
    const ru = await u.waitForMessage((m) => m.text?.includes('Готово') ?? false);
    expect(ru.text).toContain('Привет, Aidos!');
  });

  it('speaks the Telegram language without asking when it is enabled', async () => {
    const u = h.tg.addUser({ id: 2, first_name: 'Асель', language_code: 'ru' });
    await u.sendText('/start');
    const menu = await u.waitForMessage();
    expect(menu.text).toContain('Асель');
    expect(u.buttons(menu)).toEqual([`Месяц · 4${NBSP}900${NBSP}₸`, `Канал + чат · 12${NBSP}000${NBSP}₸`, `Курс · 15${NBSP}000${NBSP}₸`]);
  });

  it('opens every visible item from /start with its price, period and channels, and comes back', async () => {
    const u = h.tg.addUser({ id: 3, first_name: 'Dana', language_code: 'en' });
    await u.sendText('/start');
    const menu = await u.waitForMessage();
    const expected: Record<string, string[]> = {
      Monthly: [`Price: 4${NBSP}900${NBSP}₸`, 'Access: 1 month', 'Includes: Channel'],
      'Channel + chat': [`Price: 12${NBSP}000${NBSP}₸`, 'Access: 30 days', 'Includes: Channel, Chat'],
      Course: [`Price: 15${NBSP}000${NBSP}₸`],
    };
    for (const label of u.buttons(menu)) {
      const title = label.split(' · ')[0]!;
      await u.pressButton(label, { messageId: menu.message_id });
      const card = await u.waitForMessage((m) => m.text?.startsWith(title) ?? false);
      for (const line of expected[title]!) expect(card.text).toContain(line);
      expect(u.buttons(card)[0]).toMatch(/^Buy for /);
      await u.pressButton('« Back');
      await u.waitForMessage((m) => m.text?.includes('Choose what') ?? false);
    }
    expect(h.tg.callbackAnswers.length).toBeGreaterThanOrEqual(6);
  });

  it('opens a hidden plan by its deep link, and answers an unknown one with the menu', async () => {
    const u = h.tg.addUser({ id: 4, first_name: 'Erlan', language_code: 'en' });
    await u.sendText('/start vip');
    const card = await u.waitForMessage();
    expect(card.text).toContain('VIP');
    expect(card.text).toContain(`99${NBSP}000${NBSP}₸`);
    expect(card.text).toContain('Access: 1 year');
    await u.sendText('/start nothing_here');
    const menu = await u.waitForMessage();
    expect(menu.text).toContain("I couldn't find that offer");
    expect(u.buttons(menu)).toHaveLength(3);
  });

  it('keeps a button working after a restart', async () => {
    const u = h.tg.addUser({ id: 5, first_name: 'Gulnar', language_code: 'en' });
    await u.sendText('/start');
    const menu = await u.waitForMessage();
    await h.restart();
    await u.pressButton(/^Monthly/, { messageId: menu.message_id });
    const card = await u.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false);
    expect(card.text).toContain('Access: 1 month');
  });

  it('answers a button for an item the catalog no longer has with "no longer available" and the menu', async () => {
    const u = h.tg.addUser({ id: 6, first_name: 'Ilyas', language_code: 'en' });
    await u.sendText('/start course');
    const card = await u.waitForMessage();
    expect(card.text).toContain('Course');
    h.writeCatalog(TEST_CATALOG.replace(/products:[\s\S]*$/, ''));
    h.app.catalog.swap(loadCatalogOrThrow(h.catalogPath));
    await u.pressButton(/^Buy for/, { messageId: card.message_id });
    const menu = await u.waitForMessage((m) => m.text?.includes('no longer available') ?? false);
    expect(u.buttons(menu)).toHaveLength(2);
    expect(h.tg.callbackAnswers.at(-1)?.text).toBe('This offer is no longer available. Here is what\'s available now:');
  });

  it('shows titles with HTML and Markdown characters literally', async () => {
    await h.stop();
    h = await startHarness({ catalog: TEST_CATALOG.replace('title: "VIP"', 'title: "VIP <b>&</b> _under_ *star*"') });
    const u = h.tg.addUser({ id: 7, first_name: '<Nurlan>', language_code: 'en' });
    await u.sendText('/start vip');
    const card = await u.waitForMessage();
    expect(card.text).toContain('VIP <b>&</b> _under_ *star*');
    expect(card.entities?.[0]).toMatchObject({ type: 'bold', offset: 0 });
  });

  it('answers /my, /help and /support', async () => {
    const u = h.tg.addUser({ id: 8, first_name: 'Zhan', language_code: 'en' });
    await u.sendText('/my');
    expect((await u.waitForMessage()).text).toContain('You have no subscriptions or purchases yet');
    await u.sendText('/help');
    expect((await u.waitForMessage()).text).toContain('Test Academy');
    await u.sendText('/support');
    expect((await u.waitForMessage()).text).toBe('Questions? Contact us: @help_desk');
  });

  it('registers the command menu in each enabled language', async () => {
    const calls = h.tg.calls.filter((c) => c.method === 'setMyCommands');
    const byLang = Object.fromEntries(calls.map((c) => [String(c.params.language_code ?? ''), c.params.commands]));
    expect(Object.keys(byLang).sort()).toEqual(['', 'en', 'ru']);
    expect(JSON.stringify(byLang.en)).toContain('My subscriptions');
  });
});

describe('setting up chats', () => {
  it('tells the admins a new chat\'s id and the rights the bot is missing', async () => {
    const admin = h.tg.user(900);
    admin.mark();
    h.tg.addChat({ id: -1009999, type: 'supergroup', title: 'New VIP chat' });
    h.tg.setBotMember(-1009999, 'administrator', { can_invite_users: false, can_restrict_members: true });
    const report = await admin.waitForMessage((m) => m.text?.includes('New VIP chat') ?? false);
    expect(report.text).toContain('chat id -1009999');
    expect(report.text).toContain('chat_id: -1009999');
    expect(report.text).toContain('Missing rights: Invite users via link');
  });

  it('confirms when the bot has every right it needs', async () => {
    const admin = h.tg.user(900);
    admin.mark();
    h.tg.addChat({ id: -1008888, type: 'channel', title: 'Good channel' });
    h.tg.setBotMember(-1008888, 'administrator');
    const report = await admin.waitForMessage((m) => m.text?.includes('Good channel') ?? false);
    expect(report.text).toContain('It has every right it needs');
  });

  it('alerts the admins when the bot is removed from a channel it sells', async () => {
    const admin = h.tg.user(900);
    admin.mark();
    h.tg.setBotMember(-1001000000001, 'left');
    const alert = await admin.waitForMessage((m) => m.text?.includes('was removed') ?? false);
    expect(alert.text).toContain('-1001000000001');
  });

  it('answers /whoami with the numeric id', async () => {
    const u = h.tg.addUser({ id: 4242, first_name: 'Creator', language_code: 'en' });
    await u.sendText('/whoami');
    expect((await u.waitForMessage()).text).toBe('Your Telegram id: 4242');
  });
});

describe('/my for a subscriber', () => {
  it('sends fresh links to a subscriber who left the channel, from /my', async () => {
    const u = h.tg.addUser({ id: 61, first_name: 'Returner', language_code: 'en' });
    await checkoutToInvoice(u);
    u.mark();
    await h.aipay.pay(h.aipay.invoices[0]!.invoice_id);
    const first = await u.waitForMessage((m) => m.text?.includes('Tap to join') ?? false);
    const link = /https:\/\/t\.me\/\+\S+/.exec(first.text ?? '')![0];
    expect(await u.openInviteLink(link)).toBe('requested');
    await h.tg.waitForCall('approveChatJoinRequest', (c) => Number(c.params.user_id) === 61);
    await u.leaveChat(-1001000000001);
    await u.sendText('/my');
    const my = await u.waitForMessage();
    expect(u.buttons(my)).toContain('Links to Monthly');
    await u.pressButton('Links to Monthly');
    const again = await u.waitForMessage((m) => m.text?.includes('Tap to join') ?? false);
    expect(again.text).toMatch(/https:\/\/t\.me\/\+/);
  });
});
