import { badRequest } from './api-error.js';
import { parseHtml } from './parse-html.js';
import { parseMarkdownLegacy, parseMarkdownV2 } from './parse-markdown.js';
import { type FormattedText, type TextEntity, trimFormattedText } from './text-entities.js';

/** Telegram's limits, in UTF-16 code units after entity parsing. */
export const MAX_MESSAGE_TEXT_LENGTH = 4096;
export const MAX_CAPTION_LENGTH = 1024;

/** Input of {@link formatText}. */
export interface FormatTextInput {
  text: string | undefined;
  /** `HTML`, `MarkdownV2` or `Markdown` (case-insensitive); empty or missing means plain text. */
  parseMode: string | undefined;
  /** Explicit entities, used only without a parse mode (as Telegram does). */
  entities: unknown;
  /** See `ParseHtmlOptions.strictAmpersand` (default: true). */
  strictHtmlAmpersand?: boolean;
}

/**
 * Turns text plus `parse_mode`/`entities` into what Telegram stores: parsed, trimmed, entities in
 * UTF-16 offsets. Throws the Bot API's 400 errors for unknown parse modes and malformed markup;
 * emptiness and length are the caller's check (the wording differs between text and captions).
 */
export function formatText(input: FormatTextInput): FormattedText {
  const text = input.text ?? '';
  const mode = (input.parseMode ?? '').trim();
  let formatted: FormattedText;
  switch (mode.toLowerCase()) {
    case '':
      formatted = { text, entities: readEntities(input.entities, text.length) };
      break;
    case 'html':
      formatted = parseHtml(text, { strictAmpersand: input.strictHtmlAmpersand ?? true });
      break;
    case 'markdownv2':
      formatted = parseMarkdownV2(text);
      break;
    case 'markdown':
      formatted = parseMarkdownLegacy(text);
      break;
    default:
      throw badRequest('unsupported parse_mode');
  }
  return trimFormattedText(formatted);
}

function readEntities(value: unknown, textLength: number): TextEntity[] {
  if (value === undefined || value === null || value === '') return [];
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      throw badRequest("can't parse entities JSON object");
    }
  }
  if (!Array.isArray(parsed)) throw badRequest("can't parse entities JSON object");
  const entities: TextEntity[] = [];
  for (const e of parsed as unknown[]) {
    if (typeof e !== 'object' || e === null) throw badRequest("can't parse MessageEntity JSON object");
    const { type, offset, length } = e as Record<string, unknown>;
    if (typeof type !== 'string' || !Number.isInteger(offset) || !Number.isInteger(length)) {
      throw badRequest("can't parse MessageEntity JSON object");
    }
    const start = Math.max(0, offset as number);
    const end = Math.min(textLength, (offset as number) + (length as number));
    if (end > start) entities.push({ ...(e as TextEntity), offset: start, length: end - start });
  }
  return entities;
}
