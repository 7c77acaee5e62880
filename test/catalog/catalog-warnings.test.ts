import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, parseCatalog, type LoadResult } from '../../src/catalog/load-catalog.js';
import { formatProblem } from '../../src/catalog/problem.js';
import { projectRoot } from '../../src/project-root.js';

const WARNINGS = join(projectRoot, 'test', 'catalog', 'fixtures', 'warnings');
const EXAMPLE = join(projectRoot, 'catalog.example.yaml');
const VALIDATE_JS = join(projectRoot, 'dist', 'src', 'cli', 'validate.js');

/** What the creator reads: every problem, or "(valid)" and every warning. */
function lines(result: LoadResult): string[] {
  return result.ok ? ['(valid)', ...result.warnings.map(formatProblem)] : result.problems.map(formatProblem);
}

interface Case {
  fixture: string;
  behaviour: string;
  expected: string[];
}

/** One fixture per warning: a catalog that loads, with exactly one thing probably not meant. */
const CASES: Case[] = [
  {
    fixture: 'text-cut-at-hash',
    behaviour: 'an unquoted text that YAML cut at " #" shows what is left and the quoted fix',
    expected: [
      'text-cut-at-hash.yaml:2:13  settings.bot_name  warning: YAML reads everything after " #" as a comment, so this text is only "Python" — put the whole text in quotes: "Python #1 Academy" (a note to yourself goes on a line of its own)',
    ],
  },
  {
    fixture: 'typographic-quotes',
    behaviour: 'typographic quotes written as YAML quotes become part of the text, and the fix says so',
    expected: [
      'typographic-quotes.yaml:8:12  channels.main.title  warning: “…” are typographic quotes, which YAML keeps as part of the text — write straight quotes: "Main channel" (or "“Main channel”" if customers should see them)',
    ],
  },
  {
    fixture: 'not-in-menu',
    behaviour: 'a plan neither in the menu nor hidden is found only by its link',
    expected: [
      'not-in-menu.yaml:16:3  plans.yearly  warning: "yearly" is neither in the menu nor hidden, so customers find it only by its link t.me/<your bot>?start=yearly — add it to `menu`, or write `hidden: true` if only the link should open it',
    ],
  },
  {
    fixture: 'reminder-in-quiet-hours',
    behaviour: 'a reminder time inside the quiet hours says when the reminders really go out',
    expected: [
      'reminder-in-quiet-hours.yaml:5:11  settings.reminders.time  warning: reminders at 10:00 fall inside the quiet hours 09:00–22:00, so they wait until 22:00 — set `time` outside the quiet hours, or change quiet_hours',
    ],
  },
  {
    fixture: 'reminder-longer-than-plan',
    behaviour: 'a reminder further before the end than the shortest plan lasts arrives right after paying',
    expected: [
      'reminder-longer-than-plan.yaml:5:23  settings.reminders.days_before_end[0]  warning: a reminder 3 days before the end is longer than plan "two_days" (2d), so its customers get it right after paying — use fewer days than the shortest plan lasts, or set `days_before_end` without 3',
    ],
  },
  {
    fixture: 'missing-translation',
    behaviour: 'a text without one of the enabled languages says which language is shown instead',
    expected: [
      'missing-translation.yaml:12:12  plans.monthly.title  warning: no en translation — customers who chose en see the ru text instead; add en: "…"',
    ],
  },
  {
    fixture: 'button-too-long',
    behaviour: 'a title that makes its menu button longer than a phone shows is named with the whole button',
    expected: [
      'button-too-long.yaml:12:18  plans.monthly.title.ru  warning: the menu button reads "Канал, чат и разборы домашних заданий на месяц · 4\u00a0900\u00a0₸" (56 characters) — Telegram shows about 40 on a phone and cuts the rest; shorten the title',
    ],
  },
  {
    fixture: 'channel-not-sold',
    behaviour: 'a channel that no plan or product sells is named at its key',
    expected: [
      'channel-not-sold.yaml:9:3  channels.chat  warning: no plan or product sells "chat", so nobody gets into it through the bot — add chat to a plan\'s `channels` or a product\'s `deliver.channels`, or remove it',
    ],
  },
];

describe('warnings: one per fixture, and the catalog still loads', () => {
  it('has a fixture for every case and a case for every fixture', () => {
    const files = readdirSync(WARNINGS)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
    expect(files).toEqual(CASES.map((c) => c.fixture).sort());
  });

  it.each(CASES.map((c) => [`${c.behaviour} (${c.fixture}.yaml)`, c] as const))('%s', (_name, { fixture, expected }) => {
    const result = loadCatalog(join(WARNINGS, `${fixture}.yaml`));
    expect(lines(result)).toEqual(['(valid)', ...expected]);
    if (result.ok) expect(result.warnings.every((w) => w.severity === 'warning')).toBe(true);
  });

  it('catalog.example.yaml has no warnings (its overnight quiet hours 22:00 → 09:00 and reminders at 10:00 are normal)', () => {
    expect(lines(loadCatalog(EXAMPLE))).toEqual(['(valid)']);
  });
});

const MINIMAL = `settings:
  bot_name: "Test Academy"
  languages: [ru, en]
channels:
  main:
    chat_id: -1001234567890
    title: "Main channel"
plans:
  monthly:
    title: { ru: "1 месяц", en: "1 month" }
    price: 4900
    period: 1m
    channels: [main]
`;

const check = (source: string) => lines(parseCatalog(source, join(projectRoot, 'catalog.yaml')));
const messages = (source: string) => {
  const result = parseCatalog(source, join(projectRoot, 'catalog.yaml'));
  return (result.ok ? result.warnings : result.problems).map((p) => `${p.path}  ${p.severity}: ${p.message}`);
};

describe('warnings in more detail', () => {
  it('the minimal catalog these tests edit has none', () => {
    expect(check(MINIMAL)).toEqual(['(valid)']);
  });

  it.each([
    ['“…”', '“Main channel”', '"Main channel"'],
    ['«…»', '«Main channel»', '"Main channel"'],
    ['„…“', '„Main channel“', '"Main channel"'],
  ])('typographic quotes %s as YAML quotes', (pair, written, fix) => {
    expect(messages(MINIMAL.replace('"Main channel"', written))).toEqual([
      `channels.main.title  warning: ${pair} are typographic quotes, which YAML keeps as part of the text — write straight quotes: ${fix} (or ${JSON.stringify(written)} if customers should see them)`,
    ]);
  });

  it('typographic quotes inside straight quotes are text, as meant', () => {
    expect(check(MINIMAL.replace('"Main channel"', '"Курс «Python с нуля»"'))).toEqual(['(valid)']);
  });

  it('a comment after two spaces is a note, not a cut text', () => {
    expect(check(MINIMAL.replace('bot_name: "Test Academy"', 'bot_name: Test Academy  # my shop'))).toEqual(['(valid)']);
  });

  it('a value that is not a text may have a comment right after it', () => {
    expect(check(MINIMAL.replace('period: 1m', 'period: 1m #monthly'))).toEqual(['(valid)']);
  });

  it('quiet hours across midnight with reminders in the morning after them do not warn', () => {
    const source = MINIMAL.replace('  languages: [ru, en]\n', '  languages: [ru, en]\n  reminders:\n    time: "10:00"\n    quiet_hours: { from: "22:00", to: "09:00" }\n');
    expect(check(source)).toEqual(['(valid)']);
  });

  it('the default reminder time inside the quiet hours is named as the default', () => {
    const source = MINIMAL.replace('  languages: [ru, en]\n', '  languages: [ru, en]\n  reminders:\n    quiet_hours: { from: "08:00", to: "12:00" }\n');
    expect(messages(source)).toEqual([
      'settings.reminders.quiet_hours  warning: reminders at 10:00 (the default time) fall inside the quiet hours 08:00–12:00, so they wait until 12:00 — set `time` outside the quiet hours, or change quiet_hours',
    ]);
  });

  it('the default reminders longer than a plan are named at that plan', () => {
    expect(messages(MINIMAL.replace('period: 1m', 'period: 3d'))).toEqual([
      'plans.monthly.period  warning: reminders go out 3 days before the end (the default [3, 1, 0]) is as long as plan "monthly" (3d), so its customers get it right after paying — use fewer days than the shortest plan lasts, or set `days_before_end` without 3',
    ]);
  });

  it('an own text without the default language gives way to the built-in text, and says so', () => {
    const source = `${MINIMAL}texts:\n  welcome: { en: "Hello, {name}!" }\n`;
    expect(messages(source)).toEqual([
      "texts.welcome  warning: no ru translation — customers who chose ru see the bot's built-in ru text instead of yours; add ru: \"…\"",
    ]);
  });

  it('several missing languages are named together', () => {
    const source = MINIMAL.replace('languages: [ru, en]', 'languages: [ru, kk, en]').replace('{ ru: "1 месяц", en: "1 month" }', '{ ru: "1 месяц" }');
    expect(messages(source)).toEqual(['plans.monthly.title  warning: no kk or en translation — customers who chose kk or en see the ru text instead; add kk: "…" and en: "…"']);
  });

  it('an own button text is checked with its placeholders filled in', () => {
    const source = `${MINIMAL}texts:\n  button_buy: "Buy access to the channel and the chat for {price}"\n`;
    expect(messages(source)).toEqual([
      'texts.button_buy  warning: this button reads "Buy access to the channel and the chat for 4\u00a0900\u00a0₸" (50 characters) — Telegram shows about 40 on a phone and cuts the rest; shorten it',
    ]);
  });

  it('a menu button counts every price it shows (Kaspi and Telegram Stars)', () => {
    const title = MINIMAL.replace('{ ru: "1 месяц", en: "1 month" }', '"Channel and chat for one month"');
    expect(check(title)).toEqual(['(valid)']); // "Channel and chat for one month · 4 900 ₸": 39 characters
    const withStars = title.replace('  languages: [ru, en]\n', '  languages: [ru, en]\n  payments: [kaspi, stars]\n').replace('price: 4900', 'price: 4900\n    stars: 250');
    expect(messages(withStars)).toEqual([
      'plans.monthly.title  warning: the menu button reads "Channel and chat for one month · 4\u00a0900\u00a0₸ / 250\u00a0⭐" (48 characters) — Telegram shows about 40 on a phone and cuts the rest; shorten the title',
    ]);
  });

  it('a hidden plan need not be in the menu, and a listed one is fine', () => {
    const source = MINIMAL.replace('channels: [main]\n', 'channels: [main]\n  vip:\n    title: { ru: "VIP", en: "VIP" }\n    price: 9900\n    period: 1m\n    channels: [main]\n    hidden: true\nmenu: [monthly]\n');
    expect(check(source)).toEqual(['(valid)']);
  });

  it('a shop of files and links only is not told that its (required) channel is not sold', () => {
    const source = MINIMAL.replace(/plans:[\s\S]*$/, 'products:\n  course:\n    title: { ru: "Курс", en: "Course" }\n    price: 15000\n    deliver: { link: "https://example.com/course" }\n');
    expect(check(source)).toEqual(['(valid)']);
  });

  it('a menu naming a misspelt id is an error, without also calling the real plan forgotten', () => {
    expect(messages(`${MINIMAL}menu: [montly]\n`)).toEqual(['menu[0]  error: unknown plan or product "montly" — did you mean "monthly"?']);
  });

  it('warnings are listed beside the errors, each with its severity', () => {
    const source = MINIMAL.replace('bot_name: "Test Academy"', 'bot_name: Python #1 Academy').replace('price: 4900', 'price: "4 900 тг"');
    expect(messages(source)).toEqual([
      'settings.bot_name  warning: YAML reads everything after " #" as a comment, so this text is only "Python" — put the whole text in quotes: "Python #1 Academy" (a note to yourself goes on a line of its own)',
      'plans.monthly.price  error: "4 900 тг" must be a plain number — write 4900 (no spaces, quotes or currency)',
    ]);
  });
});

describe('an admin written as a phone number (an error: that admin would get nothing)', () => {
  const PHONE = 'looks like a phone number, not a Telegram id — this admin would get nothing: ask them to press Start in the bot and send /whoami, and paste the number it answers';
  it.each([
    ['77011234567', '77011234567'],
    ['87011234567', '87011234567'],
    ['+77011234567', '77011234567'],
    ['"+7 701 123 45 67"', '"+7 701 123 45 67"'],
    ['"8 (701) 123-45-67"', '"8 (701) 123-45-67"'],
  ])('admins: [%s]', (written, shown) => {
    const source = MINIMAL.replace('  languages: [ru, en]\n', `  languages: [ru, en]\n  admins: [123456789, ${written}]\n`);
    expect(messages(source)).toEqual([`settings.admins[1]  error: ${shown} ${PHONE}`]);
  });

  it('a real Telegram id of 10 digits is fine', () => {
    expect(check(MINIMAL.replace('  languages: [ru, en]\n', '  languages: [ru, en]\n  admins: [7011234567]\n'))).toEqual(['(valid)']);
  });
});

describe('npm run validate with warnings (dist/src/cli/validate.js)', () => {
  const built = existsSync(VALIDATE_JS);
  const skipNote = built ? '' : ' — SKIPPED: dist/src/cli/validate.js is missing, run `npm run build` first';
  const run = (...args: string[]) => spawnSync(process.execPath, [VALIDATE_JS, ...args], { cwd: projectRoot, encoding: 'utf8' });
  const fixture = join(WARNINGS, 'text-cut-at-hash.yaml');
  const warning = CASES[0]!.expected[0]!;

  it.skipIf(!built)(`exits 0 and prints each warning, the summary and a count${skipNote}`, () => {
    const out = run(fixture);
    expect(out.stdout.split('\n')).toEqual([
      warning,
      '',
      'text-cut-at-hash.yaml is valid: 1 plan, 0 products, 1 channel, 0 promo codes; languages ru, en.',
      '1 warning: the bot accepts this catalog, but check it. (npm run validate -- --strict treats warnings as errors.)',
      '',
    ]);
    expect(out.status).toBe(0);
  });

  it.skipIf(!built)(`--strict refuses warnings: exit 1, before or after the path${skipNote}`, () => {
    for (const args of [['--strict', fixture], [fixture, '--strict']]) {
      const out = run(...args);
      expect(out.stdout.split('\n')).toEqual([warning, '', '1 warning found, and --strict accepts no warnings. Fix it and run npm run validate -- --strict again.', '']);
      expect(out.status).toBe(1);
    }
  });

  it.skipIf(!built)(`--strict passes a catalog without warnings${skipNote}`, () => {
    const out = run('--strict', EXAMPLE);
    expect(out.stdout).toBe('catalog.example.yaml is valid: 4 plans, 1 product, 2 channels, 1 promo code; languages ru, kk, en.\n');
    expect(out.status).toBe(0);
  });

  it.skipIf(!built)(`names an unknown option instead of reading it as a file${skipNote}`, () => {
    const out = run('--stirct');
    expect(out.stdout).toBe('Unknown option --stirct — the only option is --strict (warnings count as errors): npm run validate -- --strict [path]\n');
    expect(out.status).toBe(2);
  });

  it.skipIf(!built)(`counts errors and warnings apart in the closing line${skipNote}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-cli-'));
    try {
      const path = join(dir, 'catalog.yaml');
      writeFileSync(path, readFileSync(fixture, 'utf8').replace('price: 4900', 'price: "4 900 тг"'));
      const out = run(path);
      expect(out.stdout.split('\n').slice(-3)).toEqual(['', '1 problem and 1 warning found. Fix it and run npm run validate again.', '']);
      expect(out.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
