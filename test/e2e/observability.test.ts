import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { API_KEY, startHarness, TOKEN, WEBHOOK_SECRET, type Harness } from '../support/harness.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** A logger whose JSON lines are collected in memory. */
function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination: stream }) };
}

async function buyMonthly(h: Harness, id: number, phone: string) {
  const u = h.tg.addUser({ id, first_name: 'Logan', language_code: 'en' });
  await u.sendText('/start monthly');
  await u.waitForMessage((m) => m.text?.startsWith('Monthly') ?? false);
  await u.pressButton(/^Buy for/);
  await u.waitForMessage((m) => m.text?.includes('Kaspi number') ?? false);
  await u.sendText(phone);
  await u.waitForMessage((m) => m.text?.startsWith('Send the invoice to') ?? false);
  await u.pressButton('Yes, send it');
  await u.waitForMessage((m) => m.text?.startsWith('Invoice for') ?? false);
  return u;
}

describe('logs and metrics', () => {
  it('writes one JSON line per payment event with order and invoice ids, and never a secret or a full phone number', async () => {
    const { lines, log } = capture();
    h = await startHarness({ app: { log } });
    const u = await buyMonthly(h, 41, '+7 701 555 12 34');
    const invoice = h.aipay.invoices[0]!;
    u.mark();
    expect((await h.aipay.pay(invoice.invoice_id)).status).toBe(200);
    await u.waitForMessage((m) => m.text?.includes('Tap to join') ?? false);
    expect((await h.aipay.pay(invoice.invoice_id, { signature: 'forged' })).status).toBe(403);
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'aipay event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: 'info', event: 'invoice.paid', invoiceId: invoice.invoice_id, externalId: invoice.external_id, outcome: 'granted' });
    expect(typeof events[0]!.time).toBe('string');
    const all = lines.join('\n');
    for (const secret of [TOKEN, API_KEY, WEBHOOK_SECRET, '77015551234', '7015551234', '555 12 34']) expect(all).not.toContain(secret);
  });

  it('serves Prometheus metrics: payments, grants, backlog, dead jobs and rejects by reason', async () => {
    h = await startHarness({ app: { metricsToken: METRICS_TOKEN } });
    await buyMonthly(h, 42, '+7 701 555 12 35');
    const invoice = h.aipay.invoices[0]!;
    await h.aipay.pay(invoice.invoice_id);
    await h.aipay.pay(invoice.invoice_id);
    await h.aipay.pay(invoice.invoice_id, { signature: 'forged' });
    await h.aipay.sendWebhook('not json at all');
    await h.app.worker.drain();
    const text = await (await fetch(`${h.app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(text).toContain('subscription_bot_webhook_events_total{outcome="granted"} 1');
    expect(text).toContain('subscription_bot_webhook_events_total{outcome="duplicate"} 1');
    expect(text).toContain('subscription_bot_webhook_rejects_total{reason="signature"} 1');
    expect(text).toContain('subscription_bot_webhook_rejects_total{reason="malformed"} 1');
    expect(text).toContain('subscription_bot_payments{via="webhook"} 1');
    expect(text).toContain('subscription_bot_grants 1');
    expect(text).toMatch(/subscription_bot_outbox_backlog \d+/);
    expect(text).toContain('subscription_bot_outbox_dead 0');
  });
});

describe('/metrics behind a reverse proxy (every request comes from 127.0.0.1)', () => {
  it('is off, 404, without METRICS_TOKEN', async () => {
    h = await startHarness();
    expect((await fetch(`${h.app.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${h.app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
  });

  it('answers 401 without the token or with a wrong one, and 200 with it', async () => {
    h = await startHarness({ app: { metricsToken: METRICS_TOKEN } });
    const scrape = (authorization?: string) => fetch(`${h!.app.url}/metrics`, { headers: authorization ? { authorization } : {} });
    for (const wrong of [undefined, 'Bearer', `Bearer ${METRICS_TOKEN.slice(0, -1)}`, `Bearer ${METRICS_TOKEN}x`, `Basic ${METRICS_TOKEN}`]) {
      const r = await scrape(wrong);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(await r.text()).not.toContain('subscription_bot_');
    }
    const r = await scrape(`Bearer ${METRICS_TOKEN}`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('subscription_bot_subscriptions_active');
  });
});

describe('the daily backup job', () => {
  it('writes a backup that opens with the same rows, and sends it to the admins when the catalog asks', async () => {
    const { TEST_CATALOG, ADMIN_ID } = await import('../support/harness.js');
    h = await startHarness({ catalog: TEST_CATALOG.replace('  invoice_lifetime: 1h', '  invoice_lifetime: 1h\n  backup_to_admins: true') });
    h.app.db.prepare("INSERT INTO customers (user_id, first_name, created_at, updated_at) VALUES (77, 'Backed up', 0, 0)").run();
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    await h.app.scheduler.runNow('backup');
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = join(h.dir, 'data', 'backups');
    const files = readdirSync(dir).filter((f) => f.endsWith('.db'));
    expect(files).toHaveLength(1);
    const Database = (await import('better-sqlite3')).default;
    const copy = new Database(join(dir, files[0]!), { readonly: true });
    expect(copy.prepare('SELECT first_name FROM customers WHERE user_id = 77').pluck().get()).toBe('Backed up');
    copy.close();
    const doc = await admin.waitForMessage((m) => m.document !== undefined, 8000);
    expect(doc.document?.file_name).toBe(files[0]);
  });
});
