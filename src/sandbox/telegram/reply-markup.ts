import { badRequest } from './api-error.js';

/** An inline keyboard button as stored (only the fields Telegram keeps). */
export interface InlineButton {
  text: string;
  callback_data?: string;
  url?: string;
  [field: string]: unknown;
}

/** A validated `reply_markup`. */
export type ReplyMarkup =
  | { inline_keyboard: InlineButton[][] }
  | { keyboard: unknown[][]; [field: string]: unknown }
  | { remove_keyboard: true; [field: string]: unknown }
  | { force_reply: true; [field: string]: unknown };

const INLINE_ACTIONS = [
  'url',
  'callback_data',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
];

/** Telegram's limit on `callback_data`, in bytes. */
export const MAX_CALLBACK_DATA_BYTES = 64;

/**
 * Validates a `reply_markup` the way the Bot API does for the checks that matter in tests:
 * `callback_data` of 1–64 bytes (else `Bad Request: BUTTON_DATA_INVALID`), exactly one action per
 * inline button, a parseable URL for URL buttons (`Bad Request: BUTTON_URL_INVALID`). Returns
 * undefined for a missing markup. `inlineOnly` rejects reply keyboards (edit methods).
 */
export function readReplyMarkup(value: unknown, options: { inlineOnly?: boolean } = {}): ReplyMarkup | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let markup: unknown = value;
  if (typeof markup === 'string') {
    try {
      markup = JSON.parse(markup) as unknown;
    } catch {
      throw badRequest("can't parse reply keyboard markup JSON object");
    }
  }
  if (typeof markup !== 'object' || markup === null || Array.isArray(markup)) {
    throw badRequest("can't parse reply keyboard markup JSON object");
  }
  const m = markup as Record<string, unknown>;
  if ('inline_keyboard' in m) {
    const rows = m.inline_keyboard;
    if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" must be an Array');
    const keyboard: InlineButton[][] = [];
    for (const row of rows as unknown[]) {
      if (!Array.isArray(row)) throw badRequest('field "inline_keyboard" must be an Array of Arrays');
      keyboard.push((row as unknown[]).map(readInlineButton));
    }
    return { inline_keyboard: keyboard };
  }
  if (options.inlineOnly) throw badRequest('inline keyboard expected');
  if ('keyboard' in m) {
    if (!Array.isArray(m.keyboard)) throw badRequest('field "keyboard" must be an Array');
    return m as ReplyMarkup;
  }
  if (m.remove_keyboard === true) return m as ReplyMarkup;
  if (m.force_reply === true) return m as ReplyMarkup;
  throw badRequest("can't parse reply keyboard markup JSON object");
}

function readInlineButton(value: unknown): InlineButton {
  if (typeof value !== 'object' || value === null) {
    throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
  }
  const b = value as Record<string, unknown>;
  if (typeof b.text !== 'string') {
    throw badRequest(`can't parse inline keyboard button: Field "text" must be of type String`);
  }
  const actions = INLINE_ACTIONS.filter((a) => b[a] !== undefined && b[a] !== null);
  if (actions.length === 0) {
    throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
  }
  if (b.callback_data !== undefined) {
    const data = typeof b.callback_data === 'string' ? b.callback_data : String(b.callback_data);
    const bytes = Buffer.byteLength(data, 'utf8');
    if (bytes === 0 || bytes > MAX_CALLBACK_DATA_BYTES) throw badRequest('BUTTON_DATA_INVALID');
  }
  if (b.url !== undefined) {
    const url = String(b.url);
    if (!/^(https?|tg):/i.test(url) || !URL.canParse(url)) throw badRequest('BUTTON_URL_INVALID');
  }
  return { ...b, text: b.text } as InlineButton;
}

/** The inline keyboard of a markup, if it is one. */
export function inlineKeyboardOf(markup: ReplyMarkup | undefined): InlineButton[][] | undefined {
  if (!markup || !('inline_keyboard' in markup) || !Array.isArray(markup.inline_keyboard)) return undefined;
  return markup.inline_keyboard as InlineButton[][];
}
