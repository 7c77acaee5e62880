import { connect } from 'node:net';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Api } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startHarness, TOKEN, type Harness, type HarnessOptions } from '../support/harness.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/http/telegram-webhook-route.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('Telegram webhook mode (PUBLIC_URL set)', () => {
  it('receives updates by webhook with a secret token and answers customers', async () => {
    h = await startHarness();
    const url = h.app.url;
    await h.restart({ publicUrl: url, port: Number(new URL(url).port) });
    const setWebhook = h.tg.calls.filter((c) => c.method === 'setWebhook').at(-1)!;
    expect(setWebhook.params.url).toBe(`${url}${TELEGRAM_WEBHOOK_PATH}`);
    expect(String(setWebhook.params.secret_token)).toMatch(/^[0-9a-f]{64}$/);
    expect(setWebhook.params.allowed_updates).toEqual(['message', 'callback_query', 'chat_join_request', 'chat_member', 'my_chat_member', 'pre_checkout_query']);
    const u = h.tg.addUser({ id: 31, first_name: 'Web', language_code: 'en' });
    await u.sendText('/start');
    expect((await u.waitForMessage()).text).toContain('Hi, Web!');
    const health = await (await fetch(`${url}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, bot: 'webhook', database: 'ok' });
  });

  it('refuses an update whose secret token is wrong or missing with 401, and handles nothing', async () => {
    h = await startHarness();
    const url = h.app.url;
    await h.restart({ publicUrl: url, port: Number(new URL(url).port) });
    const update = { update_id: 999999, message: { message_id: 1, date: 1, chat: { id: 32, type: 'private', first_name: 'X' }, from: { id: 32, is_bot: false, first_name: 'X' }, text: '/start' } };
    for (const headers of [{ 'x-telegram-bot-api-secret-token': 'wrong' }, {}] as Array<Record<string, string>>) {
      const r = await fetch(`${url}${TELEGRAM_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
      expect(r.status).toBe(401);
    }
    expect(h.app.db.prepare('SELECT count(*) FROM customers WHERE user_id = 32').pluck().get()).toBe(0);
  });

  it('goes back to long polling, deleting the webhook, when PUBLIC_URL is removed', async () => {
    h = await startHarness();
    const url = h.app.url;
    await h.restart({ publicUrl: url, port: Number(new URL(url).port) });
    await h.restart({ publicUrl: undefined });
    expect(h.tg.calls.filter((c) => c.method === 'deleteWebhook').length).toBeGreaterThanOrEqual(1);
    const u = h.tg.addUser({ id: 33, first_name: 'Poll', language_code: 'en' });
    await u.sendText('/start');
    expect((await u.waitForMessage()).text).toContain('Hi, Poll!');
  });
});

describe('Telegram webhook mode: what Telegram is answered', () => {
  /** The app in webhook mode with its log collected; returns the secret token it gave setWebhook. */
  async function webhookMode(options: HarnessOptions = {}): Promise<{ h: Harness; url: string; secret: string; lines: string[] }> {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const started = await startHarness({ ...options, app: { log: createLogger({ level: 'info', destination }), ...options.app } });
    h = started;
    const url = started.app.url;
    await started.restart({ publicUrl: url, port: Number(new URL(url).port) });
    const secret = String(started.tg.calls.filter((c) => c.method === 'setWebhook').at(-1)!.params.secret_token);
    return { h: started, url, secret, lines };
  }
  const post = (url: string, secret: string, update: object) =>
    fetch(`${url}${TELEGRAM_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, body: JSON.stringify(update) });
  const startFrom = (updateId: number, user: { id: number; first_name: string }) => ({
    update_id: updateId,
    message: { message_id: updateId, date: 1, chat: { id: user.id, type: 'private', first_name: user.first_name }, from: { id: user.id, is_bot: false, first_name: user.first_name }, text: '/start' },
  });

  /** Telegram's view of the webhook (the emulator's getWebhookInfo). */
  const webhookInfo = (h: Harness) => new Api(TOKEN, { apiRoot: h.tg.apiRoot }).getWebhookInfo();

  it('answers 200 to an update it handled', async () => {
    const { h } = await webhookMode();
    const u = h.tg.addUser({ id: 61, first_name: 'Dana', language_code: 'en' });
    await u.sendText('/start');
    expect((await u.waitForMessage()).text).toContain('Hi, Dana!');
    // The reply can reach the chat a moment before the webhook's answer reaches Telegram.
    for (let i = 0; i < 100 && (await webhookInfo(h)).pending_update_count > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const info = await webhookInfo(h);
    expect(info).toMatchObject({ pending_update_count: 0 });
    expect(info.last_error_message).toBeUndefined();
  });

  it('answers 200 to an update whose handling failed, and logs why, so Telegram does not send it again and again', async () => {
    const { h, url, secret, lines } = await webhookMode();
    // A button press Telegram no longer knows: answerCallbackQuery fails with "query is too old".
    const stale = {
      update_id: 700002,
      callback_query: { id: 'expired-query', chat_instance: 'ci', data: 'nothing', from: { id: 62, is_bot: false, first_name: 'Old' }, message: { message_id: 1, date: 1, chat: { id: 62, type: 'private', first_name: 'Old' } } },
    };
    for (let delivery = 0; delivery < 2; delivery++) expect((await post(url, secret, stale)).status).toBe(200);
    // Stored, answered, then handled from the inbox: its failure is logged once (the redelivery is recognised).
    const failures = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'update failed');
    // Handled once: wait until the inbox marks it done (no later handling can follow: a redelivery is
    // refused at the door, update_id being the inbox's key).
    const state = () => h.app.db.prepare('SELECT state FROM inbox WHERE update_id = 700002').pluck().get();
    for (let i = 0; i < 200 && state() !== 'done'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(state()).toBe('done');
    const failed = failures();
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'error', updateId: 700002 });
    expect(JSON.stringify(failed[0])).toMatch(/query is too old|chat not found/);
  });

  it('answers 503 while the database cannot commit, so Telegram delivers the update again, and handles it then', async () => {
    const { h, lines } = await webhookMode();
    const u = h.tg.addUser({ id: 63, first_name: 'Lock', language_code: 'en' });
    const other = new Database(h.databasePath, { timeout: 0 });
    try {
      other.exec('BEGIN IMMEDIATE'); // another writer holds the lock longer than the bot's busy timeout
      await u.sendText('/start');
      for (let i = 0; i < 100 && (await webhookInfo(h)).last_error_message === undefined; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await webhookInfo(h)).last_error_message).toBe('Wrong response from the webhook: 503 Service Unavailable');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect(lines.some((l) => l.includes('the database cannot commit'))).toBe(true);
    expect((await u.waitForMessage()).text).toContain('Hi, Lock!'); // delivered again, and handled
  });

  it('checks the secret token before reading the body, and refuses an update over 256 kB', async () => {
    const { url, secret } = await webhookMode();
    const { hostname, port } = new URL(url);
    // Headers announcing 2 MB, and no body at all: a wrong token is refused at once, without waiting for it.
    const socket = connect(Number(port), hostname);
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.includes('\r\n\r\n')) resolve(text);
        });
        socket.on('error', reject);
        socket.write(`POST ${TELEGRAM_WEBHOOK_PATH} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\nX-Telegram-Bot-Api-Secret-Token: wrong\r\n\r\n`);
        setTimeout(() => reject(new Error(`no answer before the body; got ${JSON.stringify(text)}`)), 2000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    } finally {
      socket.destroy();
    }
    const big = { ...startFrom(700004, { id: 64, first_name: 'Big' }), padding: 'x'.repeat(300 * 1024) };
    expect((await post(url, secret, big)).status).toBe(413);
  });
});
