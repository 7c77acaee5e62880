import type { CallbackAnswer } from './emulator-types.js';
import type { StarsState } from './stars-methods.js';
import type { RequestParams } from './request-params.js';
import type { UpdateQueue } from './update-queue.js';
import type { WebhookSender } from './webhook-sender.js';
import type { TelegramWorld } from './world.js';

/** A callback query the bot has received, for answerCallbackQuery's checks. */
export interface CallbackQueryRecord {
  userId: number;
  messageId: number;
  answered: boolean;
}

/** Bot settings that set/get methods keep. */
export interface BotSettings {
  /** By `JSON.stringify([scope, language_code])`. */
  commands: Map<string, Array<{ command: string; description: string }>>;
  /** By language code ('' = default). */
  descriptions: Map<string, string>;
  shortDescriptions: Map<string, string>;
  names: Map<string, string>;
  /** By chat id ('' = default for all private chats). */
  menuButtons: Map<string, Record<string, unknown>>;
}

/** Everything the method handlers share. */
export interface EmulatorCore {
  world: TelegramWorld;
  queue: UpdateQueue;
  webhook: WebhookSender;
  callbackQueries: Map<string, CallbackQueryRecord>;
  callbackAnswers: CallbackAnswer[];
  stats: { tooManyRequests: number; sent: number };
  settings: BotSettings;
  /** Invoices, pre-checkout queries and Star transactions (see stars-methods.ts). */
  stars: StarsState;
  /** See `TelegramEmulatorOptions.strictHtmlAmpersand`. */
  strictHtmlAmpersand: boolean;
}

/** Per-call context. */
export interface CallInfo {
  /** Aborted when the HTTP client goes away (ends a held getUpdates). */
  signal: AbortSignal;
}

/** A Bot API method: returns the `result`, or throws a `TelegramApiError`. */
export type MethodHandler = (params: RequestParams, core: EmulatorCore, call: CallInfo) => unknown;

/** A result that Telegram sends with a `description` (setWebhook: "Webhook was set"). */
export class DescribedResult {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}
