import { badRequest, type TelegramApiError } from './api-error.js';
import {
  byteOffset,
  type FormattedText,
  PARSE_ERROR_PREFIX,
  sortEntities,
  type TextEntity,
} from './text-entities.js';

type V2Type =
  | 'Bold'
  | 'Italic'
  | 'Underline'
  | 'Strikethrough'
  | 'Spoiler'
  | 'Code'
  | 'Pre'
  | 'PreCode'
  | 'TextUrl'
  | 'CustomEmoji';

interface OpenEntity {
  type: V2Type;
  argument: string;
  /** Start in the output text (UTF-16). */
  start: number;
  /** Where the opening mark is in the source (for error messages). */
  sourceIndex: number;
}

const RESERVED = '_*[]()~`>#+-=|{}.!';

/**
 * Parses MarkdownV2 following TDLib's `parse_markdown_v2`: every reserved character
 * `_*[]()~\`>#+-=|{}.!` outside an entity mark must be escaped with `\`. Block quotes (`>` at the
 * start of a line) are supported; expandable block quotes are not. Throws a 400
 * `Bad Request: can't parse entities: …` with Telegram's wording.
 */
export function parseMarkdownV2(src: string): FormattedText {
  const fail = (detail: string): TelegramApiError => badRequest(PARSE_ERROR_PREFIX + detail);
  const reservedError = (i: number): TelegramApiError =>
    fail(`Character '${src[i]}' is reserved and must be escaped with the preceding '\\'`);
  const len = src.length;
  let out = '';
  const entities: TextEntity[] = [];
  const open: OpenEntity[] = [];
  let quoteStart: number | undefined;

  for (let i = 0; i < len; i++) {
    const c = src[i]!;
    const inCode = open.length > 0 && ['Code', 'Pre', 'PreCode'].includes(open[open.length - 1]!.type);
    const lineStart = i === 0 || src[i - 1] === '\n';

    if (c === '\\' && i + 1 < len && src.charCodeAt(i + 1) > 0 && src.charCodeAt(i + 1) <= 126) {
      i++;
      out += src[i];
      continue;
    }
    if (c === '\n' && quoteStart !== undefined && src[i + 1] !== '>') {
      closeQuote();
    }
    if (!inCode && lineStart && c === '>') {
      if (quoteStart === undefined) quoteStart = out.length;
      continue;
    }
    const reserved = inCode ? '`' : RESERVED;
    if (!reserved.includes(c)) {
      out += c;
      continue;
    }

    const top = open[open.length - 1];
    let isEnd = false;
    if (top) {
      switch (top.type) {
        case 'Bold':
          isEnd = c === '*';
          break;
        case 'Italic':
          isEnd = c === '_' && src[i + 1] !== '_';
          break;
        case 'Code':
          isEnd = c === '`';
          break;
        case 'Pre':
        case 'PreCode':
          isEnd = c === '`' && src[i + 1] === '`' && src[i + 2] === '`';
          break;
        case 'TextUrl':
        case 'CustomEmoji':
          isEnd = c === ']';
          break;
        case 'Underline':
          isEnd = c === '_' && src[i + 1] === '_';
          break;
        case 'Strikethrough':
          isEnd = c === '~';
          break;
        case 'Spoiler':
          isEnd = c === '|' && src[i + 1] === '|';
          break;
      }
    }

    if (!isEnd) {
      const sourceIndex = i;
      let type: V2Type;
      let argument = '';
      switch (c) {
        case '_':
          if (src[i + 1] === '_') {
            type = 'Underline';
            i++;
          } else {
            type = 'Italic';
          }
          break;
        case '*':
          type = 'Bold';
          break;
        case '~':
          type = 'Strikethrough';
          break;
        case '|':
          if (src[i + 1] !== '|') throw reservedError(i);
          i++;
          type = 'Spoiler';
          break;
        case '[':
          type = 'TextUrl';
          break;
        case '`':
          if (src[i + 1] === '`' && src[i + 2] === '`') {
            i += 3;
            type = 'Pre';
            let languageEnd = i;
            while (languageEnd < len && !/\s/.test(src[languageEnd]!) && src[languageEnd] !== '`') {
              languageEnd++;
            }
            if (i !== languageEnd && languageEnd < len && src[languageEnd] !== '`') {
              type = 'PreCode';
              argument = src.slice(i, languageEnd);
              i = languageEnd;
            }
            if (src[i] === '\n' || src[i] === '\r') {
              if ((src[i + 1] === '\n' || src[i + 1] === '\r') && src[i] !== src[i + 1]) i += 2;
              else i++;
            }
            i--;
          } else {
            type = 'Code';
          }
          break;
        case '!':
          if (src[i + 1] === '[') {
            i++;
            type = 'CustomEmoji';
            break;
          }
          throw reservedError(i);
        default:
          throw reservedError(i);
      }
      open.push({ type, argument, start: out.length, sourceIndex });
      continue;
    }

    // The end of the innermost entity.
    const entity = open.pop()!;
    let url = '';
    switch (entity.type) {
      case 'Underline':
      case 'Spoiler':
        i++;
        break;
      case 'Pre':
      case 'PreCode':
        i += 2;
        break;
      case 'TextUrl':
      case 'CustomEmoji':
        if (src[i + 1] !== '(') {
          url = out.slice(entity.start);
        } else {
          i += 2;
          const urlStart = i;
          while (i < len && src[i] !== ')') {
            if (src[i] === '\\' && i + 1 < len && src.charCodeAt(i + 1) > 0 && src.charCodeAt(i + 1) <= 126) {
              url += src[i + 1];
              i += 2;
              continue;
            }
            url += src[i];
            i++;
          }
          if (src[i] !== ')') throw fail(`Can't find end of a URL at byte offset ${byteOffset(src, urlStart)}`);
        }
        break;
      default:
        break;
    }
    const length = out.length - entity.start;
    if (length > 0) {
      const base = { offset: entity.start, length };
      switch (entity.type) {
        case 'Bold':
          entities.push({ type: 'bold', ...base });
          break;
        case 'Italic':
          entities.push({ type: 'italic', ...base });
          break;
        case 'Underline':
          entities.push({ type: 'underline', ...base });
          break;
        case 'Strikethrough':
          entities.push({ type: 'strikethrough', ...base });
          break;
        case 'Spoiler':
          entities.push({ type: 'spoiler', ...base });
          break;
        case 'Code':
          entities.push({ type: 'code', ...base });
          break;
        case 'Pre':
          entities.push({ type: 'pre', ...base });
          break;
        case 'PreCode':
          entities.push({ type: 'pre', ...base, language: entity.argument });
          break;
        case 'TextUrl':
          entities.push({ type: 'text_link', ...base, url });
          break;
        case 'CustomEmoji': {
          const id = /[?&]id=(\d+)/.exec(url)?.[1];
          if (!id) throw fail(`Custom emoji URL must have an emoji identifier`);
          entities.push({ type: 'custom_emoji', ...base, custom_emoji_id: id });
          break;
        }
      }
    }
  }
  if (open.length > 0) {
    const last = open[open.length - 1]!;
    throw fail(`Can't find end of ${last.type} entity at byte offset ${byteOffset(src, last.sourceIndex)}`);
  }
  if (quoteStart !== undefined) closeQuote();
  return { text: out, entities: sortEntities(entities) };

  function closeQuote(): void {
    const start = quoteStart!;
    quoteStart = undefined;
    if (out.length > start) entities.push({ type: 'blockquote', offset: start, length: out.length - start });
  }
}

/**
 * Parses the legacy `Markdown` mode following TDLib's `parse_markdown`: `*bold*`, `_italic_`,
 * `` `code` ``, ```` ```pre``` ```` and `[text](url)`, no nesting; only `_*`[` can be escaped.
 * Throws `Bad Request: can't parse entities: Can't find end of the entity starting at byte offset N`.
 */
export function parseMarkdownLegacy(src: string): FormattedText {
  const len = src.length;
  let out = '';
  const entities: TextEntity[] = [];
  for (let i = 0; i < len; i++) {
    const c = src[i]!;
    if (c === '\\' && ['_', '*', '`', '['].includes(src[i + 1] ?? '')) {
      i++;
      out += src[i];
      continue;
    }
    if (c !== '_' && c !== '*' && c !== '`' && c !== '[') {
      out += c;
      continue;
    }
    const begin = i;
    const endChar = c === '[' ? ']' : c;
    let isPre = false;
    let language = '';
    i++;
    if (c === '`' && src[i] === '`' && src[i + 1] === '`') {
      i += 2;
      isPre = true;
      let languageEnd = i;
      while (languageEnd < len && !/\s/.test(src[languageEnd]!) && src[languageEnd] !== '`') languageEnd++;
      if (i !== languageEnd && languageEnd < len && src[languageEnd] !== '`') {
        language = src.slice(i, languageEnd);
        i = languageEnd;
      }
      if (src[i] === '\n' || src[i] === '\r') {
        if ((src[i + 1] === '\n' || src[i + 1] === '\r') && src[i] !== src[i + 1]) i += 2;
        else i++;
      }
    }
    const start = out.length;
    while (i < len && (src[i] !== endChar || (isPre && !(src[i + 1] === '`' && src[i + 2] === '`')))) {
      out += src[i];
      i++;
    }
    if (i >= len) {
      throw badRequest(
        `${PARSE_ERROR_PREFIX}Can't find end of the entity starting at byte offset ${byteOffset(src, begin)}`,
      );
    }
    const length = out.length - start;
    if (c === '[') {
      let url = '';
      if (src[i + 1] === '(') {
        i += 2;
        while (i < len && src[i] !== ')') {
          url += src[i];
          i++;
        }
      } else {
        url = out.slice(start);
      }
      if (length > 0) entities.push({ type: 'text_link', offset: start, length, url });
    } else if (length > 0) {
      if (c === '_') entities.push({ type: 'italic', offset: start, length });
      else if (c === '*') entities.push({ type: 'bold', offset: start, length });
      else if (isPre) {
        entities.push(language ? { type: 'pre', offset: start, length, language } : { type: 'pre', offset: start, length });
      } else entities.push({ type: 'code', offset: start, length });
    }
    if (isPre) i += 2;
  }
  return { text: out, entities: sortEntities(entities) };
}
