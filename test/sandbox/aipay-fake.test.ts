import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { startAipayFake, type AipayFake } from '../../src/sandbox/aipay-fake.js';

const API_KEY = 'test-api-key';
const SECRET = 'test-webhook-secret';
const T0 = Date.parse('2026-03-27T02:17:43.512Z');

const order = {
  phone: '77001234567',
  amount: 4900,
  description: "Course 'Python for Beginners' — 12-month access",
  external_id: 'order_telegram_98765',
};

function post(fake: AipayFake, body: unknown, init: { auth?: string | null; signal?: AbortSignal } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const auth = init.auth === undefined ? `Bearer ${API_KEY}` : init.auth;
  if (auth !== null) headers.authorization = auth;
  return fetch(`${fake.baseUrl}/invoices`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

/** A tiny bot-side receiver that checks the signature over the raw bytes, as the real route must. */
interface Receiver {
  url: string;
  received: Array<{ headers: Record<string, string | string[] | undefined>; raw: Buffer }>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const app = express();
  app.post('/webhook/aipay', express.raw({ type: 'application/json', limit: '64kb' }), (req, res) => {
    const raw = req.body as Buffer;
    received.push({ headers: req.headers, raw });
    const sig = req.get('x-aipay-signature') ?? '';
    if (!/^[0-9a-f]{64}$/i.test(sig)) {
      res.status(403).json({ error: 'bad_signature' });
      return;
    }
    const expected = createHmac('sha256', SECRET).update(raw).digest();
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) {
      res.status(403).json({ error: 'bad_signature' });
      return;
    }
    res.status(200).json({ ok: true });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook/aipay`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('AiPay fake: invoice API', () => {
  let fake: AipayFake;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await startAipayFake({ apiKey: API_KEY, webhookSecret: SECRET, clock });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('listens on 127.0.0.1 with a /v1 base URL', () => {
    expect(fake.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong key', 'Bearer nope'],
    ['the key without Bearer', API_KEY],
  ])('answers 401 unauthorized to %s and creates nothing', async (_name, auth) => {
    const res = await post(fake, order, { auth });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
    expect(fake.invoices).toHaveLength(0);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.status).toBe(401);
  });

  it.each([
    ['phone', { ...order, phone: '+77001234567' }],
    ['phone', { ...order, phone: 77001234567 }],
    ['amount', { ...order, amount: 49.5 }],
    ['amount', { ...order, amount: 0 }],
    ['amount', { ...order, amount: '4900' }],
    ['description', { ...order, description: '' }],
    ['external_id', { ...order, external_id: undefined }],
  ])('answers 422 validation_error naming the field %s', async (field, body) => {
    const res = await post(fake, body);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: 'validation_error', field, message: expect.any(String) });
    expect(fake.invoices).toHaveLength(0);
  });

  it('creates a pending invoice, records the request as received and serves it by id', async () => {
    const res = await post(fake, order);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      invoice_id: expect.stringMatching(/^inv_[0-9a-f]+$/),
      external_id: order.external_id,
      status: 'pending',
      amount: 4900,
      phone: order.phone,
      created_at: '2026-03-27T02:17:43Z',
    });

    expect(fake.invoices).toHaveLength(1);
    const inv = fake.invoices[0]!;
    expect(inv).toMatchObject({ ...order, invoice_id: body.invoice_id, status: 'pending' });
    expect(inv.request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(inv.request.rawBody).toBe(JSON.stringify(order));
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/v1/invoices', status: 201, body: order });

    const got = await fetch(`${fake.baseUrl}/invoices/${String(body.invoice_id)}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ invoice_id: body.invoice_id, status: 'pending', description: order.description });

    const missing = await fetch(`${fake.baseUrl}/invoices/inv_nope`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(missing.status).toBe(404);
  });

  it('tells onInvoice listeners about each new invoice until they unsubscribe', async () => {
    const seen: string[] = [];
    const off = fake.onInvoice((inv) => seen.push(inv.external_id));
    await post(fake, order);
    off();
    await post(fake, { ...order, external_id: 'order_2' });
    expect(seen).toEqual([order.external_id]);
  });

  it('creates a second invoice for a repeated external_id by default (AiPay dedupe is unknown)', async () => {
    const a = (await (await post(fake, order)).json()) as { invoice_id: string };
    const b = (await (await post(fake, order)).json()) as { invoice_id: string };
    expect(a.invoice_id).not.toBe(b.invoice_id);
    expect(fake.invoices).toHaveLength(2);
    expect(fake.getInvoice(order.external_id)?.invoice_id).toBe(b.invoice_id);
  });

  it('returns the existing invoice with 200 for a repeated external_id when dedupeExternalId is on', async () => {
    const dedupe = await startAipayFake({ apiKey: API_KEY, webhookSecret: SECRET, dedupeExternalId: true });
    try {
      const first = await post(dedupe, order);
      const second = await post(dedupe, order);
      expect([first.status, second.status]).toEqual([201, 200]);
      expect(((await second.json()) as { invoice_id: string }).invoice_id).toBe(
        ((await first.json()) as { invoice_id: string }).invoice_id,
      );
      expect(dedupe.invoices).toHaveLength(1);
    } finally {
      await dedupe.close();
    }
  });

  it('fails the next request with an injected 500, then succeeds; both attempts are recorded', async () => {
    fake.injectFault({ fault: { status: 500 } });
    const first = await post(fake, order);
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ error: 'injected_fault' });
    expect(fake.invoices).toHaveLength(0);

    const second = await post(fake, order);
    expect(second.status).toBe(201);
    expect(fake.requests.map((r) => [r.status, (r.body as { external_id: string }).external_id])).toEqual([
      [500, order.external_id],
      [201, order.external_id],
    ]);
    expect(fake.requests[0]?.fault).toBe('status');
  });

  it('applies a fault `times` times in a row with a custom body', async () => {
    fake.injectFault({ times: 2, fault: { status: 503, body: '<html>Bad Gateway</html>' } });
    expect((await post(fake, order)).status).toBe(503);
    const again = await post(fake, order);
    expect(again.status).toBe(503);
    expect(await again.text()).toBe('<html>Bad Gateway</html>');
    expect((await post(fake, order)).status).toBe(201);
  });

  it('hangs until the client times out, then serves the next request', async () => {
    fake.injectFault({ fault: { hang: true } });
    // The client's own timeout ends it: nothing but the TimeoutError would (no answer, no close).
    await expect(post(fake, order, { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(fake.requests[0]).toMatchObject({ status: 0, fault: 'hang', body: order });
    expect(fake.invoices).toHaveLength(0);
    expect((await post(fake, order)).status).toBe(201);
  });

  it('resets the connection, then serves the next request', async () => {
    fake.injectFault({ fault: { reset: true } });
    await expect(post(fake, order)).rejects.toThrow(TypeError);
    expect(fake.requests[0]).toMatchObject({ status: 0, fault: 'reset' });
    expect((await post(fake, order)).status).toBe(201);
  });

  it('with processFirst creates the invoice and loses the answer (the duplicate-invoice trap)', async () => {
    fake.injectFault({ fault: { hang: true }, processFirst: true });
    await expect(post(fake, order, { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(fake.invoices).toHaveLength(1);
    expect((await post(fake, order)).status).toBe(201);
    expect(fake.invoices).toHaveLength(2);
  });

  it('closes promptly with a hung request open', async () => {
    fake.injectFault({ fault: { hang: true } });
    const hung = post(fake, order);
    const outcome = hung.then(
      () => 'answered',
      () => 'failed',
    );
    while (fake.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await fake.close();
    // Waiting for the hung request would take until the test times out; the margin is wide so a
    // loaded machine cannot fail it.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await outcome).toBe('failed');
  });
});

describe('AiPay fake: webhooks', () => {
  let fake: AipayFake;
  let receiver: Receiver;
  let clock: ManualClock;
  let invoiceId: string;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    receiver = await startReceiver();
    fake = await startAipayFake({ apiKey: API_KEY, webhookSecret: SECRET, clock, webhookUrl: receiver.url });
    const res = await post(fake, order);
    invoiceId = ((await res.json()) as { invoice_id: string }).invoice_id;
    clock.advance(30_000);
  });
  afterEach(async () => {
    await fake.close();
    await receiver.close();
  });

  it('pay() sends the exact invoice.paid payload with a valid signature and marks the invoice paid', async () => {
    const result = await fake.pay(invoiceId);
    expect(result).toMatchObject({ status: 200, body: JSON.stringify({ ok: true }) });
    const got = receiver.received[0]!;
    expect(got.raw.toString('utf8')).toBe(
      JSON.stringify({
        event: 'invoice.paid',
        invoice_id: invoiceId,
        external_id: order.external_id,
        amount: 4900,
        paid_at: '2026-03-27T02:18:13Z',
      }),
    );
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-aipay-signature']).toBe(fake.signature(got.raw));
    expect(fake.getInvoice(invoiceId)).toMatchObject({ status: 'paid', paid_at: '2026-03-27T02:18:13Z' });
  });

  it('redelivers a paid webhook byte for byte, even later', async () => {
    await fake.pay(order.external_id);
    clock.advance(60_000);
    await fake.pay(invoiceId);
    expect(receiver.received[1]!.raw.equals(receiver.received[0]!.raw)).toBe(true);
  });

  it.each(['forged', 'missing', 'not-hex-zz'] as const)(
    'a %s signature is refused by the receiver and changes nothing at AiPay',
    async (signature) => {
      const result = await fake.pay(invoiceId, { signature });
      expect(result.status).toBe(403);
      const header = receiver.received[0]!.headers['x-aipay-signature'];
      if (signature === 'missing') expect(header).toBeUndefined();
      else expect(header).not.toBe(fake.signature(receiver.received[0]!.raw));
      if (signature === 'forged') expect(header).toMatch(/^[0-9a-f]{64}$/);
      expect(fake.getInvoice(invoiceId)?.status).toBe('pending');
    },
  );

  it('a pretty body has raw bytes with \\u00 escapes that differ from a re-serialisation and still verify', async () => {
    const result = await fake.pay(invoiceId, { pretty: true, extra: { note: 'café', customer: 'Әлия' } });
    expect(result.status).toBe(200);
    const raw = receiver.received[0]!.raw.toString('utf8');
    expect(raw).toContain('\\u00e9');
    expect(raw).toContain('\\u04d8');
    expect(raw).toMatch(/^\{\n {2}"event": "invoice.paid"/);
    expect(/[^\x00-\x7f]/.test(raw)).toBe(false);
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    expect(parsed).toMatchObject({ note: 'café', customer: 'Әлия', amount: 4900 });
    expect(JSON.stringify(parsed)).not.toBe(raw);
    expect(fake.signature(JSON.stringify(parsed))).not.toBe(result.sent.headers['x-aipay-signature']);
  });

  it('overrides the amount in the payload only', async () => {
    await fake.pay(invoiceId, { amount: 100 });
    expect(JSON.parse(receiver.received[0]!.raw.toString())).toMatchObject({ amount: 100 });
    expect(fake.getInvoice(invoiceId)).toMatchObject({ amount: 4900, status: 'paid' });
  });

  it('expire() and fail() send invoice.expired and invoice.error with status and a timestamp', async () => {
    await fake.expire(invoiceId);
    expect(JSON.parse(receiver.received[0]!.raw.toString())).toEqual({
      event: 'invoice.expired',
      invoice_id: invoiceId,
      external_id: order.external_id,
      amount: 4900,
      status: 'expired',
      expired_at: '2026-03-27T02:18:13Z',
    });
    expect(fake.getInvoice(invoiceId)?.status).toBe('expired');

    await fake.fail(invoiceId);
    expect(JSON.parse(receiver.received[1]!.raw.toString())).toEqual({
      event: 'invoice.error',
      invoice_id: invoiceId,
      external_id: order.external_id,
      amount: 4900,
      status: 'error',
      failed_at: '2026-03-27T02:18:13Z',
    });

    // Out of order: a paid after an error is still delivered, and AiPay's state follows it.
    expect((await fake.pay(invoiceId)).status).toBe(200);
    expect(fake.getInvoice(invoiceId)?.status).toBe('paid');
  });

  it('sendWebhook() posts a raw string byte for byte, signed', async () => {
    const raw = '{"event":"invoice.refunded","invoice_id":"x","event":"invoice.paid"}';
    const result = await fake.sendWebhook(raw);
    expect(result.status).toBe(200);
    expect(receiver.received[0]!.raw.toString('utf8')).toBe(raw);
    expect(result.sent.headers['x-aipay-signature']).toBe(createHmac('sha256', SECRET).update(raw).digest('hex'));
    expect(fake.webhooks).toHaveLength(1);
    expect(fake.webhooks[0]).toMatchObject({ url: receiver.url, status: 200, body: raw });
  });

  it('posts to a URL set later or given per call, and throws when there is none', async () => {
    fake.setWebhookUrl(undefined);
    await expect(fake.pay(invoiceId)).rejects.toThrow(/no webhook URL/);
    expect((await fake.pay(invoiceId, { url: receiver.url })).status).toBe(200);
    fake.webhookUrl = receiver.url;
    expect(fake.webhookUrl).toBe(receiver.url);
    expect((await fake.sendWebhook({ event: 'invoice.unknown' })).status).toBe(200);
  });

  it('throws when the receiver cannot be reached, recording the failure', async () => {
    await receiver.close();
    await expect(fake.pay(invoiceId)).rejects.toThrow(/webhook POST to .* failed/);
    expect(fake.webhooks[0]?.error).toBeDefined();
  });
});
