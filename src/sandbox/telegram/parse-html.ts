import { badRequest, type TelegramApiError } from './api-error.js';
import {
  byteOffset,
  type FormattedText,
  PARSE_ERROR_PREFIX,
  sortEntities,
  type TextEntity,
} from './text-entities.js';

/** Options for {@link parseHtml}. */
export interface ParseHtmlOptions {
  /**
   * Reject a `&` that does not start one of the four named entities or a numeric reference, as the
   * Bot API documentation demands ("All <, > and & symbols that are not a part of a tag or an HTML
   * entity must be replaced"). Real Telegram is lenient here and shows such a `&` literally; the
   * emulator is strict by default so that a missing escape fails in tests instead of in production
   * when a customer's name contains `<`. (default: true)
   */
  strictAmpersand?: boolean;
}

const SUPPORTED_TAGS = new Set([
  'a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins', 'tg-spoiler', 'tg-emoji', 'span',
  'pre', 'code', 'blockquote',
]);

interface OpenTag {
  tag: string;
  argument: string;
  expandable: boolean;
  /** Start in the output text (UTF-16). */
  start: number;
}

/**
 * Parses Telegram's HTML subset into plain text and entities, following TDLib's `parse_html`
 * (same tags, attribute rules, entity decoding and error wording). Throws a 400
 * `Bad Request: can't parse entities: …` on the first problem.
 */
export function parseHtml(src: string, options: ParseHtmlOptions = {}): FormattedText {
  const strictAmpersand = options.strictAmpersand ?? true;
  const fail = (detail: string): TelegramApiError => badRequest(PARSE_ERROR_PREFIX + detail);
  const at = (i: number): number => byteOffset(src, i);
  const isSpace = (ch: string | undefined): boolean =>
    ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v';
  const len = src.length;

  let out = '';
  const entities: TextEntity[] = [];
  const open: OpenTag[] = [];
  let i = 0;

  while (i < len) {
    const c = src[i]!;
    if (c === '&') {
      const decoded = decodeHtmlEntity(src, i);
      if (decoded) {
        out += decoded.char;
        i = decoded.end;
        continue;
      }
      if (strictAmpersand) {
        throw fail(
          `Character '&' at byte offset ${at(i)} must be escaped as &amp; ` +
            '(the emulator follows the Bot API docs here; Telegram itself would show it literally)',
        );
      }
      out += c;
      i++;
      continue;
    }
    if (c !== '<') {
      out += c;
      i++;
      continue;
    }

    const begin = i;
    i++;
    if (src[i] !== '/') {
      const nameStart = i;
      while (i < len && !isSpace(src[i]) && src[i] !== '>') i++;
      if (i >= len) throw fail(`Unclosed start tag at byte offset ${at(begin)}`);
      const tag = src.slice(nameStart, i).toLowerCase();
      if (!SUPPORTED_TAGS.has(tag)) {
        throw fail(`Unsupported start tag "${tag}" at byte offset ${at(begin)}`);
      }
      let argument = '';
      let expandable = false;
      while (src[i] !== '>') {
        while (i < len && isSpace(src[i])) i++;
        if (i >= len) throw fail(`Unclosed start tag at byte offset ${at(begin)}`);
        if (src[i] === '>') break;
        const attrStart = i;
        while (i < len && !isSpace(src[i]) && src[i] !== '=' && src[i] !== '>') i++;
        const attrName = src.slice(attrStart, i).toLowerCase();
        if (attrName === '') {
          throw fail(`Empty attribute name in the tag "${tag}" at byte offset ${at(begin)}`);
        }
        while (i < len && isSpace(src[i])) i++;
        if (src[i] !== '=') {
          if (tag === 'blockquote' && attrName === 'expandable') {
            expandable = true;
            continue;
          }
          if (i >= len) throw fail(`Unclosed start tag at byte offset ${at(begin)}`);
          throw fail(
            `Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${at(begin)}`,
          );
        }
        i++;
        while (i < len && isSpace(src[i])) i++;
        if (i >= len) throw fail(`Unclosed start tag "${tag}" at byte offset ${at(begin)}`);
        let value = '';
        const quote = src[i];
        if (quote !== '"' && quote !== "'") {
          const tokenStart = i;
          while (i < len && /[A-Za-z0-9.-]/.test(src[i]!)) i++;
          value = src.slice(tokenStart, i).toLowerCase();
          if (i >= len || (!isSpace(src[i]) && src[i] !== '>')) {
            throw fail(`Unexpected end of name token at byte offset ${at(tokenStart)}`);
          }
        } else {
          i++;
          while (i < len && src[i] !== quote) {
            if (src[i] === '&') {
              const decoded = decodeHtmlEntity(src, i);
              if (decoded) {
                value += decoded.char;
                i = decoded.end;
                continue;
              }
            }
            value += src[i];
            i++;
          }
          if (src[i] === quote) i++;
        }
        if (i >= len) throw fail(`Unclosed start tag at byte offset ${at(begin)}`);
        if (tag === 'a' && attrName === 'href') argument = value;
        else if (tag === 'code' && attrName === 'class' && value.startsWith('language-')) {
          argument = value.slice('language-'.length);
        } else if (tag === 'span' && attrName === 'class' && value.startsWith('tg-')) {
          argument = value.slice('tg-'.length);
        } else if (tag === 'tg-emoji' && attrName === 'emoji-id') argument = value;
      }
      if (tag === 'span' && argument !== 'spoiler') {
        throw fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at(begin)}`);
      }
      open.push({ tag, argument, expandable, start: out.length });
      i++; // '>'
      continue;
    }

    // An end tag.
    if (open.length === 0) throw fail(`Unexpected end tag at byte offset ${at(begin)}`);
    i++; // '/'
    const nameStart = i;
    while (i < len && !isSpace(src[i]) && src[i] !== '>') i++;
    const endName = src.slice(nameStart, i).toLowerCase();
    while (i < len && isSpace(src[i])) i++;
    if (src[i] !== '>') throw fail(`Unclosed end tag at byte offset ${at(begin)}`);
    const top = open.pop()!;
    if (endName !== '' && endName !== top.tag) {
      throw fail(
        `Unmatched end tag at byte offset ${at(begin)}, expected "</${top.tag}>", found "</${endName}>"`,
      );
    }
    i++; // '>'
    const length = out.length - top.start;
    if (length > 0) addEntity(entities, top, length, out);
  }
  if (open.length > 0) {
    throw fail(`Can't find end tag corresponding to start tag "${open[open.length - 1]!.tag}"`);
  }
  return { text: out, entities: mergePreCode(sortEntities(entities)) };
}

function addEntity(entities: TextEntity[], tag: OpenTag, length: number, out: string): void {
  const base = { offset: tag.start, length };
  switch (tag.tag) {
    case 'b':
    case 'strong':
      entities.push({ type: 'bold', ...base });
      return;
    case 'i':
    case 'em':
      entities.push({ type: 'italic', ...base });
      return;
    case 's':
    case 'strike':
    case 'del':
      entities.push({ type: 'strikethrough', ...base });
      return;
    case 'u':
    case 'ins':
      entities.push({ type: 'underline', ...base });
      return;
    case 'tg-spoiler':
    case 'span':
      entities.push({ type: 'spoiler', ...base });
      return;
    case 'tg-emoji':
      entities.push({ type: 'custom_emoji', ...base, custom_emoji_id: tag.argument });
      return;
    case 'a': {
      const url = tag.argument || out.slice(tag.start, tag.start + length);
      entities.push({ type: 'text_link', ...base, url });
      return;
    }
    case 'pre':
      entities.push({ type: 'pre', ...base });
      return;
    case 'code':
      entities.push(
        tag.argument ? { type: 'code', ...base, language: tag.argument } : { type: 'code', ...base },
      );
      return;
    case 'blockquote':
      entities.push({ type: tag.expandable ? 'expandable_blockquote' : 'blockquote', ...base });
      return;
    default:
      return;
  }
}

/** `<pre><code class="language-x">` becomes one `pre` entity with a language, as in TDLib. */
function mergePreCode(entities: TextEntity[]): TextEntity[] {
  const result: TextEntity[] = [];
  for (let k = 0; k < entities.length; k++) {
    const e = entities[k]!;
    const next = entities[k + 1];
    const sameRange = next !== undefined && next.offset === e.offset && next.length === e.length;
    if (sameRange && ((e.type === 'pre' && next.type === 'code') || (e.type === 'code' && next.type === 'pre'))) {
      const pre = e.type === 'pre' ? e : next;
      const code = e.type === 'code' ? e : next;
      result.push(code.language ? { ...pre, language: code.language } : pre);
      k++;
      continue;
    }
    if (e.type === 'code' && e.language) {
      const { language: _language, ...plain } = e;
      result.push(plain);
      continue;
    }
    result.push(e);
  }
  return result;
}

/**
 * Decodes `&lt;` `&gt;` `&amp;` `&quot;` and numeric references at `pos` (the `;` is optional, as
 * in TDLib). Returns undefined when `&` does not start one.
 */
export function decodeHtmlEntity(text: string, pos: number): { char: string; end: number } | undefined {
  let end = pos + 1;
  let code = 0;
  if (text[end] === '#') {
    end++;
    const hex = text[end] === 'x' || text[end] === 'X';
    if (hex) end++;
    const digitsStart = end;
    const digit = hex ? /[0-9a-fA-F]/ : /[0-9]/;
    while (end < text.length && digit.test(text[end]!)) {
      end++;
      if (end - pos >= 10) return undefined;
    }
    if (end === digitsStart) return undefined;
    code = parseInt(text.slice(digitsStart, end), hex ? 16 : 10);
    if (code === 0 || code >= 0x10ffff) return undefined;
  } else {
    while (end < text.length && /[A-Za-z]/.test(text[end]!)) end++;
    const name = text.slice(pos + 1, end);
    const named: Record<string, number> = { lt: 60, gt: 62, amp: 38, quot: 34 };
    const value = named[name];
    if (value === undefined) return undefined;
    code = value;
  }
  if (text[end] === ';') end++;
  return { char: String.fromCodePoint(code), end };
}
