import { conflict, type TelegramApiError } from './api-error.js';

/** An update as delivered to the bot. */
export type RawUpdate = { update_id: number } & Record<string, unknown>;

/** Update types a bot receives when it has not chosen (Telegram's documented default). */
export const DEFAULT_ALLOWED_UPDATES: readonly string[] = [
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'business_connection',
  'business_message',
  'edited_business_message',
  'deleted_business_messages',
  'inline_query',
  'chosen_inline_result',
  'callback_query',
  'shipping_query',
  'pre_checkout_query',
  'purchased_paid_media',
  'poll',
  'poll_answer',
  'my_chat_member',
  'chat_join_request',
  'chat_boost',
  'removed_chat_boost',
];

/** Options for {@link UpdateQueue}. */
export interface UpdateQueueOptions {
  /** The first update_id (default: 1). */
  firstUpdateId?: number;
}

interface LongPoll {
  limit: number;
  resolve(updates: RawUpdate[]): void;
  reject(error: TelegramApiError): void;
  timer: NodeJS.Timeout;
}

/**
 * The bot's pending updates, as Telegram keeps them: ids increase by one, an update stays until a
 * `getUpdates` offset above it confirms it (or a webhook delivery succeeds), and `allowed_updates`
 * is one persisted setting that filters updates when they are created, not when fetched.
 */
export class UpdateQueue {
  #nextId: number;
  #pending: RawUpdate[] = [];
  #allowed: readonly string[] | undefined;
  #poll: LongPoll | undefined;
  #listeners = new Set<() => void>();

  constructor(options: UpdateQueueOptions = {}) {
    this.#nextId = options.firstUpdateId ?? 1;
  }

  /** The effective allowed update types. */
  get allowedUpdates(): readonly string[] {
    return this.#allowed ?? DEFAULT_ALLOWED_UPDATES;
  }

  /** Whether `allowed_updates` was set explicitly (getWebhookInfo reports it only then). */
  get allowedUpdatesExplicit(): readonly string[] | undefined {
    return this.#allowed;
  }

  /** Persists `allowed_updates`: undefined keeps the setting, an empty list resets to the default. */
  setAllowedUpdates(types: readonly string[] | undefined): void {
    if (types === undefined) return;
    this.#allowed = types.length === 0 ? undefined : [...types];
  }

  isAllowed(type: string): boolean {
    return this.allowedUpdates.includes(type);
  }

  /** Creates an update of `type` if that type is allowed; returns it, or undefined when filtered out. */
  push(type: string, payload: Record<string, unknown>): RawUpdate | undefined {
    if (!this.isAllowed(type)) return undefined;
    const update: RawUpdate = { update_id: this.#nextId++, [type]: payload };
    this.#pending.push(update);
    if (this.#poll) {
      const poll = this.#poll;
      this.#poll = undefined;
      clearTimeout(poll.timer);
      poll.resolve(this.#pending.slice(0, poll.limit));
    }
    for (const listener of this.#listeners) listener();
    return update;
  }

  /** Updates not yet confirmed, oldest first. */
  pending(): RawUpdate[] {
    return [...this.#pending];
  }

  /** Forgets every update with an id below `offset`; a negative offset keeps only the last -offset. */
  confirm(offset: number): void {
    if (offset < 0) this.#pending = this.#pending.slice(offset);
    else this.#pending = this.#pending.filter((u) => u.update_id >= offset);
  }

  /** Removes one delivered update (webhook mode). */
  remove(updateId: number): void {
    this.#pending = this.#pending.filter((u) => u.update_id !== updateId);
  }

  drop(): void {
    this.#pending = [];
  }

  /** Called whenever an update is added (the webhook sender listens). */
  onPush(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * getUpdates: confirms below `offset`, then answers at once if updates are waiting, else holds up
   * to `timeoutSeconds` for the next one. A newer call ends a held one with Telegram's 409
   * `Conflict: terminated by other getUpdates request; …`; `signal` abort (client gone) releases it.
   */
  get(
    options: { offset?: number; limit: number; timeoutSeconds: number },
    signal?: AbortSignal,
  ): Promise<RawUpdate[]> {
    this.terminatePoll(
      conflict('terminated by other getUpdates request; make sure that only one bot instance is running'),
    );
    if (options.offset !== undefined && options.offset !== 0) this.confirm(options.offset);
    if (this.#pending.length > 0 || options.timeoutSeconds <= 0) {
      return Promise.resolve(this.#pending.slice(0, options.limit));
    }
    return new Promise<RawUpdate[]>((resolve, reject) => {
      const poll: LongPoll = {
        limit: options.limit,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.#poll === poll) this.#poll = undefined;
          resolve([]);
        }, options.timeoutSeconds * 1000),
      };
      this.#poll = poll;
      signal?.addEventListener(
        'abort',
        () => {
          if (this.#poll !== poll) return;
          this.#poll = undefined;
          clearTimeout(poll.timer);
          resolve([]);
        },
        { once: true },
      );
    });
  }

  /** Ends a held getUpdates with `error`, or with an empty result when no error is given. */
  terminatePoll(error?: TelegramApiError): void {
    const poll = this.#poll;
    if (!poll) return;
    this.#poll = undefined;
    clearTimeout(poll.timer);
    if (error) poll.reject(error);
    else poll.resolve([]);
  }
}
