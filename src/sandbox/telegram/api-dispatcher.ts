import type { Clock } from '../../clock.js';
import { TelegramApiError, tooManyRequests } from './api-error.js';
import { DescribedResult, type EmulatorCore, type MethodHandler } from './emulator-core.js';
import type { EmulatorCall } from './emulator-types.js';
import type { FaultBehavior, FaultInjector } from './fault-injector.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RequestParams } from './request-params.js';

/** What the HTTP layer should do with a call. */
export type DispatchOutcome =
  | { kind: 'response'; status: number; body: Record<string, unknown> }
  | { kind: 'hang' }
  | { kind: 'reset' };

/** Methods that count against Telegram's sending limits when rate limits are enforced. */
const RATE_LIMITED_METHODS = new Set([
  'sendmessage',
  'senddocument',
  'sendphoto',
  'sendvideo',
  'sendaudio',
  'sendvoice',
  'sendanimation',
  'sendsticker',
  'sendcontact',
  'sendlocation',
  'sendpoll',
  'sendmediagroup',
  'copymessage',
  'forwardmessage',
  'editmessagetext',
  'editmessagecaption',
  'editmessagereplymarkup',
  'editmessagemedia',
]);

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions {
  core: EmulatorCore;
  methods: Record<string, MethodHandler>;
  faults: FaultInjector;
  /** Absent when rate limits are not enforced. */
  rateLimiter?: RateLimiter;
  clock: Clock;
  /** Called with every finished call (and with status 0 for a hang or reset). */
  record(call: EmulatorCall): void;
}

/** Runs one Bot API call: faults, rate limits, the method, then records it. */
export type Dispatcher = (
  method: string,
  params: RequestParams,
  recordedParams: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<DispatchOutcome>;

/**
 * Builds the dispatcher. Method names are case-insensitive (as on Telegram) and recorded under
 * their canonical spelling. Order: injected fault (unless `afterEffect`), rate limit, method,
 * after-effect fault.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { core, faults, rateLimiter, clock } = options;
  const byLowerName = new Map<string, [string, MethodHandler]>();
  for (const [name, handler] of Object.entries(options.methods)) byLowerName.set(name.toLowerCase(), [name, handler]);

  return async (method, params, recordedParams, signal) => {
    const at = clock.now();
    const known = byLowerName.get(method.toLowerCase());
    const name = known?.[0] ?? method;
    const finish = (outcome: DispatchOutcome): DispatchOutcome => {
      const status = outcome.kind === 'response' ? outcome.status : 0;
      if (status === 429) core.stats.tooManyRequests += 1;
      const retryAfter = status === 429 && outcome.kind === 'response' ? (outcome.body.parameters as { retry_after?: number } | undefined)?.retry_after : undefined;
      options.record({ method: name, params: recordedParams, at, status, ...(retryAfter !== undefined ? { retryAfter } : {}) });
      return outcome;
    };

    const fault = faults.take(name, params.raw);
    if (fault && !fault.afterEffect) return finish(faultOutcome(fault.fault));

    if (!known) {
      return finish(errorOutcome(new TelegramApiError(404, 'Not Found: method not found')));
    }

    if (rateLimiter && RATE_LIMITED_METHODS.has(name.toLowerCase()) && params.has('chat_id')) {
      const chatKey = String(params.raw.chat_id);
      const numeric = Number(chatKey);
      const isGroup = chatKey.startsWith('@') || core.world.chats.has(numeric);
      const decision = rateLimiter.take(chatKey, isGroup);
      if (!decision.ok) return finish(errorOutcome(tooManyRequests(decision.retryAfter)));
    }

    let outcome: DispatchOutcome;
    try {
      const value = await known[1](params, core, { signal });
      outcome =
        value instanceof DescribedResult
          ? { kind: 'response', status: 200, body: { ok: true, result: value.result, description: value.description } }
          : { kind: 'response', status: 200, body: { ok: true, result: value } };
    } catch (error) {
      // An exception that is not a Bot API error is an emulator bug: show it to the client.
      outcome = errorOutcome(
        error instanceof TelegramApiError
          ? error
          : new TelegramApiError(500, `Internal Server Error: emulator failure in ${name}: ${String(error)}`),
      );
    }
    if (fault) return finish(faultOutcome(fault.fault));
    return finish(outcome);
  };
}

function errorOutcome(error: TelegramApiError): DispatchOutcome {
  return { kind: 'response', status: error.errorCode, body: error.toJSON() };
}

function faultOutcome(fault: FaultBehavior): DispatchOutcome {
  if ('hang' in fault) return { kind: 'hang' };
  if ('reset' in fault) return { kind: 'reset' };
  if (fault.status === 429) return errorOutcome(tooManyRequests(fault.retryAfter));
  if (fault.status === 500) {
    return errorOutcome(new TelegramApiError(500, fault.description ?? 'Internal Server Error'));
  }
  return errorOutcome(new TelegramApiError(fault.status, fault.description));
}
