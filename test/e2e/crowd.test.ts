import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startApp, type AppOptions, type RunningApp } from '../../src/app.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startAipayFake, type AipayFake } from '../../src/sandbox/aipay-fake.js';
import { callsBeforeRetryAfter } from '../../src/sandbox/telegram/early-calls.js';
import { startTelegramEmulator, type BotMessage, type ScriptedUser, type TelegramEmulator } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, API_KEY, CHAT_CHAT, MAIN_CHAT, TEST_CATALOG, TOKEN, WEBHOOK_SECRET } from '../support/harness.js';
import { BUY_MONTHLY } from '../support/payments-helpers.js';
import { freePort, runMain, type RunningProcess } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

/*
 * Launch day: crowds through the Telegram emulator with Telegram's limits enforced (30 messages a
 * second overall, 1 a second per chat after a burst of 3, 429 with retry_after and no scope).
 * Deadlines are generous; nothing here asserts speed, only that everyone is answered once, in
 * the right order, and that no chat is sent to before Telegram said it may be.
 */

const CROWD = 200;
const ERROR_TEXT = 'Something went wrong on our side. Please try again in a minute.';
const isMenu = (m: BotMessage) => m.text?.startsWith('Hi, ') ?? false;
const isInvoice = (m: BotMessage) => m.text?.startsWith('Invoice for') ?? false;
const isError = (m: BotMessage) => m.text === ERROR_TEXT;

interface Crowd {
  tg: TelegramEmulator;
  aipay: AipayFake;
  app: RunningApp;
  databasePath: string;
}

/**
 * The app in this process with the emulator enforcing Telegram's limits, on 127.0.0.1; stopped
 * when the test finishes.
 */
async function startCrowd(app: Partial<AppOptions> = {}): Promise<Crowd> {
  const dir = tempDir();
  const catalogPath = join(dir.path, 'catalog.yaml');
  const databasePath = join(dir.path, 'data', 'bot.db');
  writeFileSync(catalogPath, TEST_CATALOG);
  const tg = await startTelegramEmulator({ token: TOKEN, bot: { username: 'test_academy_bot' }, enforceRateLimits: true });
  const aipay = await startAipayFake({ apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET });
  let running: RunningApp | undefined;
  onTestFinished(async () => {
    await running?.stop().catch(() => undefined);
    await aipay.close();
    await tg.close();
    dir.cleanup();
  });
  for (const [id, title] of [
    [MAIN_CHAT, 'Channel'],
    [CHAT_CHAT, 'Chat'],
  ] as const) {
    tg.addChat({ id, type: 'supergroup', title });
    tg.setBotMember(id, 'administrator', { can_invite_users: true, can_restrict_members: true });
  }
  tg.addUser({ id: ADMIN_ID, first_name: 'Admin', language_code: 'en' });
  await tg.user(ADMIN_ID).sendText('/help');
  running = await startApp({
    botToken: TOKEN,
    telegramApiRoot: tg.apiRoot,
    aipayApiKey: API_KEY,
    aipayWebhookSecret: WEBHOOK_SECRET,
    aipayBaseUrl: aipay.baseUrl,
    catalogPath,
    databasePath,
    port: 0,
    host: '127.0.0.1',
    clock: { now: () => Date.now() },
    log: process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
    aipay: { timeoutMs: 5000, attempts: 3, backoffMs: 20 },
    outbox: { pollMs: 100 },
    initTimeoutMs: 5000,
    ...app,
  });
  aipay.setWebhookUrl(`${running.url}/webhook/aipay`);
  await tg.user(ADMIN_ID).waitForMessage(() => true, 10_000);
  return { tg, aipay, app: running, databasePath };
}

/** `n` English-speaking users with ids from `firstId`, not yet talking to the bot. */
function addUsers(tg: TelegramEmulator, n: number, firstId: number): ScriptedUser[] {
  return Array.from({ length: n }, (_, i) => tg.addUser({ id: firstId + i, first_name: `U${firstId + i}`, language_code: 'en', phone_number: `+7701${String(firstId + i).padStart(7, '0')}` }));
}

/** Polls `probe` every 50 ms until it returns a truthy value; rejects after `timeoutMs`, saying what did not happen. */
async function until<T>(probe: () => T | undefined | false, what: () => string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`within ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Successful message sends to `chatId` (in arrival order). */
const sendsTo = (tg: TelegramEmulator, chatId: number) => tg.calls.filter((c) => c.method === 'sendMessage' && c.status === 200 && c.params.chat_id === chatId);

/** Waits until Telegram hears nothing more from the bot for `quietMs`: every answer that was coming came. */
async function quiet(tg: TelegramEmulator, quietMs = 1500, timeoutMs = 60_000): Promise<void> {
  await until(() => {
    const last = tg.calls.filter((c) => c.method !== 'getUpdates').at(-1);
    return !last || Date.now() - last.at > quietMs;
  }, () => 'the bot kept sending', timeoutMs);
}

/** Each user's count of messages matching `pred`, for those whose count is not `expected` (so a failure lists them). */
function countsOtherThan(users: ScriptedUser[], pred: (m: BotMessage) => boolean, expected: number): Array<[number, number]> {
  return users.map((u) => [u.id, u.messages().filter(pred).length] as [number, number]).filter(([, n]) => n !== expected);
}

/** Calls sent to a chat before its retry_after ran out, each with that chat's calls around it (so a failure shows the race). */
function earlyCalls(tg: TelegramEmulator): string[] {
  return callsBeforeRetryAfter(tg.calls).map((early) => {
    const around = tg.calls
      .filter((c) => c.params.chat_id === early.params.chat_id && Math.abs(c.at - early.at) < 5000)
      .map((c) => `${c.at - early.at} ms: ${c.method} ${c.status}${c.retryAfter ? ` retry_after ${c.retryAfter}` : ''} ${JSON.stringify(String(c.params.text ?? '').slice(0, 40))}`);
    return `${early.method} to ${String(early.params.chat_id)}; that chat's calls: ${around.join(' | ')}`;
  });
}

describe('launch day: a crowd within Telegram’s limits', () => {
  it(`answers ${CROWD} people sending /start at once with the menu, each exactly once, never sending to a chat before its retry_after`, async () => {
    const { tg } = await startCrowd();
    const users = addUsers(tg, CROWD, 10_000);
    for (const u of users) await u.sendText('/start');
    await until(() => users.every((u) => u.messages().some(isMenu)), () => `${users.filter((u) => !u.messages().some(isMenu)).length} users still without the menu`, 60_000);
    await quiet(tg);
    expect(countsOtherThan(users, isMenu, 1)).toEqual([]);
    expect(countsOtherThan(users, isError, 0)).toEqual([]);
    expect(users.filter((u) => sendsTo(tg, u.id).length !== 1).map((u) => u.id)).toEqual([]);
    expect(earlyCalls(tg)).toEqual([]);
    expect(tg.pendingUpdates()).toEqual([]);
  }, 90_000);

  it('delivers every menu once through a storm of 429s that name no limit, waiting each one out', async () => {
    const { tg } = await startCrowd();
    // The next 15 sends, to whichever chats, are refused with "retry after 1" and no hint of which limit.
    tg.injectFault({ method: 'sendMessage', times: 15, fault: { status: 429, retryAfter: 1 } });
    const users = addUsers(tg, CROWD, 20_000);
    for (const u of users) await u.sendText('/start');
    await until(() => users.every((u) => u.messages().some(isMenu)), () => `${users.filter((u) => !u.messages().some(isMenu)).length} users still without the menu`, 120_000);
    await quiet(tg);
    expect(tg.calls.filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(15);
    expect(countsOtherThan(users, isMenu, 1)).toEqual([]);
    expect(countsOtherThan(users, isError, 0)).toEqual([]);
    expect(earlyCalls(tg)).toEqual([]);
  }, 150_000);

  it('does not let one chat flooding the bot hold everyone else back', async () => {
    const { tg } = await startCrowd();
    const [flooder] = addUsers(tg, 1, 25_000);
    // 400 messages from one chat, stored before anyone else's: they are answered one after another,
    // at that chat's one message a second.
    for (let i = 0; i < 400; i++) await flooder!.sendText('/help');
    await until(() => flooder!.messages().length > 0, () => 'the first answer to the flood', 30_000);
    const users = addUsers(tg, 20, 26_000);
    for (const u of users) await u.sendText('/start');
    await until(() => users.every((u) => u.messages().some(isMenu)), () => `${users.filter((u) => !u.messages().some(isMenu)).length} users still without the menu, behind the flood (${flooder!.messages().length} of it answered)`, 60_000);
    // The others were answered while most of the flood was still waiting its turn.
    expect(flooder!.messages().length).toBeLessThan(100);
    expect(countsOtherThan(users, isMenu, 1)).toEqual([]);
    expect(earlyCalls(tg)).toEqual([]);
  }, 90_000);

  it('sends a payment’s access link ahead of a crowd of replies and a flood of admin notices', async () => {
    const c = await startCrowd();
    const { tg } = c;
    // The payer has an invoice before the crowd arrives.
    const [payer] = addUsers(tg, 1, 30_000);
    const invoice = await checkout(c, payer!);
    // A flood of lower-class messages (notices to 100 other people) and a crowd of /start.
    const noticed = addUsers(tg, 100, 31_000);
    for (const u of noticed) {
      await u.sendText('/help');
    }
    await until(() => noticed.every((u) => u.messages().length > 0), () => 'the /help answers', 30_000);
    for (const u of noticed) c.app.outbox.enqueue({ kind: 'message', chatId: u.id, userId: u.id, text: `Notice for ${u.id}` }, { sendClass: 'admin' });
    const users = addUsers(tg, CROWD, 32_000);
    for (const u of users) await u.sendText('/start');
    // Pay once the crowd's replies are going out and many are still waiting.
    await until(() => users.filter((u) => u.messages().some(isMenu)).length >= 20, () => 'the first menus', 30_000);
    payer!.mark();
    const paidAt = Date.now();
    const menusBefore = users.filter((u) => u.messages().some(isMenu)).length;
    await c.aipay.pay(invoice);
    const link = await payer!.waitForMessage((m) => m.text?.includes('https://t.me/') ?? false, 30_000);
    const linkCall = tg.calls.find((call) => call.method === 'sendMessage' && call.status === 200 && call.params.chat_id === payer!.id && String(call.params.text).includes('https://t.me/'))!;
    expect(link).toBeDefined();
    await until(() => users.every((u) => u.messages().some(isMenu)), () => 'every menu', 60_000);
    await quiet(tg);
    const menuCalls = tg.calls.filter((call) => call.method === 'sendMessage' && call.status === 200 && String(call.params.text).startsWith('Hi, '));
    const waitingAtPayment = CROWD - menusBefore;
    const after = menuCalls.filter((call) => call.at > linkCall.at).length;
    // The link overtook (nearly) the whole queue of replies waiting when the payment came…
    expect(after / waitingAtPayment, `${after} of the ${waitingAtPayment} menus waiting at the payment went out after the link`).toBeGreaterThanOrEqual(0.75);
    // …and no notice went out between the payment and the link.
    const notices = tg.calls.filter((call) => call.method === 'sendMessage' && call.status === 200 && String(call.params.text).startsWith('Notice for'));
    expect(notices.filter((call) => call.at >= paidAt && call.at < linkCall.at)).toEqual([]);
    expect(countsOtherThan(users, isMenu, 1)).toEqual([]);
    expect(countsOtherThan([...users, ...noticed, payer!], isError, 0)).toEqual([]);
    expect(earlyCalls(tg)).toEqual([]);
  }, 120_000);

  it('batches the admin’s notices of many payments arriving at once', async () => {
    const c = await startCrowd();
    const { tg } = c;
    const payers = addUsers(tg, 20, 40_000);
    const invoices = await Promise.all(payers.map((u) => checkout(c, u)));
    const admin = tg.user(ADMIN_ID);
    admin.mark();
    const before = admin.messages().length;
    await Promise.all(invoices.map((id) => c.aipay.pay(id)));
    await until(() => payers.every((u) => u.messages().some((m) => m.text?.includes('https://t.me/'))), () => 'every link', 60_000);
    await quiet(tg, 3000);
    const notices = admin.messages().slice(before).filter((m) => m.text?.includes('💰'));
    const orders = new Database(c.databasePath, { readonly: true });
    onTestFinished(() => void orders.close());
    const externalIds = orders.prepare("SELECT external_id FROM orders WHERE state = 'paid'").pluck().all() as string[];
    expect(externalIds).toHaveLength(20);
    // Every payment is told once…
    for (const id of externalIds) expect(notices.filter((m) => m.text!.includes(id)).length, id).toBe(1);
    // …in far fewer messages than payments (while one is on its way the next gather), the batched
    // ones headed with their count.
    expect(notices.length, notices.map((m) => m.text!.split('\n')[0]).join('; ')).toBeLessThanOrEqual(10);
    const batched = notices.filter((n) => n.text!.includes('payments:'));
    expect(batched.length).toBeGreaterThan(0);
    for (const m of batched) {
      const [, count] = /💰 (\d+) payments:/.exec(m.text!) ?? [];
      expect(Number(count)).toBe(externalIds.filter((id) => m.text!.includes(id)).length);
    }
    expect(earlyCalls(tg)).toEqual([]);
  }, 120_000);

  it('delivers the invoice message once when Telegram answers 429 right after the invoice was created', async () => {
    const c = await startCrowd();
    const { tg } = c;
    const [u] = addUsers(tg, 1, 50_000);
    c.aipay.onInvoice(() => tg.injectFault({ method: 'sendMessage', chatId: u!.id, fault: { status: 429, retryAfter: 2 } }));
    const invoice = await checkout(c, u!);
    expect(invoice).toBeTruthy();
    await quiet(tg, 2500);
    const calls = tg.calls.filter((call) => call.method === 'sendMessage' && call.params.chat_id === u!.id && String(call.params.text).startsWith('Invoice for'));
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(u!.messages().filter(isInvoice)).toHaveLength(1);
    expect(u!.messages().filter(isError)).toEqual([]);
    expect(earlyCalls(tg)).toEqual([]);
  }, 60_000);
});

/** A customer buys the monthly plan up to the invoice message; resolves with the AiPay invoice id. */
async function checkout(c: Crowd, u: ScriptedUser): Promise<string> {
  await u.sendText('/start monthly');
  const card = await u.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false, 30_000);
  await u.pressButton(BUY_MONTHLY, { messageId: card.message_id });
  await u.waitForMessage((m) => m.text?.includes('Kaspi') ?? false, 30_000);
  await u.shareContact();
  await u.waitForMessage(isInvoice, 30_000);
  const externalId = c.app.db.prepare<[number], string>('SELECT external_id FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 1').pluck().get(u.id);
  const invoice = externalId === undefined ? undefined : c.aipay.getInvoice(externalId);
  if (!invoice) throw new Error(`no AiPay invoice for user ${u.id}`);
  return invoice.invoice_id;
}

describe('launch day: kill -9 in the middle of a crowd (the compiled process, long polling)', () => {
  it('answers every update exactly once after a restart, except a send Telegram took the instant the process died', async () => {
    const dir = tempDir();
    writeFileSync(join(dir.path, 'catalog.yaml'), TEST_CATALOG);
    const tg = await startTelegramEmulator({ token: TOKEN, enforceRateLimits: true });
    const aipay = await startAipayFake({ apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET });
    const processes: RunningProcess[] = [];
    onTestFinished(async () => {
      for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await aipay.close();
      await tg.close();
      dir.cleanup();
    });
    tg.addChat({ id: MAIN_CHAT, type: 'supergroup', title: 'Channel' });
    tg.setBotMember(MAIN_CHAT, 'administrator');
    const port = await freePort();
    const env = {
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      AIPAY_API_KEY: API_KEY,
      AIPAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AIPAY_BASE_URL: aipay.baseUrl,
      CATALOG_PATH: join(dir.path, 'catalog.yaml'),
      DATABASE_PATH: join(dir.path, 'data', 'bot.db'),
      PORT: String(port),
    };
    const start = async () => {
      const p = runMain(env, dir.path);
      processes.push(p);
      await p.waitForOutput(/is running/, 20_000);
      return p;
    };
    const first = await start();
    const users = addUsers(tg, 150, 60_000);
    for (const u of users) await u.sendText('/start');
    const menus = () => users.filter((u) => u.messages().some(isMenu)).length;
    // In the middle of the crowd: some answered, updates stored and being handled, others not fetched yet.
    await until(() => menus() >= 50, () => `only ${menus()} menus`, 30_000);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    const answeredBeforeKill = menus();
    expect(answeredBeforeKill).toBeLessThan(users.length);
    const second = await start();
    await until(() => menus() === users.length, () => `${users.length - menus()} users still without the menu`, 60_000);
    await quiet(tg);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    // Telegram cannot be asked whether a message went out: a send whose answer was still on its way
    // when the process died is sent again. That is the only way to get a menu twice.
    const twice = countsOtherThan(users, isMenu, 1);
    for (const [id, n] of twice) {
      expect(n, `user ${id}`).toBe(2);
      const firstSend = sendsTo(tg, id)[0]!;
      expect(killedAt - firstSend.at, `user ${id}: a menu sent ${killedAt - firstSend.at} ms before the kill was sent again`).toBeLessThan(250);
    }
    expect(twice.length).toBeLessThanOrEqual(2);
    expect(countsOtherThan(users, (m) => m.text === ERROR_TEXT, 0)).toEqual([]);
    expect(earlyCalls(tg)).toEqual([]);
    expect(tg.pendingUpdates()).toEqual([]);
    const db = new Database(env.DATABASE_PATH, { readonly: true });
    onTestFinished(() => void db.close());
    expect(db.prepare("SELECT count(*) FROM inbox WHERE state = 'pending'").pluck().get()).toBe(0);
  }, 150_000);
});
