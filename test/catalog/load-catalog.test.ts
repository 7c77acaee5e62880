import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalog, parseCatalog, type LoadResult } from '../../src/catalog/load-catalog.js';
import { formatProblem } from '../../src/catalog/problem.js';
import { placeholdersOf } from '../../src/catalog/texts.js';
import { projectRoot } from '../../src/project-root.js';

const FIXTURES = join(projectRoot, 'test', 'catalog', 'fixtures');
const EXAMPLE = join(projectRoot, 'catalog.example.yaml');
const VALIDATE_JS = join(projectRoot, 'dist', 'src', 'cli', 'validate.js');

const fixture = (name: string) => join(FIXTURES, `${name}.yaml`);

function lines(result: LoadResult): string[] {
  return result.ok ? [`(valid) ${result.summary}`] : result.problems.map(formatProblem);
}

interface Case {
  fixture: string;
  behaviour: string;
  /** formatProblem() of every problem, in order. */
  expected: string[];
}

/**
 * One fixture per kind of mistake: each is a small valid catalog with exactly one thing wrong.
 * The lines are what the creator reads, so they are asserted word for word.
 */
const CASES: Case[] = [
  {
    fixture: 'price-as-text',
    behaviour: 'a price written as text with spaces and currency asks for the plain number',
    expected: ['price-as-text.yaml:12:12  plans.monthly.price  "4 900 тг" must be a plain number — write 4900 (no spaces, quotes or currency)'],
  },
  {
    fixture: 'price-fraction',
    behaviour: 'a price with a fraction asks for a whole number',
    expected: ['price-fraction.yaml:12:12  plans.monthly.price  4900.5 must be a whole number — remove the fraction'],
  },
  {
    fixture: 'misspelled-key',
    behaviour: 'a misspelt field suggests the right one, without also calling the right one missing',
    expected: ['misspelled-key.yaml:12:5  plans.monthly.prise  unknown field `prise` — did you mean `price`?'],
  },
  {
    fixture: 'unknown-section',
    behaviour: 'a misspelt section suggests the right one, without also saying there is nothing to sell',
    expected: ['unknown-section.yaml:9:1  plan  unknown section `plan` — did you mean `plans`?'],
  },
  {
    fixture: 'missing-required-field',
    behaviour: 'a missing required field is named with an example, at its plan',
    expected: ['missing-required-field.yaml:11:5  plans.monthly.period  `period` is missing — add it, e.g. period: 1m'],
  },
  {
    fixture: 'tab-indent',
    behaviour: 'a tab used for indentation is reported once, on its line, without the parser’s echoes',
    expected: ['tab-indent.yaml:12:1  (file)  YAML syntax: a tab is used for indentation — YAML needs spaces; replace the tab with spaces'],
  },
  {
    fixture: 'unclosed-quote',
    behaviour: 'an unclosed quote is reported where the quote opens',
    expected: ['unclosed-quote.yaml:2:13  (file)  YAML syntax: this quote is not closed — add the closing " at the end of the text'],
  },
  {
    fixture: 'unclosed-bracket',
    behaviour: 'a [ never closed is reported on its own line, not where the parser gave up',
    expected: ["unclosed-bracket.yaml:14:15  (file)  YAML syntax: this [ is not closed — add the closing ] after the list's last entry"],
  },
  {
    fixture: 'hash-hides-closing-brace',
    behaviour: 'a # that turns the end of a { … } line into a comment is named, once, on that line',
    expected: [
      'hash-hides-closing-brace.yaml:11:12  (file)  YAML syntax: this { is not closed: the # on this line starts a comment, which hides the rest of the line — put the text with # in quotes "…"',
    ],
  },
  {
    fixture: 'list-continues-underindented',
    behaviour: 'a [ … ] list going on over a line indented too little asks to indent that line more',
    expected: [
      'list-continues-underindented.yaml:15:1  (file)  YAML syntax: this line continues the list opened by [ on line 14, but is not indented more than line 14 — indent this line more (at least 5 spaces)',
    ],
  },
  {
    fixture: 'indented-too-far',
    behaviour: 'a field indented too far is told to indent less, to line up with the field above',
    expected: ['indented-too-far.yaml:12:1  (file)  YAML syntax: this line is indented too far (6 spaces) — indent this line less to line up with `title` on line 11 (4 spaces)'],
  },
  {
    fixture: 'indented-too-little',
    behaviour: 'a field indented too little is told to indent more, to line up with the field above',
    expected: [
      'indented-too-little.yaml:12:1  (file)  YAML syntax: this line is indented too little (3 spaces) — indent this line more to line up with `title` on line 11 (4 spaces)',
    ],
  },
  {
    fixture: 'first-field-indented-too-far',
    behaviour: 'a plan whose first field alone is indented too far names that field, not the correct ones below it',
    expected: [
      'first-field-indented-too-far.yaml:11:1  (file)  YAML syntax: this line is indented too far (6 spaces) — indent this line less to line up with `price` on line 12 (4 spaces)',
    ],
  },
  {
    fixture: 'field-left-its-plan',
    behaviour: 'a field indented too little in the middle of a plan names that field, not the next one the parser stops at',
    expected: [
      'field-left-its-plan.yaml:12:1  (file)  YAML syntax: this line is indented too little (2 spaces) — indent this line more to line up with `period` on line 13 (4 spaces)',
    ],
  },
  {
    fixture: 'typographic-quotes-syntax',
    behaviour: 'typographic quotes that break a line are named as not YAML quotes',
    expected: [
      'typographic-quotes-syntax.yaml:11:12  (file)  YAML syntax: “ is a typographic quote, which YAML does not read as a quote, so it cannot read this line — put the text in straight quotes "…" instead',
    ],
  },
  {
    fixture: 'admin-phone-number',
    behaviour: 'an admin written as a phone number is refused: that admin would get nothing',
    expected: [
      'admin-phone-number.yaml:3:12  settings.admins[0]  77011234567 looks like a phone number, not a Telegram id — this admin would get nothing: ask them to press Start in the bot and send /whoami, and paste the number it answers',
    ],
  },
  {
    fixture: 'duplicate-key',
    behaviour: 'a key written twice is named at its second place',
    expected: ['duplicate-key.yaml:14:5  (file)  YAML syntax: `price` appears twice in the same place — remove or rename one of them'],
  },
  {
    fixture: 'unknown-channel-ref',
    behaviour: 'a plan naming a channel that does not exist suggests the closest channel',
    expected: ['unknown-channel-ref.yaml:14:16  plans.monthly.channels[0]  unknown channel "mian" — did you mean "main"?'],
  },
  {
    fixture: 'unknown-placeholder',
    behaviour: 'a misspelt placeholder in a text suggests the right one and lists those allowed',
    expected: [
      'unknown-placeholder.yaml:17:12  texts.welcome  unknown placeholder {nmae} — did you mean {name}? this text can use: {name}, {bot_name}',
    ],
  },
  {
    fixture: 'period-zero',
    behaviour: 'a period of zero is refused because it gives no access',
    expected: ['period-zero.yaml:13:13  plans.monthly.period  a period of 0m gives no access — write at least 1d or 1m'],
  },
  {
    fixture: 'period-unparseable',
    behaviour: 'a period in words shows the accepted forms',
    expected: [
      'period-unparseable.yaml:13:13  plans.monthly.period  "1 month" is not a period — write 30d (days), 2w (weeks), 1m or 12m (months) or 1y (a year)',
    ],
  },
  {
    fixture: 'admin-username',
    behaviour: 'an admin given as @username explains how to get the numeric id',
    expected: [
      'admin-username.yaml:3:12  settings.admins[0]  "@anna_admin" is not a numeric Telegram id — admins are listed by number, not @username: ask each admin to send /whoami to the bot and paste the number it answers',
    ],
  },
  {
    fixture: 'chat-id-positive',
    behaviour: 'a positive chat id is recognised as a person, not a channel',
    expected: [
      "chat-id-positive.yaml:6:14  channels.main.chat_id  123456789 is a person's id, not a channel's — channel ids are negative, like -1001234567890; add the bot to the channel as admin and it tells you the id",
    ],
  },
  {
    fixture: 'chat-id-missing-100-prefix',
    behaviour: 'a channel id without its -100 prefix gets the corrected id',
    expected: [
      'chat-id-missing-100-prefix.yaml:6:14  channels.main.chat_id  -1234567890 looks like a channel id without its -100 prefix — write -1001234567890',
    ],
  },
  {
    fixture: 'missing-deliver-file',
    behaviour: 'a product file that does not exist says where it was looked for',
    expected: [
      `missing-deliver-file.yaml:14:13  products.course.deliver.file  file "files/no-such-course.pdf" not found (looked at ${join(FIXTURES, 'files', 'no-such-course.pdf')}) — put the file there, or fix the path (relative to catalog.yaml)`,
    ],
  },
  {
    fixture: 'deliver-empty',
    behaviour: 'a product that delivers nothing lists what it can deliver',
    expected: ['deliver-empty.yaml:13:14  products.course.deliver  is empty — say what the customer receives: text, link, file or channels'],
  },
  {
    fixture: 'link-not-https',
    behaviour: 'a delivery link without https:// is refused',
    expected: ['link-not-https.yaml:14:13  products.course.deliver.link  "example.com/course" is not a web link — it must start with https://'],
  },
  {
    fixture: 'language-not-enabled',
    behaviour: 'a translation into a language that is not enabled points at that translation',
    expected: [
      'language-not-enabled.yaml:12:29  plans.monthly.title.kk  kk is not enabled — add kk to settings.languages, or remove this translation',
    ],
  },
  {
    fixture: 'default-language-not-enabled',
    behaviour: 'a default language missing from languages lists the enabled ones',
    expected: [
      'default-language-not-enabled.yaml:4:21  settings.default_language  en is not in settings.languages — add it there, or choose one of: ru, kk',
    ],
  },
  {
    fixture: 'bad-timezone',
    behaviour: 'a misspelt time zone suggests the real one',
    expected: [
      'bad-timezone.yaml:3:13  settings.timezone  "Asia/Almati" is not a time zone — did you mean Asia/Almaty? write a name like Asia/Almaty',
    ],
  },
  {
    fixture: 'bad-time-of-day',
    behaviour: 'a reminder time in am/pm asks for 24-hour HH:MM',
    expected: ['bad-time-of-day.yaml:4:11  settings.reminders.time  "9am" is not a time — write HH:MM in 24-hour time, like "10:00"'],
  },
  {
    fixture: 'quiet-hours-equal',
    behaviour: 'quiet hours that start and end at the same time are refused',
    expected: [
      'quiet-hours-equal.yaml:4:18  settings.reminders.quiet_hours  quiet hours start and end at the same time — make `to` differ from `from`, or remove quiet_hours',
    ],
  },
  {
    fixture: 'promo-percent-and-amount',
    behaviour: 'a promo code with both percent and amount asks to keep one',
    expected: ['promo-percent-and-amount.yaml:17:3  promo_codes.WELCOME10  has both `percent` and `amount` — keep only one of them'],
  },
  {
    fixture: 'promo-no-discount',
    behaviour: 'a promo code with no discount shows both ways to give one',
    expected: [
      'promo-no-discount.yaml:17:3  promo_codes.WELCOME10  has no discount — add `percent: 10` (percent off) or `amount: 1000` (tenge off)',
    ],
  },
  {
    fixture: 'promo-unknown-item',
    behaviour: 'a promo code for an item that does not exist suggests the closest item',
    expected: ['promo-unknown-item.yaml:19:13  promo_codes.WELCOME10.items[0]  unknown plan or product "montly" — did you mean "monthly"?'],
  },
  {
    fixture: 'promo-dates-reversed',
    behaviour: 'a promo code that ends before it starts asks to swap the dates',
    expected: [
      'promo-dates-reversed.yaml:20:18  promo_codes.SPRING.valid_until  the code ends (2026-03-01) before it starts (2026-05-31) — swap the dates',
    ],
  },
  {
    fixture: 'date-not-real',
    behaviour: 'a date that does not exist in the calendar is refused',
    expected: ['date-not-real.yaml:19:18  promo_codes.WELCOME10.valid_until  2026-02-30 is not a real date — check the month and day'],
  },
  {
    fixture: 'promo-code-case-duplicate',
    behaviour: 'two promo codes differing only in case are the same code',
    expected: [
      'promo-code-case-duplicate.yaml:19:3  promo_codes.welcome10  "welcome10" is the same code as "WELCOME10" (case does not matter) — remove one',
    ],
  },
  {
    fixture: 'menu-unknown-item',
    behaviour: 'a menu entry that is no plan or product lists the ids there are',
    expected: ['menu-unknown-item.yaml:18:5  menu[1]  unknown plan or product "yearly" — use one of: monthly'],
  },
  {
    fixture: 'menu-hidden-item',
    behaviour: 'a hidden item in the menu is refused',
    expected: [
      'menu-hidden-item.yaml:24:22  menu[0].items[1]  "vip" is hidden, so it cannot be in the menu — remove `hidden: true` or remove it from the menu',
    ],
  },
  {
    fixture: 'menu-duplicate-item',
    behaviour: 'an item listed twice in the menu is reported at its second place',
    expected: ['menu-duplicate-item.yaml:18:5  menu[1]  "monthly" is already in the menu — list each item once'],
  },
  {
    fixture: 'plan-product-same-id',
    behaviour: 'a product with the id of a plan is refused, because links use the id',
    expected: [
      "plan-product-same-id.yaml:17:3  products.course  the id \"course\" is also a plan's id — give the product another id (links use it)",
    ],
  },
  {
    fixture: 'id-too-long-for-callback',
    behaviour: 'an id that fits the id rules but not Telegram buttons gives its length and the limit',
    expected: [
      'id-too-long-for-callback.yaml:10:3  plans.monthly_subscription_with_all_lessons_chat_and_weekly_reviews  the id "monthly_subscription_with_all_lessons_chat_and_weekly_reviews" is 61 characters long, too long for Telegram buttons — use at most 56 characters',
    ],
  },
  {
    fixture: 'invalid-id',
    behaviour: 'an id with spaces or Cyrillic letters is refused with an example',
    expected: ['invalid-id.yaml:10:3  plans.1 месяц  "1 месяц" can\'t be an id — use only Latin letters, digits, _ and -, like monthly_plan'],
  },
  {
    fixture: 'unknown-text-key',
    behaviour: 'a misspelt text key suggests the real one',
    expected: ['unknown-text-key.yaml:17:3  texts.welcom  unknown text `welcom` — did you mean `welcome`?'],
  },
  {
    fixture: 'bad-enum',
    behaviour: 'a value outside a fixed list suggests the closest allowed value',
    expected: [
      'bad-enum.yaml:3:16  settings.access_mode  "join_requests" is not allowed — did you mean join_request? choose one of: join_request, invite_link',
    ],
  },
  {
    fixture: 'nothing-to-sell',
    behaviour: 'a catalog without plans or products says there is nothing to sell',
    expected: [
      'nothing-to-sell.yaml:1:1  (file)  there is nothing to sell — add at least one plan under `plans:` or a product under `products:`',
    ],
  },
  {
    fixture: 'empty-file',
    behaviour: 'an empty file says so and points to the example',
    expected: ['empty-file.yaml:1:1  (file)  the file is empty — start from a copy of catalog.example.yaml'],
  },
];

const MANY_MISTAKES = `settings:
  bot_name: "Test Academy"
  languages: [ru, en]
  timezone: Asia/Almati
  admins: ["@anna_admin"]

channels:
  main:
    chat_id: 123456789
    title: "Main channel"

plans:
  monthly:
    title: { ru: "1 месяц", kk: "1 ай" }
    price: "4900 тг"
    period: 0m
    channels: [mian]

promo_codes:
  WELCOME10:
    percent: 10
    amount: 500
    items: [montly]

menu:
  - yearly

texts:
  welcom: "Hello!"
`;

const MINIMAL = `settings:
  bot_name: "Test Academy"
channels:
  main:
    chat_id: -1001234567890
    title: "Main channel"
plans:
  monthly:
    title: "1 month"
    price: 4900
    period: 1m
    channels: [main]
`;

describe('hints that lead straight to the fix', () => {
  const catalog = (plan: string, chat = 'chat_id: -1001234567890') =>
    `settings:\n  bot_name: "T"\nchannels:\n  main:\n    ${chat}\n    title: "Main"\nplans:\n  monthly:\n    title: "M"\n${plan}\n    channels: [main]\n`;
  const only = (source: string) => {
    const result = parseCatalog(source, join(projectRoot, 'catalog.yaml'));
    if (result.ok) throw new Error('expected a problem');
    return result.problems.map((p) => `${p.path}  ${p.message}`);
  };
  it.each([
    ['price: 7,900', '"7,900" must be a plain number — write 7900 (no spaces, quotes or currency)'],
    ['price: 1,500.00', '"1,500.00" must be a plain number — write 1500 (no spaces, quotes or currency)'],
    ['price: ₸7900', '"₸7900" must be a plain number — write 7900 (no spaces, quotes or currency)'],
    ['price: ４９００', '"４９００" must be a plain number — write 4900 (no spaces, quotes or currency)'],
    ['price: 7.900', '7.9 must be a whole number of tenge, without dots or commas — write 8, or 7900 if the dot separated thousands'],
  ])('%s', (price, message) => {
    expect(only(catalog(`    ${price}\n    period: 1m`))).toEqual([`plans.monthly.price  ${message}`]);
  });
  it('a period written as a bare number', () => {
    expect(only(catalog('    price: 4900\n    period: 90'))).toEqual(['plans.monthly.period  90 is not a period — write 90d for days, or 1m, 3m, 1y for months and years']);
  });
  it('a channel given by its @username', () => {
    expect(only(catalog('    price: 4900\n    period: 1m', 'chat_id: "@python_academy"'))).toEqual([
      'channels.main.chat_id  "@python_academy" is not a chat id — a channel is listed by its numeric chat id, like -1001234567890 — add the bot to the channel as an admin and it sends you the id',
    ]);
  });
});

describe('one mistake in settings, one problem', () => {
  const example = readFileSync(EXAMPLE, 'utf8');
  const problems = (source: string) => {
    const result = parseCatalog(source, join(projectRoot, 'catalog.yaml'));
    return result.ok ? [] : result.problems.map((p) => `${p.path}  ${p.message}`);
  };
  it.each([
    ['a misspelt settings section', example.replace('settings:', 'setings:'), 'setings  unknown section `setings` — did you mean `settings`?'],
    ['languages not written as a list', example.replace('languages: [ru, kk, en]', 'languages: ru, kk, en'), 'settings.languages  "ru, kk, en" must be a list — write [first, second] or one "- item" per line'],
    ['a misspelt language', example.replace('languages: [ru, kk, en]', 'languages: [ru, kz, en]'), 'settings.languages[1]  "kz" is not allowed — did you mean kk? choose one of: ru, kk, en'],
  ])('%s: no echoes about every translation', (_name, source, only) => {
    expect(source).not.toBe(example);
    expect(problems(source)).toEqual([only]);
  });
});

describe('loadCatalog: one mistake per fixture', () => {
  it('has a fixture for every case and a case for every fixture (at least 24)', () => {
    const files = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
    expect(files).toEqual(CASES.map((c) => c.fixture).sort());
    expect(files.length).toBeGreaterThanOrEqual(24);
  });

  it.each(CASES.map((c) => [`${c.behaviour} (${c.fixture}.yaml)`, c] as const))('%s', (_name, { fixture: name, expected }) => {
    expect(lines(loadCatalog(fixture(name)))).toEqual(expected);
  });
});

describe('loadCatalog: the whole file', () => {
  it('reports every mistake of a catalog with many, and the warnings beside them, ordered by line', () => {
    const result = parseCatalog(MANY_MISTAKES, join(projectRoot, 'catalog.yaml'));
    expect(lines(result)).toEqual([
      'catalog.yaml:4:13  settings.timezone  "Asia/Almati" is not a time zone — did you mean Asia/Almaty? write a name like Asia/Almaty',
      'catalog.yaml:5:12  settings.admins[0]  "@anna_admin" is not a numeric Telegram id — admins are listed by number, not @username: ask each admin to send /whoami to the bot and paste the number it answers',
      "catalog.yaml:9:14  channels.main.chat_id  123456789 is a person's id, not a channel's — channel ids are negative, like -1001234567890; add the bot to the channel as admin and it tells you the id",
      'catalog.yaml:14:12  plans.monthly.title  warning: no en translation — customers who chose en see the ru text instead; add en: "…"',
      'catalog.yaml:14:29  plans.monthly.title.kk  kk is not enabled — add kk to settings.languages, or remove this translation',
      'catalog.yaml:15:12  plans.monthly.price  "4900 тг" must be a plain number — write 4900 (no spaces, quotes or currency)',
      'catalog.yaml:16:13  plans.monthly.period  a period of 0m gives no access — write at least 1d or 1m',
      'catalog.yaml:17:16  plans.monthly.channels[0]  unknown channel "mian" — did you mean "main"?',
      'catalog.yaml:20:3  promo_codes.WELCOME10  has both `percent` and `amount` — keep only one of them',
      'catalog.yaml:23:13  promo_codes.WELCOME10.items[0]  unknown plan or product "montly" — did you mean "monthly"?',
      'catalog.yaml:26:5  menu[0]  unknown plan or product "yearly" — use one of: monthly',
      'catalog.yaml:29:3  texts.welcom  unknown text `welcom` — did you mean `welcome`?',
    ]);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(12);
    expect(problems.filter((p) => p.severity === 'warning')).toHaveLength(1);
    expect(problems.map((p) => p.line)).toEqual([...problems.map((p) => p.line)].sort((a, b) => a - b));
  });

  it('accepts catalog.example.yaml with an exact summary', () => {
    const result = loadCatalog(EXAMPLE);
    expect(lines(result)).toEqual(['(valid) catalog.example.yaml is valid: 4 plans, 1 product, 2 channels, 1 promo code; languages ru, kk, en.']);
  });

  it('tells the creator to copy catalog.example.yaml when the file is missing', () => {
    const path = join(FIXTURES, 'no-such-dir', 'catalog.yaml');
    expect(lines(loadCatalog(path))).toEqual([
      `catalog.yaml:1:1  (file)  ${path} does not exist — copy catalog.example.yaml to catalog.yaml and edit it`,
    ]);
  });

  it('accepts a minimal catalog and fills in the defaults', () => {
    const result = parseCatalog(MINIMAL, join(projectRoot, 'catalog.yaml'));
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    expect(result.summary).toBe('catalog.yaml is valid: 1 plan, 0 products, 1 channel, 0 promo codes; languages ru.');
    const s = result.catalog.settings;
    expect(s.botName).toBe('Test Academy');
    expect(s.languages).toEqual(['ru']);
    expect(s.defaultLanguage).toBe('ru');
    expect(s.timezone).toBe('Asia/Almaty');
    expect(s.accessMode).toBe('join_request');
    expect(s.reminders).toEqual({ daysBeforeEnd: [3, 1, 0], time: '10:00', quietHours: undefined });
    expect(s.limits).toEqual({ openInvoicesPerCustomer: 2, invoicesPerHour: 5, phonesPerDay: 3 });
    expect(s.invoiceLifetimeMs).toBe(60 * 60 * 1000);
    expect(result.catalog.plans.get('monthly')).toMatchObject({ price: 4900, period: { unit: 'months', count: 1 }, trialDays: 0, hidden: false });
    expect(result.catalog.menu).toEqual([{ items: ['monthly'] }]);
  });

  const GARBAGE: Array<[string, string]> = [
    ['a top-level list', '- a\n- b'],
    ['a lone "::"', '::'],
    ['settings as a number', 'settings: 5'],
    ['plans as a list of numbers', 'plans: [1,2]'],
    ['binary-looking bytes', '\u0000\u0001\u00ff\ufffd\u007fELF\u0002\u0000\u001b[0m\r\n\u0000'],
    ['an alias to nothing', 'settings: *nothing\n'],
    ['an alias bomb', 'a: &a ["x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'],
    ['a !!binary tag', '!!binary AAAA\n'],
    ['deeply nested brackets', '['.repeat(2000)],
    ['two documents', 'settings: {bot_name: x}\n---\nchannels: {}\n'],
  ];

  it.each(GARBAGE)('never throws on %s, and reports problems', (_what, source) => {
    let result: LoadResult | undefined;
    expect(() => (result = parseCatalog(source, join(projectRoot, 'catalog.yaml')))).not.toThrow();
    expect(result?.ok).toBe(false);
    const problems = result && !result.ok ? result.problems : [];
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.col).toBeGreaterThanOrEqual(1);
      expect(p.message).toMatch(/ — /); // what is wrong — how to fix it
    }
  });

  it('explains an alias that refers to nothing, where it is', () => {
    expect(lines(parseCatalog('settings:\n  bot_name: *name\n', join(projectRoot, 'catalog.yaml')))).toEqual([
      'catalog.yaml:2:13  (file)  YAML syntax: the alias *name refers to nothing — define &name above it, or put the value in quotes',
    ]);
  });

  it('validates a generated catalog of 1 000 plans in well under a second', () => {
    const plans = Array.from(
      { length: 1000 },
      (_, i) =>
        `  plan_${i}:\n    title: { ru: "План ${i}", en: "Plan ${i}" }\n    price: ${1000 + i}\n    period: ${(i % 12) + 1}m\n    channels: [main, chat]\n`,
    ).join('');
    const source = `settings:\n  bot_name: "Big Academy"\n  languages: [ru, en]\nchannels:\n  main: { chat_id: -1001234567890, title: "Main" }\n  chat: { chat_id: -1009876543210, title: "Chat" }\nplans:\n${plans}`;
    const time = () => {
      const started = performance.now();
      const result = parseCatalog(source, join(projectRoot, 'catalog.yaml'));
      return { result, ms: performance.now() - started };
    };
    // The first run also warms up the YAML parser and compiles the schema, so it is printed but not asserted:
    // on a busy 2-core machine it alone varies between ~250 and ~850 ms.
    const first = time();
    const { result, ms } = time();
    console.log(`1000-plan catalog validated in ${ms.toFixed(1)} ms (first run, with warm-up: ${first.ms.toFixed(1)} ms)`);
    expect(result.ok ? result.summary : result.problems.map(formatProblem)).toBe(
      'catalog.yaml is valid: 1000 plans, 0 products, 2 channels, 0 promo codes; languages ru, en.',
    );
    // Wide: it is there to catch a check that grows with the square of the plans (seconds to
    // minutes), not a machine busy with other work.
    expect(ms).toBeLessThan(3000);
  });
});

describe('npm run validate (dist/src/cli/validate.js)', () => {
  const built = existsSync(VALIDATE_JS);
  const run = (path: string) => spawnSync(process.execPath, [VALIDATE_JS, path], { cwd: projectRoot, encoding: 'utf8' });
  const skipNote = built ? '' : ' — SKIPPED: dist/src/cli/validate.js is missing, run `npm run build` first';

  it.skipIf(!built)(`exits 1 and prints every problem and a count for a broken catalog${skipNote}`, () => {
    const out = run(fixture('misspelled-key'));
    expect(out.status).toBe(1);
    expect(out.stdout.split('\n')).toEqual([
      'misspelled-key.yaml:12:5  plans.monthly.prise  unknown field `prise` — did you mean `price`?',
      '',
      '1 problem found. Fix it and run npm run validate again.',
      '',
    ]);
  });

  it.skipIf(!built)(`lists several problems and counts them in the closing line${skipNote}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-cli-'));
    try {
      const path = join(dir, 'catalog.yaml');
      writeFileSync(path, MANY_MISTAKES);
      const out = run(path);
      expect(out.status).toBe(1);
      const printed = out.stdout.split('\n');
      expect(printed.slice(0, 12)).toEqual(lines(parseCatalog(MANY_MISTAKES, path)));
      expect(printed.slice(12)).toEqual(['', '11 problems and 1 warning found. Fix them and run npm run validate again.', '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!built)(`reads catalog.yaml when .env leaves CATALOG_PATH blank, and takes a typed path from the folder it was typed in${skipNote}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-cli-'));
    try {
      writeFileSync(join(dir, 'catalog.yaml'), readFileSync(EXAMPLE, 'utf8'));
      writeFileSync(join(dir, '.env'), 'BOT_TOKEN=\nCATALOG_PATH=\n');
      mkdirSync(join(dir, 'docs'));
      const blank = spawnSync(process.execPath, [VALIDATE_JS], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } });
      expect(blank.stdout).toMatch(/^catalog\.yaml is valid/);
      expect(blank.status).toBe(0);
      const typed = spawnSync(process.execPath, [VALIDATE_JS, '../catalog.yaml'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, INIT_CWD: join(dir, 'docs') } });
      expect(typed.stdout).toMatch(/^catalog\.yaml is valid/);
      expect(typed.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!built)(`exits 0 and prints the summary for catalog.example.yaml${skipNote}`, () => {
    const out = run(EXAMPLE);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.stdout).toBe('catalog.example.yaml is valid: 4 plans, 1 product, 2 channels, 1 promo code; languages ru, kk, en.\n');
  });
});

describe('built-in texts (config/texts/*.yaml)', () => {
  const read = (lang: string) => parse(readFileSync(join(projectRoot, 'config', 'texts', `${lang}.yaml`), 'utf8')) as Record<string, string>;
  const texts = { ru: read('ru'), kk: read('kk'), en: read('en') };
  const schema = JSON.parse(readFileSync(join(projectRoot, 'schemas', 'texts.schema.json'), 'utf8')) as {
    properties: Record<string, { description: string }>;
  };
  const placeholders = (t: string) => [...new Set(placeholdersOf(t))].sort();

  it('ru, kk and en have the same keys, and they are the properties of texts.schema.json', () => {
    const schemaKeys = Object.keys(schema.properties).sort();
    expect(Object.keys(texts.ru).sort()).toEqual(schemaKeys);
    expect(Object.keys(texts.kk).sort()).toEqual(schemaKeys);
    expect(Object.keys(texts.en).sort()).toEqual(schemaKeys);
  });

  it('every text uses the same placeholders in ru, kk and en', () => {
    const mismatches = Object.keys(texts.en).filter(
      (key) =>
        JSON.stringify(placeholders(texts.ru[key] ?? '')) !== JSON.stringify(placeholders(texts.en[key]!)) ||
        JSON.stringify(placeholders(texts.kk[key] ?? '')) !== JSON.stringify(placeholders(texts.en[key]!)),
    );
    expect(mismatches).toEqual([]);
  });

  it('the schema description of every text names exactly the placeholders the built-in text uses', () => {
    const wrong = Object.entries(schema.properties)
      .filter(([key, { description }]) => {
        const listed = placeholders(description);
        const used = placeholders(texts.en[key] ?? '');
        const saysNone = /No placeholders\./.test(description);
        return JSON.stringify(listed) !== JSON.stringify(used) || saysNone !== (used.length === 0);
      })
      .map(([key]) => key);
    expect(wrong).toEqual([]);
  });
});
