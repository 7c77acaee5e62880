import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SendClass, SendPace } from './send-pace.js';

/** What is being done while a Bot API call is made: which class it is, and for which update. */
export interface SendScope {
  cls: SendClass;
  /** The update being handled, whose sends are journaled (so a replay after a crash sends nothing twice). */
  updateId?: number;
  /** The number of the next paced call within this update's handling. */
  seq: number;
}

/** The scope of the code running now; set by the inbox dispatcher and the outbox worker. */
export const sendScope = new AsyncLocalStorage<SendScope>();

/**
 * What handling an update has already sent, by the order of the call: after `kill -9` an update
 * is handled again, and a call that already went out returns its stored result instead of
 * going out twice.
 */
export interface SendJournal {
  get(updateId: number, seq: number): { method: string; result: unknown } | undefined;
  put(updateId: number, seq: number, method: string, result: unknown): void;
}

/** Bot API methods that send or change a message: they count against Telegram's limits and wait their turn. */
export const PACED_METHODS: ReadonlySet<string> = new Set([
  'sendMessage',
  'sendDocument',
  'sendPhoto',
  'sendVideo',
  'sendAudio',
  'sendVoice',
  'sendAnimation',
  'sendSticker',
  'sendContact',
  'sendLocation',
  'sendPoll',
  'sendMediaGroup',
  'sendInvoice',
  'copyMessage',
  'forwardMessage',
  'editMessageText',
  'editMessageCaption',
  'editMessageReplyMarkup',
  'editMessageMedia',
]);

export interface PacedFetchOptions {
  /** Class of calls made outside any scope (default: 'reply'). */
  defaultClass?: SendClass;
  journal?: SendJournal;
  /**
   * Callback queries already answered with "one moment" when they arrived in a crowd: the
   * handler's own answer is then skipped (Telegram accepts one answer per query).
   */
  preAnswered?: Set<string>;
  /** How long one request to Telegram may take once it is its turn (default: 30 000 ms; getUpdates gets 15 s more). */
  requestTimeoutMs?: number;
}

type Fetch = (url: string, init?: Record<string, unknown>) => Promise<FetchResponse>;
interface FetchResponse {
  status: number;
  ok: boolean;
  headers: unknown;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** grammY's own fetch (node-fetch 2, which takes grammY's AbortSignal and a `timeout`), so requests go out exactly as grammY makes them. */
const grammyFetch = createRequire(createRequire(import.meta.url).resolve('grammy'))('node-fetch') as Fetch & { default?: Fetch };
const baseFetch: Fetch = grammyFetch.default ?? grammyFetch;
const { Response } = createRequire(createRequire(import.meta.url).resolve('grammy'))('node-fetch') as { Response: new (body: string, init?: { status?: number; headers?: unknown }) => FetchResponse };

const answer = (result: unknown): FetchResponse => new Response(JSON.stringify({ ok: true, result }), { status: 200, headers: { 'content-type': 'application/json' } });

/**
 * The `fetch` of the bot's Bot API clients (`client: { fetch }`): every message waits its turn at
 * {@link SendPace}'s pace before it goes out. Working at this level, and not as an API
 * transformer, means the conversations plugin's replayed calls (answered from its own log) never
 * take a turn. A 429 is not an error here: the call waits as Telegram said and goes again,
 * however often, so a customer's reply is never given up while Telegram only says "later". An
 * edit of a message that a newer edit of the same message replaced before it went out is
 * skipped: only the latest state is sent. Give the client a long `timeoutSeconds` (the wait for a
 * turn is part of the call); each request itself is limited by `requestTimeoutMs`.
 */
export function pacedFetch(pace: SendPace, o: PacedFetchOptions = {}): typeof fetch {
  const timeout = o.requestTimeoutMs ?? 30_000;
  const paced = async (url: string, init: Record<string, unknown> = {}): Promise<FetchResponse> => {
    const method = url.slice(url.lastIndexOf('/') + 1);
    const body = typeof init.body === 'string' ? init.body : undefined;
    const payload = body === undefined ? undefined : (JSON.parse(body) as Record<string, unknown>);
    if (method === 'answerCallbackQuery' && payload && o.preAnswered?.delete(String(payload.callback_query_id))) return answer(true);
    if (!PACED_METHODS.has(method)) return baseFetch(url, { ...init, timeout: method === 'getUpdates' ? timeout + 15_000 : timeout });
    const scope = sendScope.getStore();
    const cls = scope?.cls ?? o.defaultClass ?? 'reply';
    let seq: number | undefined;
    // The same call is the same method with the same payload: a replay that took another path (or
    // says something else) sends anew rather than take another message's result for its own.
    const identity = `${method} ${createHash('sha256').update(body ?? '').digest('base64url').slice(0, 22)}`;
    if (scope?.updateId !== undefined && o.journal) {
      seq = scope.seq++;
      const done = o.journal.get(scope.updateId, seq);
      if (done && done.method === identity) return answer(done.result);
    }
    const chatId = typeof payload?.chat_id === 'number' ? payload.chat_id : null;
    const key = method.startsWith('edit') && payload?.message_id !== undefined && chatId !== null ? `${chatId}:${String(payload.message_id)}` : undefined;
    for (;;) {
      if (!(await pace.acquire(chatId, cls, key))) return answer(true);
      let res: FetchResponse;
      try {
        res = await baseFetch(url, { ...init, timeout });
      } catch (error) {
        pace.answered(chatId);
        throw error;
      }
      // A file upload's body is a stream that cannot be sent twice: its 429 goes back to the caller.
      if (res.status === 429 && body !== undefined) {
        const data = (await res.json().catch(() => ({}))) as { parameters?: { retry_after?: number } };
        // The chat's next message is let go only once the pace knows whose limit this was.
        pace.tooManyRequests(chatId, data.parameters?.retry_after ?? 1);
        pace.answered(chatId);
        continue;
      }
      pace.answered(chatId);
      if (seq === undefined || !res.ok) return res;
      const text = await res.text();
      const data = JSON.parse(text) as { ok: boolean; result?: unknown };
      if (data.ok) o.journal!.put(scope!.updateId!, seq, identity, data.result);
      return new Response(text, { status: res.status, headers: res.headers });
    }
  };
  return paced as unknown as typeof fetch;
}
