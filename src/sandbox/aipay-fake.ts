import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { aipayTimestamp, serializeAipayBody, signAipayBody } from './aipay-webhook-body.js';

/*
 * An AiPay sandbox: a real HTTP server that speaks the invoice API as documented in docs/aipay.md, plus a
 * webhook sender that builds, signs and POSTs AiPay's webhooks to the bot. Used by tests and by the local
 * playground. Where AiPay's behaviour is unknown the fake takes the stricter reading and says so.
 */

/** Status of an invoice as AiPay reports it. */
export type FakeInvoiceStatus = 'pending' | 'paid' | 'expired' | 'error';

/** An invoice held by the fake, with the request that created it exactly as received. */
export interface FakeInvoice {
  invoice_id: string;
  external_id: string;
  phone: string;
  amount: number;
  description: string;
  status: FakeInvoiceStatus;
  /** ISO 8601 UTC, whole seconds (`2026-03-27T02:17:43Z`), from the fake's clock. */
  created_at: string;
  /** Set the first time the invoice becomes paid; kept on redelivery so duplicates are byte-identical. */
  paid_at?: string;
  /** Set the first time the invoice becomes expired. */
  expired_at?: string;
  /** Set the first time the invoice becomes error. */
  failed_at?: string;
  /** The creating request: headers (lowercased names, as Node gives them), parsed body and raw body. */
  request: { headers: IncomingHttpHeaders; body: unknown; rawBody: string };
}

/** One API request received by the fake, recorded whatever its outcome. */
export interface FakeApiRequest {
  method: string;
  /** Path and query as sent, e.g. `/v1/invoices`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text (empty string when none). */
  rawBody: string;
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  body: unknown;
  /** HTTP status answered; 0 while unanswered and for `hang`/`reset` faults (no HTTP answer at all). */
  status: number;
  /** The body answered, if any. */
  responseBody?: string;
  /** Set when an injected fault decided the outcome. */
  fault?: 'status' | 'hang' | 'reset';
}

/** What an injected fault does to a request. */
export type AipayFault =
  /**
   * Answer this status with this body: a string is sent verbatim as text/plain (a proxy's error page),
   * anything else as JSON (default body: `{ error: 'injected_fault', message }`).
   */
  | { status: number; body?: unknown }
  /** Read the request and never answer, until the client gives up or {@link AipayFake.close} runs. */
  | { hang: true }
  /** Read the request, then reset the TCP connection (the client sees ECONNRESET / "other side closed"). */
  | { reset: true };

/** Options of {@link AipayFake.injectFault}. */
export interface InjectFaultOptions {
  /** How many of the next API requests get this fault (default: 1). */
  times?: number;
  fault: AipayFault;
  /**
   * Handle the request normally first (the invoice is created, `onInvoice` fires), then replace the answer
   * with the fault: the "AiPay created it but the response was lost" case (default: false, nothing happens).
   */
  processFirst?: boolean;
}

/** Options of the webhook methods ({@link AipayFake.pay}, `expire`, `fail`, `sendWebhook`). */
export interface WebhookOpts {
  /**
   * `X-AiPay-Signature`: `'valid'` (default) the true HMAC of the raw body; `'forged'` a well-formed
   * 64-hex HMAC under a wrong secret; `'missing'` no header at all; any other string is sent verbatim.
   */
  signature?: 'valid' | 'forged' | 'missing' | (string & {});
  /**
   * `JSON.stringify(payload, null, 2)` with every non-ASCII character escaped as `\uXXXX`, so the raw bytes
   * differ from a re-serialisation of the parsed body (default: false, compact JSON).
   */
  pretty?: boolean;
  /** Extra fields merged last into the payload (they can also override documented fields). */
  extra?: Record<string, unknown>;
  /** Overrides `amount` in the payload only; the invoice keeps its amount. */
  amount?: number;
  /** Where to POST (default: the fake's current `webhookUrl`). */
  url?: string;
}

/** The bot's answer to a webhook, plus what was sent. */
export interface WebhookResult {
  /** HTTP status of the receiver's answer. */
  status: number;
  /** Body of the receiver's answer, as text. */
  body: string;
  /** The request as sent: URL, headers and the exact raw body. */
  sent: { url: string; headers: Record<string, string>; body: string };
}

/** One webhook delivery attempt, recorded whatever its outcome. */
export interface FakeWebhookDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Receiver's HTTP status, once answered. */
  status?: number;
  /** Receiver's answer, once answered. */
  responseBody?: string;
  /** Why the POST failed without an HTTP answer (timeout, refused, reset, closed). */
  error?: string;
}

/** Options of {@link startAipayFake}. */
export interface AipayFakeOptions {
  /** The key the client must send as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Key of the HMAC-SHA256 that signs webhooks. */
  webhookSecret: string;
  /** Where webhooks are POSTed (default: none; set later with `setWebhookUrl` or pass `url` per call). */
  webhookUrl?: string;
  /** Source of `created_at`, `paid_at`, … (default: `systemClock`). */
  clock?: Clock;
  /** Interface to listen on (default: `'127.0.0.1'`). */
  host?: string;
  /** Port to listen on (default: 0, a free port chosen by the OS). */
  port?: number;
  /**
   * Answer a repeated `external_id` with the existing invoice (200) instead of creating another (default:
   * false, because whether AiPay deduplicates is unknown: assume it does not).
   */
  dedupeExternalId?: boolean;
  /** Timeout of each webhook POST, in ms (default: 10_000). */
  webhookTimeoutMs?: number;
}

/** A running AiPay sandbox. */
export interface AipayFake {
  /** API base, e.g. `http://127.0.0.1:PORT/v1`; the client posts to `${baseUrl}/invoices`. */
  readonly baseUrl: string;
  /** Where webhooks go by default; assignable, same as {@link AipayFake.setWebhookUrl}. */
  webhookUrl: string | undefined;
  setWebhookUrl(url: string | undefined): void;
  /** Every invoice created, oldest first (live objects: their status changes). */
  readonly invoices: FakeInvoice[];
  /** Every API request received, in arrival order (live). */
  readonly requests: FakeApiRequest[];
  /** Every webhook delivery attempt, in order (live). */
  readonly webhooks: FakeWebhookDelivery[];
  /** Finds an invoice by `invoice_id`, else the most recent with that `external_id`. */
  getInvoice(invoiceIdOrExternalId: string): FakeInvoice | undefined;
  /**
   * Calls `listener` after each new invoice has been answered (like the Kaspi push reaching the phone).
   * Listener errors are swallowed. Returns an unsubscribe function.
   */
  onInvoice(listener: (invoice: FakeInvoice) => void): () => void;
  /** Makes the next API request(s) fail; faults queue up in call order. Throws a RangeError on bad `times`. */
  injectFault(options: InjectFaultOptions): void;
  /**
   * Moves an invoice to `status` without sending any webhook (a delivery AiPay lost). Sets the status's
   * timestamp if it was not set yet. Throws if the invoice is unknown.
   */
  setStatus(invoiceIdOrExternalId: string, status: FakeInvoiceStatus): FakeInvoice;
  /**
   * Sends `invoice.paid`: `{ event, invoice_id, external_id, amount, paid_at }` exactly. The invoice becomes
   * paid (if the signature sent is the valid one: a forged delivery changes nothing at AiPay), whatever its
   * previous status, so out-of-order scenarios are possible. Throws if the invoice is unknown, no URL is
   * known, or the POST fails without an HTTP answer (timeout, refused, reset).
   */
  pay(invoiceIdOrExternalId: string, opts?: WebhookOpts): Promise<WebhookResult>;
  /** Sends `invoice.expired`: `{ event, invoice_id, external_id, amount, status: 'expired', expired_at }`. As `pay`. */
  expire(invoiceIdOrExternalId: string, opts?: WebhookOpts): Promise<WebhookResult>;
  /** Sends `invoice.error`: `{ event, invoice_id, external_id, amount, status: 'error', failed_at }`. As `pay`. */
  fail(invoiceIdOrExternalId: string, opts?: WebhookOpts): Promise<WebhookResult>;
  /**
   * Sends any body: an object is serialised (honouring `pretty`, `extra`, `amount`), a string is sent
   * byte-for-byte (then `pretty`, `extra` and `amount` are rejected with a TypeError). Changes no invoice.
   */
  sendWebhook(payload: object | string, opts?: WebhookOpts): Promise<WebhookResult>;
  /** Lowercase hex HMAC-SHA256(rawBody, webhookSecret). */
  signature(rawBody: string | Buffer): string;
  /** Stops listening, destroys every open socket (hung requests included), aborts webhook POSTs. Idempotent. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const PHONE = /^7\d{10}$/;

interface QueuedFault {
  remaining: number;
  fault: AipayFault;
  processFirst: boolean;
}

class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts an AiPay sandbox on `host:port` (default `127.0.0.1:0`). Resolves once it listens; rejects if it
 * cannot (e.g. the port is taken).
 */
export async function startAipayFake(options: AipayFakeOptions): Promise<AipayFake> {
  const clock = options.clock ?? systemClock;
  const host = options.host ?? '127.0.0.1';
  const dedupe = options.dedupeExternalId ?? false;
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000;
  const expectedAuth = Buffer.from(`Bearer ${options.apiKey}`);

  let webhookUrl = options.webhookUrl;
  const invoices: FakeInvoice[] = [];
  const requests: FakeApiRequest[] = [];
  const webhooks: FakeWebhookDelivery[] = [];
  const listeners = new Set<(invoice: FakeInvoice) => void>();
  const faults: QueuedFault[] = [];
  const sockets = new Set<Socket>();
  const outgoing = new Set<AbortController>();
  let closing: Promise<void> | undefined;

  const now = (): string => aipayTimestamp(clock.now());

  function getInvoice(id: string): FakeInvoice | undefined {
    const byId = invoices.find((inv) => inv.invoice_id === id);
    if (byId) return byId;
    for (let i = invoices.length - 1; i >= 0; i--) {
      const inv = invoices[i];
      if (inv && inv.external_id === id) return inv;
    }
    return undefined;
  }

  function mustGetInvoice(id: string): FakeInvoice {
    const inv = getInvoice(id);
    if (!inv) throw new Error(`AiPay fake: no invoice with invoice_id or external_id ${JSON.stringify(id)}`);
    return inv;
  }

  function publicInvoice(inv: FakeInvoice): Record<string, unknown> {
    const out: Record<string, unknown> = {
      invoice_id: inv.invoice_id,
      external_id: inv.external_id,
      status: inv.status,
      amount: inv.amount,
      phone: inv.phone,
      description: inv.description,
      created_at: inv.created_at,
    };
    if (inv.paid_at !== undefined) out.paid_at = inv.paid_at;
    if (inv.expired_at !== undefined) out.expired_at = inv.expired_at;
    if (inv.failed_at !== undefined) out.failed_at = inv.failed_at;
    return out;
  }

  function takeFault(): QueuedFault | undefined {
    const head = faults[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) faults.shift();
    return head;
  }

  function authorized(req: IncomingMessage): boolean {
    const got = Buffer.from(req.headers.authorization ?? '');
    return got.length === expectedAuth.length && timingSafeEqual(got, expectedAuth);
  }

  function validate(body: unknown): { phone: string; amount: number; description: string; external_id: string } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError('body', 'body must be a JSON object');
    }
    const b = body as Record<string, unknown>;
    if (typeof b.phone !== 'string' || !PHONE.test(b.phone)) {
      throw new ValidationError('phone', 'phone must be a string of 11 digits starting with 7, without "+"');
    }
    if (typeof b.amount !== 'number' || !Number.isSafeInteger(b.amount) || b.amount <= 0) {
      throw new ValidationError('amount', 'amount must be a positive integer (whole tenge)');
    }
    if (typeof b.description !== 'string' || b.description.trim() === '') {
      throw new ValidationError('description', 'description must be a non-empty string');
    }
    if (typeof b.external_id !== 'string' || b.external_id.trim() === '') {
      throw new ValidationError('external_id', 'external_id must be a non-empty string');
    }
    return { phone: b.phone, amount: b.amount, description: b.description, external_id: b.external_id };
  }

  type Answer = { status: number; body: unknown; headers?: Record<string, string>; created?: FakeInvoice };

  /** The API proper: a pure-ish function of the recorded request to an answer (mutates `invoices`). */
  function route(req: IncomingMessage, rec: FakeApiRequest, bodyOk: boolean): Answer {
    const path = new URL(rec.path, 'http://fake.invalid').pathname;
    const isCollection = path === '/v1/invoices' || path === '/v1/invoices/';
    const itemMatch = /^\/v1\/invoices\/([^/]+)$/.exec(path);
    if (!isCollection && !itemMatch) {
      return { status: 404, body: { error: 'not_found', message: `no route ${rec.method} ${path}` } };
    }
    if (isCollection && rec.method !== 'POST') {
      return { status: 405, body: { error: 'method_not_allowed', message: 'use POST' }, headers: { allow: 'POST' } };
    }
    if (itemMatch && rec.method !== 'GET') {
      return { status: 405, body: { error: 'method_not_allowed', message: 'use GET' }, headers: { allow: 'GET' } };
    }
    if (!authorized(req)) {
      return {
        status: 401,
        body: { error: 'unauthorized', message: 'missing or invalid Authorization: Bearer <API_KEY>' },
      };
    }
    if (itemMatch) {
      const id = decodeURIComponent(itemMatch[1] ?? '');
      const inv = invoices.find((i) => i.invoice_id === id);
      if (!inv) return { status: 404, body: { error: 'not_found', message: `no invoice ${id}` } };
      return { status: 200, body: publicInvoice(inv) };
    }
    // POST /v1/invoices
    if (!bodyOk) {
      return { status: 413, body: { error: 'payload_too_large', message: `body over ${MAX_BODY_BYTES} bytes` } };
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      return { status: 415, body: { error: 'unsupported_media_type', message: 'Content-Type must be application/json' } };
    }
    if (rec.body === undefined) {
      return { status: 400, body: { error: 'invalid_json', message: 'body is not valid JSON' } };
    }
    let fields: ReturnType<typeof validate>;
    try {
      fields = validate(rec.body);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return { status: 422, body: { error: 'validation_error', message: err.message, field: err.field } };
    }
    if (dedupe) {
      const existing = invoices.find((i) => i.external_id === fields.external_id);
      if (existing) return { status: 200, body: createdShape(existing) };
    }
    const inv: FakeInvoice = {
      invoice_id: `inv_${randomBytes(8).toString('hex')}`,
      external_id: fields.external_id,
      phone: fields.phone,
      amount: fields.amount,
      description: fields.description,
      status: 'pending',
      created_at: now(),
      request: { headers: rec.headers, body: rec.body, rawBody: rec.rawBody },
    };
    invoices.push(inv);
    return { status: 201, body: createdShape(inv), created: inv };
  }

  function createdShape(inv: FakeInvoice): Record<string, unknown> {
    return {
      invoice_id: inv.invoice_id,
      external_id: inv.external_id,
      status: inv.status,
      amount: inv.amount,
      phone: inv.phone,
      created_at: inv.created_at,
    };
  }

  /** A string body is sent verbatim as text (a proxy's error page); anything else as JSON. */
  function answer(res: ServerResponse, rec: FakeApiRequest, a: Answer): void {
    const isText = typeof a.body === 'string';
    const text = isText ? (a.body as string) : (JSON.stringify(a.body) ?? 'null');
    rec.status = a.status;
    rec.responseBody = text;
    res.writeHead(a.status, {
      'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...a.headers,
    });
    res.end(text);
  }

  function notify(inv: FakeInvoice): void {
    for (const listener of [...listeners]) {
      try {
        listener(inv);
      } catch {
        // A playground hook must not break the API.
      }
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', () => {
      // Client went away mid-body; nothing to answer.
    });
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      if (rawBody !== '' && !tooLarge) {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
      }
      const rec: FakeApiRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        rawBody: tooLarge ? '' : rawBody,
        body,
        status: 0,
      };
      requests.push(rec);

      const queued = takeFault();
      if (!queued) {
        const a = route(req, rec, !tooLarge);
        answer(res, rec, a);
        if (a.created) notify(a.created);
        return;
      }
      const created = queued.processFirst ? route(req, rec, !tooLarge).created : undefined;
      const { fault } = queued;
      if ('hang' in fault) {
        rec.fault = 'hang';
      } else if ('reset' in fault) {
        rec.fault = 'reset';
        req.socket.resetAndDestroy();
      } else {
        rec.fault = 'status';
        answer(res, rec, {
          status: fault.status,
          body: fault.body !== undefined ? fault.body : { error: 'injected_fault', message: `injected HTTP ${fault.status}` },
        });
      }
      if (created) notify(created);
    });
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: 'internal_error', message: 'AiPay fake failed' }));
      }
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  const baseUrl = `http://${urlHost}:${address.port}/v1`;

  function headerFor(rawBody: string, signature: WebhookOpts['signature']): string | undefined {
    switch (signature ?? 'valid') {
      case 'valid':
        return signAipayBody(rawBody, options.webhookSecret);
      case 'forged':
        return signAipayBody(rawBody, `forged:${options.webhookSecret}`);
      case 'missing':
        return undefined;
      default:
        return signature;
    }
  }

  /** POSTs a raw body; `onAuthentic` runs before the POST when the header sent is the valid signature. */
  async function deliver(rawBody: string, opts: WebhookOpts, onAuthentic?: () => void): Promise<WebhookResult> {
    if (closing) throw new Error('AiPay fake is closed');
    const url = opts.url ?? webhookUrl;
    if (url === undefined) {
      throw new Error('AiPay fake: no webhook URL; pass opts.url or call setWebhookUrl(url) first');
    }
    const sig = headerFor(rawBody, opts.signature);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'AiPay-Fake/1.0',
    };
    if (sig !== undefined) headers['x-aipay-signature'] = sig;
    if (sig === signAipayBody(rawBody, options.webhookSecret)) onAuthentic?.();

    const record: FakeWebhookDelivery = { url, headers, body: rawBody };
    webhooks.push(record);
    const ac = new AbortController();
    outgoing.add(ac);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body: rawBody,
        redirect: 'manual',
        signal: AbortSignal.any([ac.signal, AbortSignal.timeout(webhookTimeoutMs)]),
      });
      const text = await res.text();
      record.status = res.status;
      record.responseBody = text;
      return { status: res.status, body: text, sent: { url, headers, body: rawBody } };
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      record.error = reason;
      throw new Error(`AiPay fake: webhook POST to ${url} failed (${reason})`, { cause: err });
    } finally {
      outgoing.delete(ac);
    }
  }

  function buildObjectBody(payload: Record<string, unknown>, opts: WebhookOpts): string {
    const merged: Record<string, unknown> = { ...payload };
    if (opts.amount !== undefined) merged.amount = opts.amount;
    Object.assign(merged, opts.extra);
    return serializeAipayBody(merged, { pretty: opts.pretty ?? false });
  }

  function moveStatus(id: string, status: FakeInvoiceStatus, at: string = now()): FakeInvoice {
    const inv = mustGetInvoice(id);
    inv.status = status;
    if (status === 'paid') inv.paid_at ??= at;
    if (status === 'expired') inv.expired_at ??= at;
    if (status === 'error') inv.failed_at ??= at;
    return inv;
  }

  const fake: AipayFake = {
    baseUrl,
    get webhookUrl() {
      return webhookUrl;
    },
    set webhookUrl(url: string | undefined) {
      webhookUrl = url;
    },
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    invoices,
    requests,
    webhooks,
    getInvoice,
    onInvoice(listener) {
      const wrapped = (inv: FakeInvoice): void => listener(inv);
      listeners.add(wrapped);
      return () => listeners.delete(wrapped);
    },
    injectFault({ times = 1, fault, processFirst = false }) {
      if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
      faults.push({ remaining: times, fault, processFirst });
    },
    setStatus(id, status) {
      return moveStatus(id, status);
    },
    async pay(id, opts = {}) {
      const inv = mustGetInvoice(id);
      const paidAt = inv.paid_at ?? now();
      const raw = buildObjectBody(
        { event: 'invoice.paid', invoice_id: inv.invoice_id, external_id: inv.external_id, amount: inv.amount, paid_at: paidAt },
        opts,
      );
      return deliver(raw, opts, () => moveStatus(inv.invoice_id, 'paid', paidAt));
    },
    async expire(id, opts = {}) {
      const inv = mustGetInvoice(id);
      const at = inv.expired_at ?? now();
      const raw = buildObjectBody(
        {
          event: 'invoice.expired',
          invoice_id: inv.invoice_id,
          external_id: inv.external_id,
          amount: inv.amount,
          status: 'expired',
          expired_at: at,
        },
        opts,
      );
      return deliver(raw, opts, () => moveStatus(inv.invoice_id, 'expired', at));
    },
    async fail(id, opts = {}) {
      const inv = mustGetInvoice(id);
      const at = inv.failed_at ?? now();
      const raw = buildObjectBody(
        {
          event: 'invoice.error',
          invoice_id: inv.invoice_id,
          external_id: inv.external_id,
          amount: inv.amount,
          status: 'error',
          failed_at: at,
        },
        opts,
      );
      return deliver(raw, opts, () => moveStatus(inv.invoice_id, 'error', at));
    },
    async sendWebhook(payload, opts = {}) {
      if (typeof payload === 'string') {
        if (opts.pretty !== undefined || opts.extra !== undefined || opts.amount !== undefined) {
          throw new TypeError('sendWebhook: pretty, extra and amount apply to object payloads only');
        }
        return deliver(payload, opts);
      }
      return deliver(buildObjectBody({ ...(payload as Record<string, unknown>) }, opts), opts);
    },
    signature(rawBody) {
      return signAipayBody(rawBody, options.webhookSecret);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const ac of outgoing) ac.abort(new Error('AiPay fake closed'));
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
  return fake;
}
