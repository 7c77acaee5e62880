export interface CreateInvoiceRequest {
  phone: string;
  amount: number;
  description: string;
  externalId: string;
}

export interface CreatedInvoice {
  invoiceId: string;
  status?: string;
  /** The response body as received, stored with the order. */
  raw: string;
  httpStatus: number;
}

/** One try at AiPay, as recorded against the order. */
export interface InvoiceAttempt {
  outcome: 'ok' | 'rejected' | 'server_error' | 'timeout' | 'network' | 'bad_response';
  httpStatus?: number;
  detail?: string;
}

/**
 * AiPay refused or could not be reached. `retryable` = 5xx, timeout or network (the same
 * external_id may be tried again); otherwise our request was wrong (4xx) and retrying won't help.
 */
export class AipayError extends Error {
  override name = 'AipayError';
  constructor(
    message: string,
    readonly attempt: InvoiceAttempt,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface AipayClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout (default: 10 000 ms). */
  timeoutMs?: number;
  /** Tries for retryable failures, first included (default: 3). */
  attempts?: number;
  /** Base backoff between tries; doubled each time, with jitter (default: 500 ms). */
  backoffMs?: number;
  /** Called after every try, successful or not, so each is recorded. */
  onAttempt?: (attempt: InvoiceAttempt) => void;
}

/** Creates Kaspi invoices through AiPay: `POST {baseUrl}/invoices` with the Bearer key. */
export class AipayClient {
  constructor(private readonly options: AipayClientOptions) {}

  /**
   * Creates one invoice, retrying 5xx, timeouts and network errors with the same external_id.
   * Throws {@link AipayError}; its message never contains the API key.
   */
  async createInvoice(req: CreateInvoiceRequest, onAttempt = this.options.onAttempt): Promise<CreatedInvoice> {
    const attempts = this.options.attempts ?? 3;
    let last: AipayError | undefined;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep((this.options.backoffMs ?? 500) * 2 ** (i - 1) * (0.5 + Math.random()));
      try {
        const created = await this.#tryOnce(req);
        onAttempt?.({ outcome: 'ok', httpStatus: created.httpStatus });
        return created;
      } catch (error) {
        if (!(error instanceof AipayError)) throw error;
        onAttempt?.(error.attempt);
        last = error;
        if (!error.retryable) break;
      }
    }
    throw last!;
  }

  async #tryOnce(req: CreateInvoiceRequest): Promise<CreatedInvoice> {
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}/invoices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ phone: req.phone, amount: req.amount, description: req.description, external_id: req.externalId }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const timeout = (error as Error).name === 'TimeoutError';
      const detail = timeout ? 'no answer in time' : String((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
      throw new AipayError(`AiPay ${timeout ? 'timed out' : 'unreachable'}: ${detail}`, { outcome: timeout ? 'timeout' : 'network', detail }, true);
    }
    // AiPay's answer ends up in logs, the database and admin alerts: never with our key in it.
    const raw = (await response.text().catch(() => '')).replaceAll(this.options.apiKey, '[redacted]');
    if (!response.ok) {
      const server = response.status >= 500;
      const detail = raw.slice(0, 300);
      throw new AipayError(`AiPay answered ${response.status}: ${detail}`, { outcome: server ? 'server_error' : 'rejected', httpStatus: response.status, detail }, server);
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new AipayError('AiPay answered with something that is not JSON', { outcome: 'bad_response', httpStatus: response.status, detail: raw.slice(0, 300) }, false);
    }
    const invoiceId = body.invoice_id ?? body.id;
    if (typeof invoiceId !== 'string' && typeof invoiceId !== 'number') {
      throw new AipayError('AiPay answered without an invoice id', { outcome: 'bad_response', httpStatus: response.status, detail: raw.slice(0, 300) }, false);
    }
    return { invoiceId: String(invoiceId), status: typeof body.status === 'string' ? body.status : undefined, raw, httpStatus: response.status };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
