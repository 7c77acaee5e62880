import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AipayClient, AipayError, type AipayClientOptions, type InvoiceAttempt } from '../../src/payments/aipay-client.js';
import { startAipayFake, type AipayFake } from '../../src/sandbox/aipay-fake.js';

const API_KEY = 'sk-live-very-secret-key-0123456789';
const REQUEST = { phone: '77011234567', amount: 4900, description: 'Test Academy: Monthly', externalId: 'sb_test_0001' };

let fake: AipayFake;
beforeEach(async () => {
  fake = await startAipayFake({ apiKey: API_KEY, webhookSecret: 'whsec' });
});
afterEach(async () => {
  await fake.close();
});

function client(options: Partial<AipayClientOptions> = {}): { client: AipayClient; attempts: InvoiceAttempt[] } {
  const attempts: InvoiceAttempt[] = [];
  return {
    client: new AipayClient({ baseUrl: fake.baseUrl, apiKey: API_KEY, timeoutMs: 1000, attempts: 3, backoffMs: 10, onAttempt: (a) => attempts.push(a), ...options }),
    attempts,
  };
}

async function rejection(promise: Promise<unknown>): Promise<AipayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AipayError);
  return error as AipayError;
}

describe('AipayClient.createInvoice', () => {
  it('creates an invoice and returns the invoice_id AiPay gave, with the raw response', async () => {
    const { client: c, attempts } = client();
    const created = await c.createInvoice(REQUEST);
    expect(fake.invoices).toHaveLength(1);
    const invoice = fake.invoices[0]!;
    expect(created.invoiceId).toBe(invoice.invoice_id);
    expect(created.status).toBe('pending');
    expect(JSON.parse(created.raw)).toMatchObject({ invoice_id: invoice.invoice_id, external_id: 'sb_test_0001' });
    expect(attempts).toEqual([{ outcome: 'ok', httpStatus: 201 }]);
  });

  it('posts the exact JSON body to /invoices with the Bearer key', async () => {
    await client().client.createInvoice(REQUEST);
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/invoices');
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.rawBody).toBe('{"phone":"77011234567","amount":4900,"description":"Test Academy: Monthly","external_id":"sb_test_0001"}');
  });

  it('takes the invoice id from `id` when the response has no invoice_id, and accepts a numeric id', async () => {
    fake.injectFault({ fault: { status: 201, body: { id: 'x' } } });
    fake.injectFault({ fault: { status: 200, body: { id: 12345, status: 'pending' } } });
    const { client: c } = client();
    expect((await c.createInvoice(REQUEST)).invoiceId).toBe('x');
    const numeric = await c.createInvoice(REQUEST);
    expect(numeric.invoiceId).toBe('12345');
    expect(numeric.status).toBe('pending');
  });

  it('retries a 500 with the same external_id and returns the invoice of the second try', async () => {
    fake.injectFault({ fault: { status: 500 } });
    const { client: c, attempts } = client();
    const created = await c.createInvoice(REQUEST);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests.map((r) => (r.body as { external_id: string }).external_id)).toEqual(['sb_test_0001', 'sb_test_0001']);
    expect(fake.requests[1]!.rawBody).toBe(fake.requests[0]!.rawBody);
    expect(fake.invoices).toHaveLength(1);
    expect(created.invoiceId).toBe(fake.invoices[0]!.invoice_id);
    expect(attempts.map((a) => [a.outcome, a.httpStatus])).toEqual([
      ['server_error', 500],
      ['ok', 201],
    ]);
  });

  it('retries a proxy error page (502 text) and a reset connection', async () => {
    fake.injectFault({ fault: { status: 502, body: '<html>Bad Gateway</html>' } });
    fake.injectFault({ fault: { reset: true } });
    const { client: c, attempts } = client();
    await c.createInvoice(REQUEST);
    expect(fake.requests).toHaveLength(3);
    expect(attempts.map((a) => a.outcome)).toEqual(['server_error', 'network', 'ok']);
    expect(attempts[0]!.detail).toBe('<html>Bad Gateway</html>');
  });

  it('gives up after the configured attempts on repeated 5xx with a retryable error', async () => {
    fake.injectFault({ times: 3, fault: { status: 503 } });
    const { client: c, attempts } = client({ attempts: 3 });
    const error = await rejection(c.createInvoice(REQUEST));
    expect(error.retryable).toBe(true);
    expect(error.attempt).toMatchObject({ outcome: 'server_error', httpStatus: 503 });
    expect(fake.requests).toHaveLength(3);
    expect(attempts).toHaveLength(3);
    expect(fake.invoices).toHaveLength(0);
  });

  it('does not retry a 401 and throws a non-retryable error that does not contain the API key', async () => {
    const attempts: InvoiceAttempt[] = [];
    const c = new AipayClient({ baseUrl: fake.baseUrl, apiKey: 'wrong-key-abcdef', attempts: 3, backoffMs: 10, onAttempt: (a) => attempts.push(a) });
    const error = await rejection(c.createInvoice(REQUEST));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.attempt).toMatchObject({ outcome: 'rejected', httpStatus: 401 });
    expect(error.message).toContain('401');
    expect(error.message).not.toContain('wrong-key-abcdef');
    expect(error.stack ?? '').not.toContain('wrong-key-abcdef');
    expect(JSON.stringify(error.attempt)).not.toContain('wrong-key-abcdef');
    expect(attempts).toEqual([error.attempt]);
  });

  it('does not retry a 422 validation error', async () => {
    const { client: c, attempts } = client();
    const error = await rejection(c.createInvoice({ ...REQUEST, phone: '+77011234567' }));
    expect(fake.requests).toHaveLength(1);
    expect(error.retryable).toBe(false);
    expect(error.attempt).toMatchObject({ outcome: 'rejected', httpStatus: 422 });
    expect(error.message).toContain('phone');
    expect(attempts).toHaveLength(1);
  });

  it('times out a request AiPay never answers and retries it, then throws a retryable timeout error', async () => {
    fake.injectFault({ times: 2, fault: { hang: true } });
    const { client: c, attempts } = client({ timeoutMs: 200, attempts: 2 });
    const started = Date.now();
    const error = await rejection(c.createInvoice(REQUEST));
    const took = Date.now() - started;
    expect(error.retryable).toBe(true);
    expect(error.attempt.outcome).toBe('timeout');
    expect(error.message).toContain('timed out');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests.every((r) => r.fault === 'hang')).toBe(true);
    expect(attempts.map((a) => a.outcome)).toEqual(['timeout', 'timeout']);
    // It waited out both timeouts (a busy machine only adds to that); without them the hang would
    // last until the test times out, so no upper bound is needed.
    expect(took).toBeGreaterThanOrEqual(400);
  });

  it('reports every attempt to onAttempt, the per-call callback taking precedence over the option', async () => {
    fake.injectFault({ fault: { hang: true } });
    fake.injectFault({ fault: { status: 500 } });
    const { client: c, attempts: fromOptions } = client({ timeoutMs: 200, attempts: 3 });
    const perCall: InvoiceAttempt[] = [];
    await c.createInvoice(REQUEST, (a) => perCall.push(a));
    expect(perCall.map((a) => a.outcome)).toEqual(['timeout', 'server_error', 'ok']);
    expect(fromOptions).toEqual([]);
    expect(fake.requests).toHaveLength(3);
  });

  it('throws a non-retryable bad_response for a success that is not JSON or has no id', async () => {
    fake.injectFault({ fault: { status: 201, body: 'created!' } });
    fake.injectFault({ fault: { status: 201, body: { status: 'pending' } } });
    const { client: c } = client();
    const notJson = await rejection(c.createInvoice(REQUEST));
    expect(notJson.retryable).toBe(false);
    expect(notJson.attempt).toMatchObject({ outcome: 'bad_response', detail: 'created!' });
    const noId = await rejection(c.createInvoice(REQUEST));
    expect(noId.retryable).toBe(false);
    expect(noId.message).toBe('AiPay answered without an invoice id');
    expect(fake.requests).toHaveLength(2);
  });

  it('reports an unreachable AiPay as a retryable network error', async () => {
    const baseUrl = fake.baseUrl;
    await fake.close();
    const attempts: InvoiceAttempt[] = [];
    const c = new AipayClient({ baseUrl, apiKey: API_KEY, attempts: 2, backoffMs: 10, onAttempt: (a) => attempts.push(a) });
    const error = await rejection(c.createInvoice(REQUEST));
    expect(error.retryable).toBe(true);
    expect(error.attempt.outcome).toBe('network');
    expect(error.message).toMatch(/^AiPay unreachable: /);
    expect(attempts).toHaveLength(2);
  });

  // Product bug: a successful attempt is always recorded as HTTP 201 (aipay-client.ts, the
  // `onAttempt?.({ outcome: 'ok', httpStatus: 201 })` line), whatever AiPay answered — a 200
  // (e.g. a deduplicated external_id) ends up as 201 in invoice_attempts.
  it('records the real HTTP status of a successful attempt', async () => {
    fake.injectFault({ fault: { status: 200, body: { invoice_id: 'inv_existing', status: 'pending' } } });
    const { client: c, attempts } = client();
    await c.createInvoice(REQUEST);
    expect(attempts).toEqual([{ outcome: 'ok', httpStatus: 200 }]);
  });

  // Product bug: the class promises "its message never contains the API key", but the error
  // message (and attempt.detail, which goes to invoice_attempts and into the admin alert sent on
  // Telegram) copies up to 300 characters of AiPay's answer verbatim. An answer that echoes the
  // key (a proxy page, a "key ... is invalid" error) leaks it. Redact the key from `raw` first.
  it('keeps the API key out of the error even when AiPay echoes it back', async () => {
    fake.injectFault({ fault: { status: 401, body: { error: 'unauthorized', message: `API key ${API_KEY} is revoked` } } });
    const error = await rejection(client().client.createInvoice(REQUEST));
    expect(error.message).not.toContain(API_KEY);
    expect(error.attempt.detail ?? '').not.toContain(API_KEY);
  });
});
