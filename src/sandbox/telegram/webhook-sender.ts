import type { Clock } from '../../clock.js';
import type { UpdateQueue } from './update-queue.js';

/** The webhook as set by `setWebhook`. */
export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
}

/** Options for {@link WebhookSender}. */
export interface WebhookSenderOptions {
  queue: UpdateQueue;
  clock: Clock;
  /** First retry delay after a failed delivery; doubles per failure up to 5 s (default: 100 ms). */
  retryBaseMs?: number;
  /** How long one delivery may take before it counts as failed (default: 10 000 ms). */
  timeoutMs?: number;
  /** Handles a webhook reply: a JSON response body carrying a `method`, as Telegram executes it. */
  onReply?: (call: Record<string, unknown>) => Promise<void>;
}

/**
 * POSTs pending updates to the webhook URL one at a time, in order, with
 * `X-Telegram-Bot-Api-Secret-Token` when a secret is set. A 2xx confirms the update; anything
 * else (or a network error or timeout) is recorded as `last_error_*` and retried with backoff, so
 * later updates wait behind a failing one, as with Telegram.
 */
export class WebhookSender {
  #config: WebhookConfig | undefined;
  #running = false;
  #closed = false;
  #failures = 0;
  #abort = new AbortController();
  #wake: (() => void) | undefined;
  lastErrorDate: number | undefined;
  lastErrorMessage: string | undefined;

  constructor(private readonly options: WebhookSenderOptions) {
    options.queue.onPush(() => this.#start());
  }

  get config(): WebhookConfig | undefined {
    return this.#config;
  }

  set(config: WebhookConfig | undefined): void {
    this.#config = config;
    this.#failures = 0;
    if (!config) {
      this.lastErrorDate = undefined;
      this.lastErrorMessage = undefined;
    }
    this.#wake?.();
    this.#start();
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
    this.#wake?.();
  }

  #start(): void {
    if (this.#running || this.#closed || !this.#config) return;
    this.#running = true;
    void this.#loop().finally(() => {
      this.#running = false;
    });
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      const config = this.#config;
      const update = this.options.queue.pending()[0];
      if (!config || !update) return;
      const ok = await this.#deliver(config, update);
      if (ok) {
        this.#failures = 0;
        this.options.queue.remove(update.update_id);
        continue;
      }
      this.#failures += 1;
      const delay = Math.min(5000, (this.options.retryBaseMs ?? 100) * 2 ** (this.#failures - 1));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = undefined;
          resolve();
        }, delay);
        // A new webhook or close() cuts the wait short; a new update does not skip the backoff.
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #deliver(config: WebhookConfig, update: Record<string, unknown>): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (config.secretToken) headers['x-telegram-bot-api-secret-token'] = config.secretToken;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]);
    try {
      const response = await fetch(config.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(update),
        signal,
      });
      const body = await response.text();
      if (response.status < 200 || response.status > 299) {
        this.#recordError(`Wrong response from the webhook: ${response.status} ${response.statusText}`);
        return false;
      }
      await this.#handleReply(body);
      return true;
    } catch (error) {
      if (this.#closed) return false;
      const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      this.#recordError(`Connection failed: ${cause}`);
      return false;
    }
  }

  async #handleReply(body: string): Promise<void> {
    if (!this.options.onReply || body.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return;
    }
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { method?: unknown }).method === 'string') {
      await this.options.onReply(parsed as Record<string, unknown>).catch(() => undefined);
    }
  }

  #recordError(message: string): void {
    this.lastErrorDate = Math.floor(this.options.clock.now() / 1000);
    this.lastErrorMessage = message;
  }
}
