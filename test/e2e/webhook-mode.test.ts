import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
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
    expect(setWebhook.params.allowed_updates).toEqual(['message', 'callback_query', 'chat_join_request', 'chat_member', 'my_chat_member']);
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
