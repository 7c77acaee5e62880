import { describe, expect, it } from 'vitest';
import { TelegramApiError } from '../../src/sandbox/telegram/api-error.js';
import { formatText } from '../../src/sandbox/telegram/format-text.js';
import { readReplyMarkup } from '../../src/sandbox/telegram/reply-markup.js';
import { commandEntities } from '../../src/sandbox/telegram/scripted-user.js';

function html(text: string, strictHtmlAmpersand = true) {
  return formatText({ text, parseMode: 'HTML', entities: undefined, strictHtmlAmpersand });
}
function markdownV2(text: string) {
  return formatText({ text, parseMode: 'MarkdownV2', entities: undefined });
}
function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof TelegramApiError) return error.description;
    throw error;
  }
  throw new Error('expected a TelegramApiError');
}

describe('HTML parse mode', () => {
  it('produces UTF-16 entity offsets and decodes the supported entities', () => {
    expect(html('👍 <b>Жду</b> &quot;оплату&quot; &#8376; &#x41;')).toEqual({
      text: '👍 Жду "оплату" ₸ A',
      entities: [{ type: 'bold', offset: 3, length: 3 }],
    });
  });

  it('nests tags and merges <pre><code class="language-x"> into one pre entity', () => {
    expect(html('<b>a <i>b</i></b> <pre><code class="language-ts">x</code></pre>').entities).toEqual([
      { type: 'bold', offset: 0, length: 3 },
      { type: 'italic', offset: 2, length: 1 },
      { type: 'pre', offset: 4, length: 1, language: 'ts' },
    ]);
    expect(html('<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span> <blockquote expandable>q</blockquote>').entities)
      .toEqual([
        { type: 'spoiler', offset: 0, length: 1 },
        { type: 'spoiler', offset: 2, length: 1 },
        { type: 'expandable_blockquote', offset: 4, length: 1 },
      ]);
  });

  it('reports byte offsets in UTF-8, as Telegram does', () => {
    expect(failure(() => html('Привет <x>'))).toBe(
      `Bad Request: can't parse entities: Unsupported start tag "x" at byte offset 13`,
    );
    expect(failure(() => html('a</b>'))).toBe(`Bad Request: can't parse entities: Unexpected end tag at byte offset 1`);
    expect(failure(() => html('<a href="x>y'))).toMatch(/Unclosed start tag at byte offset 0/);
    expect(failure(() => html('<span>x</span>'))).toMatch(/Tag "span" must have class "tg-spoiler"/);
  });

  it('keeps a bare & only when strictness is off, like real Telegram', () => {
    expect(html('AT&T', false).text).toBe('AT&T');
    expect(failure(() => html('AT&T'))).toMatch(/Character '&' at byte offset 2 must be escaped as &amp;/);
  });

  it('trims surrounding whitespace and moves entities', () => {
    expect(html('\n  <b>x</b>  \n')).toEqual({ text: 'x', entities: [{ type: 'bold', offset: 0, length: 1 }] });
  });
});

describe('MarkdownV2 and Markdown parse modes', () => {
  it('parses entities, escapes and links', () => {
    expect(markdownV2('*bold _it_* __u__ ~s~ ||sp|| `c` [l](https://t.me/x\\)y) 1\\.5')).toEqual({
      text: 'bold it u s sp c l 1.5',
      entities: [
        { type: 'bold', offset: 0, length: 7 },
        { type: 'italic', offset: 5, length: 2 },
        { type: 'underline', offset: 8, length: 1 },
        { type: 'strikethrough', offset: 10, length: 1 },
        { type: 'spoiler', offset: 12, length: 2 },
        { type: 'code', offset: 15, length: 1 },
        { type: 'text_link', offset: 17, length: 1, url: 'https://t.me/x)y' },
      ],
    });
    expect(markdownV2('>quoted\n>lines\nafter').entities).toEqual([{ type: 'blockquote', offset: 0, length: 12 }]);
  });

  it('names the unclosed entity like Telegram', () => {
    expect(failure(() => markdownV2('ok *bold'))).toBe(
      `Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 3`,
    );
    expect(failure(() => markdownV2('a-b'))).toBe(
      `Bad Request: can't parse entities: Character '-' is reserved and must be escaped with the preceding '\\'`,
    );
  });

  it('parses legacy Markdown without nesting', () => {
    expect(formatText({ text: '*b* _i_ [t](https://x.y)', parseMode: 'Markdown', entities: undefined })).toEqual({
      text: 'b i t',
      entities: [
        { type: 'bold', offset: 0, length: 1 },
        { type: 'italic', offset: 2, length: 1 },
        { type: 'text_link', offset: 4, length: 1, url: 'https://x.y' },
      ],
    });
    expect(failure(() => formatText({ text: 'snake_case', parseMode: 'Markdown', entities: undefined }))).toBe(
      `Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 5`,
    );
  });

  it('rejects an unknown parse mode', () => {
    expect(failure(() => formatText({ text: 'x', parseMode: 'markdown3', entities: undefined }))).toBe(
      'Bad Request: unsupported parse_mode',
    );
  });
});

describe('reply markup and commands', () => {
  it('counts callback_data in bytes and refuses buttons without an action', () => {
    const button = (callback_data: string) => ({ inline_keyboard: [[{ text: 'x', callback_data }]] });
    expect(readReplyMarkup(button('ж'.repeat(32)))).toBeDefined(); // 64 bytes
    expect(failure(() => readReplyMarkup(button('ж'.repeat(33))))).toBe('Bad Request: BUTTON_DATA_INVALID');
    expect(failure(() => readReplyMarkup({ inline_keyboard: [[{ text: 'x' }]] }))).toBe(
      "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    );
    expect(readReplyMarkup(JSON.stringify({ keyboard: [[{ text: 'Share', request_contact: true }]] }))).toEqual({
      keyboard: [[{ text: 'Share', request_contact: true }]],
    });
  });

  it('marks bot commands where Telegram does', () => {
    expect(commandEntities('/start plan_monthly')).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);
    expect(commandEntities('see /help@members_bot now')).toEqual([{ type: 'bot_command', offset: 4, length: 17 }]);
    expect(commandEntities('a/b')).toEqual([]);
  });
});
