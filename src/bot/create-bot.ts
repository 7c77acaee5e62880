import { autoRetry } from '@grammyjs/auto-retry';
import { conversations, createConversation } from '@grammyjs/conversations';
import { Bot, GrammyError, HttpError, type Composer, type Context } from 'grammy';
import { browse, fallbacks } from './browse.js';
import { CHECKOUT, CHECKOUT_TIMEOUT_MS, CHECKOUT_VERSION, checkoutConversation, checkoutFeature, PROMO, promoConversation } from './checkout-conversation.js';
import type { BotContext, BotDeps, InnerContext } from './context.js';
import { sqliteConversationStorage } from './conversation-storage.js';
import { flavor } from './flavor.js';
import type { InFlight } from './in-flight.js';
import { escapeHtml } from './html.js';
import { DatabaseBusy, toStoreError } from '../storage/errors.js';
import { pacedFetch, type SendJournal } from '../telegram/paced-api.js';
import { isSendCancelled, SendPace } from '../telegram/send-pace.js';

export interface CreateBotOptions {
  token: string;
  /** Bot API server (default: Telegram's). No trailing slash. */
  apiRoot?: string;
  deps: BotDeps;
  /** Tracks updates in flight, for a graceful stop. */
  inFlight?: InFlight;
  /** Feature composers installed before browsing (admin buttons, join requests, …). */
  features?: Array<Composer<BotContext>>;
  /** The one send pace of the bot; replies wait their turn in it (default: a pace of its own). */
  pace?: SendPace;
  /** What each update's handling sent, so handling it again after a crash sends nothing twice. */
  journal?: SendJournal;
  /** Button presses already answered with "one moment" on arrival. */
  preAnswered?: Set<string>;
}

/** Replies retry Telegram's 429 and 5xx a few times, never forever (a customer is waiting). */
const interactiveRetry = () => autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 10 });

/**
 * Builds the customer-facing bot. Features are installed in the order updates should meet them:
 * shared context → conversations (a checkout in progress sees its answers first) → payment
 * buttons → browsing → fallbacks that answer anything left.
 */
export function createBot(options: CreateBotOptions): Bot<BotContext> {
  const { deps } = options;
  // Every message waits its turn at the one send pace (which also waits out 429s), inside the
  // client's fetch so that conversations, which build their own clients from these options, keep
  // it too. The wait for a turn is part of a call: each request itself has its own 30 s limit.
  const fetch = pacedFetch(options.pace ?? new SendPace(), { journal: options.journal, preAnswered: options.preAnswered });
  const bot = new Bot<BotContext>(options.token, { client: { apiRoot: options.apiRoot, timeoutSeconds: 1800, fetch } });
  bot.api.config.use(interactiveRetry());

  if (options.inFlight) bot.use(options.inFlight.middleware());
  bot.use(flavor(deps));
  const raw = sqliteConversationStorage<unknown>(deps.db, deps.clock);
  // Conversations live in private chats only; an update without one has no checkout to resume.
  const keyOf = (ctx: Context) => (ctx.chat?.type === 'private' ? `conv:${ctx.chat.id}` : undefined);
  bot.use(
    conversations<BotContext, InnerContext>({
      storage: {
        type: 'context',
        version: CHECKOUT_VERSION,
        adapter: {
          read: (ctx) => {
            const key = keyOf(ctx);
            return key === undefined ? undefined : (raw.read(key) as never);
          },
          write: (ctx, state) => {
            const key = keyOf(ctx);
            if (key !== undefined) raw.write(key, state as never);
          },
          delete: (ctx) => {
            const key = keyOf(ctx);
            if (key !== undefined) raw.delete(key);
          },
        },
      },
      // Conversations build their own Api and context: give them the same retry and flavour.
      plugins: [
        async (ctx, next) => {
          ctx.api.config.use(interactiveRetry());
          await next();
        },
        flavor(deps),
      ],
    }),
  );
  bot.use(createConversation(checkoutConversation, { id: CHECKOUT, maxMillisecondsToWait: CHECKOUT_TIMEOUT_MS }));
  bot.use(createConversation(promoConversation, { id: PROMO, maxMillisecondsToWait: CHECKOUT_TIMEOUT_MS }));
  bot.use(checkoutFeature());
  for (const feature of options.features ?? []) bot.use(feature);
  bot.use(browse());
  bot.use(fallbacks());

  bot.catch(async (err) => {
    const e = err.error;
    // A locked database, or the bot stopping before a reply's turn: the update stays in the inbox
    // and is handled again (what it already sent is journaled, so nothing goes out twice).
    if (toStoreError(e) instanceof DatabaseBusy || isSendCancelled(e)) throw e;
    const detail =
      e instanceof GrammyError ? { method: e.method, code: e.error_code, description: e.description } : e instanceof HttpError ? { http: e.message } : { err: e };
    deps.log.error({ updateId: err.ctx.update.update_id, ...detail }, 'update failed');
    if (err.ctx.chat?.type === 'private') {
      await err.ctx.reply(escapeHtml(err.ctx.t?.('error_generic') ?? 'Something went wrong. Please try again.')).catch(() => undefined);
    }
    if (err.ctx.callbackQuery) await err.ctx.answerCallbackQuery().catch(() => undefined);
  });
  return bot;
}
