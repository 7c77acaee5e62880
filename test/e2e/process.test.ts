import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/project-root.js';
import { startAipayFake, type AipayFake } from '../../src/sandbox/aipay-fake.js';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/sandbox/telegram/emulator.js';
import { API_KEY, MAIN_CHAT, TEST_CATALOG, TOKEN, WEBHOOK_SECRET } from '../support/harness.js';
import { freePort, runMain, stopSpawned } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
  writeFileSync(join(dir.path, 'catalog.yaml'), TEST_CATALOG);
});
afterEach(async () => {
  await stopSpawned(); // a test that failed or timed out may have left the bot running in dir
  dir.cleanup();
});

const noStackTrace = (out: string) => expect(out).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);

describe('npm start (the compiled process)', () => {
  it('without a bot token checks the catalog, says what is missing, and opens the playground', async () => {
    copyFileSync(join(projectRoot, 'catalog.example.yaml'), join(dir.path, 'catalog.example.yaml'));
    const port = await freePort();
    const p = runMain({ CATALOG_PATH: join(dir.path, 'none.yaml'), DATABASE_PATH: join(dir.path, 'data', 'bot.db'), PORT: String(port) }, dir.path);
    await p.waitForOutput(/try it without Telegram: open http:\/\/127\.0\.0\.1:\d+/, 20_000);
    expect(p.output()).toContain('catalog.example.yaml is valid: 4 plans, 1 product, 2 channels, 1 promo code; languages ru, kk, en.');
    expect(p.output()).toContain('BOT_TOKEN, AIPAY_API_KEY, AIPAY_WEBHOOK_SECRET are not set');
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });

  it('refuses to start without the AiPay API key, with one sentence on how to fix it', async () => {
    const p = runMain({ BOT_TOKEN: TOKEN, AIPAY_WEBHOOK_SECRET: WEBHOOK_SECRET }, dir.path);
    expect((await p.exited).code).toBe(1);
    expect(p.output().trim()).toBe('AIPAY_API_KEY is not set. Copy the API key from your AiPay dashboard into .env.');
  });

  it('refuses to start without the webhook secret', async () => {
    const p = runMain({ BOT_TOKEN: TOKEN, AIPAY_API_KEY: 'k' }, dir.path);
    expect((await p.exited).code).toBe(1);
    expect(p.output().trim()).toBe('AIPAY_WEBHOOK_SECRET is not set. Copy the webhook secret from your AiPay dashboard into .env.');
  });

  it('explains a malformed setting without printing secrets', async () => {
    const p = runMain({ BOT_TOKEN: 'not-a-token-secret-value', AIPAY_API_KEY: 'k', AIPAY_WEBHOOK_SECRET: 's' }, dir.path);
    expect((await p.exited).code).toBe(1);
    expect(p.output()).toContain('BOT_TOKEN does not look like a bot token');
    expect(p.output()).not.toContain('not-a-token-secret-value');
    const q = runMain({ PORT: 'eighty' }, dir.path);
    expect((await q.exited).code).toBe(1);
    expect(q.output().trim()).toBe('PORT must be a number from 1 to 65535, like 3000 (it is "eighty"). Fix it in .env.');
    const r = runMain({ BOT_TOKEN: TOKEN, AIPAY_API_KEY: 'k', AIPAY_WEBHOOK_SECRET: 'short-secret' }, dir.path);
    expect((await r.exited).code).toBe(1);
    expect(r.output().trim()).toBe('AIPAY_WEBHOOK_SECRET is too short (12 characters; at least 16): paste the whole webhook secret from your AiPay dashboard into .env.');
  });

  // Each test starts the bot as a process, some twice: on a loaded machine that alone can take most
  // of the default 20 s (the burst test took 18 s with both cores busy).
  describe('with a Telegram emulator', { timeout: 60_000 }, () => {
    let tg: TelegramEmulator;
    let aipay: AipayFake;
    beforeEach(async () => {
      tg = await startTelegramEmulator({ token: TOKEN });
      tg.addChat({ id: MAIN_CHAT, type: 'supergroup', title: 'Channel' });
      tg.setBotMember(MAIN_CHAT, 'administrator');
      aipay = await startAipayFake({ apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET });
    });
    afterEach(async () => {
      await aipay.close();
      await tg.close();
    });
    const env = (port: number, extra: Record<string, string> = {}) => ({
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      AIPAY_API_KEY: API_KEY,
      AIPAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AIPAY_BASE_URL: aipay.baseUrl,
      CATALOG_PATH: join(dir.path, 'catalog.yaml'),
      DATABASE_PATH: join(dir.path, 'data', 'bot.db'),
      PORT: String(port),
      ...extra,
    });

    it('says the token is invalid when Telegram refuses it', async () => {
      const p = runMain(env(await freePort(), { BOT_TOKEN: '987654321:WRONG-token_abcdefghijklmnopqrstuvwxyz' }), dir.path);
      expect((await p.exited).code).toBe(1);
      expect(p.output()).toContain('Telegram says this token is invalid — copy it again from @BotFather into BOT_TOKEN in .env.');
      noStackTrace(p.output());
    });

    it('lists every catalog problem and stops', async () => {
      writeFileSync(join(dir.path, 'catalog.yaml'), TEST_CATALOG.replace('price: 4900', 'price: "4 900 тг"').replace('period: 30d', 'period: 30 days'));
      const p = runMain(env(await freePort()), dir.path);
      expect((await p.exited).code).toBe(1);
      expect(p.output()).toContain('plans.monthly.price  "4 900 тг" must be a plain number — write 4900');
      expect(p.output()).toContain('plans.bundle.period  "30 days" is not a period');
      noStackTrace(p.output());
    });

    it('names DATABASE_PATH in one sentence when the database cannot be created there, or is not a database', async () => {
      writeFileSync(join(dir.path, 'not-a-folder'), 'a file');
      const folder = runMain(env(await freePort(), { DATABASE_PATH: join(dir.path, 'not-a-folder', 'bot.db') }), dir.path);
      expect((await folder.exited).code).toBe(1);
      expect(folder.output()).toContain(`The database ${join(dir.path, 'not-a-folder', 'bot.db')} (DATABASE_PATH) cannot be created or written there`);
      expect(folder.output()).toContain("Point DATABASE_PATH at a folder the bot's user owns");
      noStackTrace(folder.output());

      writeFileSync(join(dir.path, 'garbage.db'), 'this is not a database, just some text that is long enough '.repeat(100));
      const garbage = runMain(env(await freePort(), { DATABASE_PATH: join(dir.path, 'garbage.db') }), dir.path);
      expect((await garbage.exited).code).toBe(1);
      expect(garbage.output()).toContain('(DATABASE_PATH) is not a readable SQLite database (SQLITE_NOTADB). Check DATABASE_PATH, or put back a backup with npm run restore.');
      noStackTrace(garbage.output());
    });

    it('asks for a catalog when there is none', async () => {
      const p = runMain(env(await freePort(), { CATALOG_PATH: join(dir.path, 'catalog-missing.yaml') }), dir.path);
      expect((await p.exited).code).toBe(1);
      expect(p.output()).toContain('copy catalog.example.yaml to catalog-missing.yaml and edit it');
    });

    it('exits with a clear sentence (so pm2 restarts it) when another copy of the bot takes the updates', async () => {
      const p = runMain(env(await freePort()), dir.path);
      await p.waitForOutput(/is running/);
      // Another poller with the same token: Telegram ends one of the two long polls with 409 Conflict.
      const { Api } = await import('grammy');
      const other = new Api(TOKEN, { apiRoot: tg.apiRoot });
      const exited = p.exited;
      let done = false;
      void exited.then(() => (done = true));
      for (let i = 0; i < 40 && !done; i++) await other.getUpdates({ timeout: 1 }).catch(() => undefined);
      const { code } = await exited;
      expect(code).toBe(1);
      expect(p.output()).toContain('Another copy of this bot is receiving its updates');
    });

    it('stops cleanly on SIGTERM with exit code 0', async () => {
      const p = runMain(env(await freePort()), dir.path);
      await p.waitForOutput(/is running/);
      p.child.kill('SIGTERM');
      const exit = await p.exited;
      // Code 0 also says it stopped in time: main.ts exits with 1 when stopping takes over 10 s.
      expect({ ...exit, output: exit.code === 0 ? '' : JSON.stringify(p.output()) }).toEqual({ code: 0, signal: null, output: '' });
    });

    it('loses no webhook when SIGTERM arrives in the middle of a burst: what got 200 is stored, the rest is retried and granted once', async () => {
      const port = await freePort();
      let p = runMain(env(port), dir.path);
      await p.waitForOutput(/is running/);
      aipay.setWebhookUrl(`http://127.0.0.1:${port}/webhook/aipay`);
      // 40 invoiced orders, straight into the database the process uses.
      const { openDatabase } = await import('../../src/storage/open-database.js');
      const { Orders } = await import('../../src/payments/orders.js');
      const db = openDatabase(join(dir.path, 'data', 'bot.db'));
      const orders = new Orders(db);
      const now = Date.now();
      const terms = { kind: 'plan' as const, id: 'monthly', title: 'Monthly', price: 4900, period: { unit: 'months' as const, count: 1 }, periodText: '1m', chats: [{ id: 'main', chatId: MAIN_CHAT, title: 'Channel' }] };
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        db.prepare("INSERT INTO customers (user_id, first_name, created_at, updated_at) VALUES (?, 'S', 0, 0)").run(5000 + i);
        const o = orders.create({ userId: 5000 + i, terms, listPrice: 4900, amount: 4900, language: 'en' }, now);
        orders.move(o.id, 'invoiced', now, { invoice_id: `inv_sig_${i}` });
        ids.push(o.externalId);
      }
      db.close();
      const send = (i: number) =>
        aipay
          .sendWebhook({ event: 'invoice.paid', invoice_id: `inv_sig_${i}`, external_id: ids[i], amount: 4900, paid_at: new Date().toISOString() })
          .then((r) => r.status)
          .catch(() => 0);
      const burst = ids.map((_, i) => send(i));
      await new Promise((r) => setTimeout(r, 5));
      p.child.kill('SIGTERM');
      const statuses = await Promise.all(burst);
      expect((await p.exited).code).toBe(0);
      const answered = statuses.map((s, i) => [s, i] as const).filter(([s]) => s === 200).map(([, i]) => i);
      const check = new Database(join(dir.path, 'data', 'bot.db'), { readonly: true });
      const stored = new Set(check.prepare("SELECT invoice_id FROM aipay_events WHERE outcome = 'granted'").pluck().all() as string[]);
      check.close();
      for (const i of answered) expect(stored.has(`inv_sig_${i}`)).toBe(true);
      // AiPay retries everything that did not get a 200; the restarted bot grants each once.
      p = runMain(env(port), dir.path);
      await p.waitForOutput(/is running/);
      const retried = await Promise.all(ids.map((_, i) => (statuses[i] === 200 ? Promise.resolve(200) : send(i))));
      expect(retried.every((s) => s === 200)).toBe(true);
      await Promise.all(ids.map((_, i) => send(i))); // and once more for good measure: duplicates
      p.child.kill('SIGTERM');
      await p.exited;
      const after = new Database(join(dir.path, 'data', 'bot.db'), { readonly: true });
      expect(after.prepare('SELECT count(*) FROM subscription_periods').pluck().get()).toBe(40);
      expect(after.prepare("SELECT count(*) FROM orders WHERE state = 'paid'").pluck().get()).toBe(40);
      after.close();
    });

    it('grants a payment exactly once after a kill -9 in the middle of granting, and a restart', async () => {
      const port = await freePort();
      let p = runMain(env(port), dir.path);
      await p.waitForOutput(/is running/);
      aipay.setWebhookUrl(`http://127.0.0.1:${port}/webhook/aipay`);
      const u = tg.addUser({ id: 77, first_name: 'Kairat', language_code: 'en' });
      await u.sendText('/start monthly');
      await u.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false);
      await u.pressButton(/^Buy for/);
      await u.waitForMessage((m) => m.text?.includes('Kaspi number') ?? false);
      await u.shareContact({ phone: '+77011234567' });
      await u.waitForMessage((m) => m.text?.startsWith('Invoice for') ?? false);
      // Telegram hangs while the bot creates the invite link: the grant is in flight when we kill it.
      tg.injectFault({ method: 'createChatInviteLink', fault: { hang: true } });
      u.mark();
      const paid = await aipay.pay(aipay.invoices[0]!.invoice_id);
      expect(paid.status).toBe(200);
      await tg.waitForCall('createChatInviteLink', (c) => c.status === 0);
      p.child.kill('SIGKILL');
      await p.exited;
      tg.clearFaults();

      p = runMain(env(port), dir.path);
      await p.waitForOutput(/is running/);
      const link = await u.waitForMessage((m) => m.text?.includes('Tap to join') ?? false, 10_000);
      expect(link.text).toMatch(/https:\/\/t\.me\/\+/);
      // AiPay delivers the same event again after the crash: nothing more is granted.
      expect((await aipay.pay(aipay.invoices[0]!.invoice_id)).status).toBe(200);
      p.child.kill('SIGTERM');
      await p.exited;

      const db = new Database(join(dir.path, 'data', 'bot.db'), { readonly: true });
      expect(db.prepare('SELECT count(*) FROM subscription_periods').pluck().get()).toBe(1);
      expect(db.prepare("SELECT count(*) FROM outbox WHERE kind = 'grant_access' AND state = 'done'").pluck().get()).toBe(1);
      db.close();
      const links = u.messages().filter((m) => m.text?.includes('Tap to join'));
      expect(links).toHaveLength(1);
      expect(u.messages().filter((m) => m.text?.startsWith('Payment received'))).toHaveLength(1);
    });
  });
});
