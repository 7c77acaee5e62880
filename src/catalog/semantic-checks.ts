import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration, parsePeriod } from './duration.js';
import { closest } from './problem.js';
import { allowedPlaceholders, placeholdersOf } from './texts.js';
import { isValidTimeZone, daysInMonth } from './time-zone.js';
import { LANGUAGES, type CatalogFile, type Language, type TextInput } from './types.js';
import { longestCallbackData, CALLBACK_DATA_LIMIT } from './callback-data-size.js';
import { starsChecks } from './stars-checks.js';

export type Report = (segments: Array<string | number>, message: string, atKey?: boolean) => void;

const MAX_FILE_BYTES = 50 * 1024 * 1024;

/**
 * Checks the schema cannot express: references between sections, placeholders, periods,
 * files, chat ids, languages. Runs beside the schema check, so it sees only the parts whose
 * shape is right (see {@link wellTyped}); the schema reports the rest.
 */
export function semanticChecks(raw: unknown, catalogDir: string, report: Report): void {
  const file = wellTyped(raw);
  const s = file.settings;
  const languages: Language[] = s.languages ?? ['ru'];
  const plans = file.plans ?? {};
  const products = file.products ?? {};
  const channelIds = Object.keys(file.channels);
  const itemIds = [...Object.keys(plans), ...Object.keys(products)];
  starsChecks(raw, report);

  if (s.default_language && !languages.includes(s.default_language)) {
    report(['settings', 'default_language'], `${s.default_language} is not in settings.languages — add it there, or choose one of: ${languages.join(', ')}`);
  }
  if (s.timezone !== undefined && s.timezone !== '' && !isValidTimeZone(s.timezone)) {
    const guess = closest(s.timezone, Intl.supportedValuesOf('timeZone'));
    report(['settings', 'timezone'], `"${s.timezone}" is not a time zone — ${guess ? `did you mean ${guess}? ` : ''}write a name like Asia/Almaty`);
  }
  (s.admins ?? []).forEach((id, i) => {
    if (looksLikePhone(id)) report(['settings', 'admins', i], `${id} ${PHONE_NOT_ID}`);
  });
  const quiet = s.reminders?.quiet_hours;
  if (quiet && quiet.from === quiet.to) {
    report(['settings', 'reminders', 'quiet_hours'], 'quiet hours start and end at the same time — make `to` differ from `from`, or remove quiet_hours');
  }
  if (s.invoice_lifetime !== undefined && parseDuration(s.invoice_lifetime) === 0) {
    report(['settings', 'invoice_lifetime'], 'an invoice cannot last 0 — write how long Kaspi invoices stay payable, like 1h');
  }

  // Ids appear in deep links t.me/bot?start=<id>: a plan and a product cannot share one.
  for (const id of Object.keys(products)) {
    if (id in plans) report(['products', id], `the id "${id}" is also a plan's id — give the product another id (links use it)`, true);
  }

  const checkChannels = (segments: Array<string | number>, ids: string[]) =>
    ids.forEach((id, i) => {
      if (!channelIds.includes(id)) {
        const guess = closest(id, channelIds);
        report([...segments, i], `unknown channel "${id}" — ${guess ? `did you mean "${guess}"?` : `add it under channels, or use one of: ${channelIds.join(', ')}`}`);
      }
    });

  for (const [id, ch] of Object.entries(file.channels)) {
    if (Number.isInteger(ch.chat_id)) checkChatId(['channels', id, 'chat_id'], ch.chat_id, report);
  }

  for (const [id, plan] of Object.entries(plans)) {
    const period = parsePeriod(plan.period);
    if (period && period.count === 0) report(['plans', id, 'period'], `a period of ${plan.period} gives no access — write at least 1d or 1m`);
    checkChannels(['plans', id, 'channels'], plan.channels);
  }

  for (const [id, product] of Object.entries(products)) {
    if (product.deliver.channels) checkChannels(['products', id, 'deliver', 'channels'], product.deliver.channels);
    if (product.deliver.file !== undefined) {
      const path = resolve(catalogDir, product.deliver.file);
      if (!existsSync(path) || !statSync(path).isFile()) {
        report(['products', id, 'deliver', 'file'], `file "${product.deliver.file}" not found (looked at ${path}) — put the file there, or fix the path (relative to catalog.yaml)`);
      } else if (statSync(path).size > MAX_FILE_BYTES) {
        report(['products', id, 'deliver', 'file'], `file "${product.deliver.file}" is larger than 50 MB, the most a bot can send — send a link instead`);
      }
    }
  }

  const maxIdLength = CALLBACK_DATA_LIMIT - longestCallbackData('');
  for (const id of itemIds) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) continue; // the schema reports malformed ids
    if (longestCallbackData(id) > CALLBACK_DATA_LIMIT) {
      const section = id in plans ? 'plans' : 'products';
      report([section, id], `the id "${id}" is ${id.length} characters long, too long for Telegram buttons — use at most ${maxIdLength} characters`, true);
    }
  }

  const seenCodes = new Map<string, string>();
  for (const [code, promo] of Object.entries(file.promo_codes ?? {})) {
    const upper = code.toUpperCase();
    const twin = seenCodes.get(upper);
    if (twin !== undefined) report(['promo_codes', code], `"${code}" is the same code as "${twin}" (case does not matter) — remove one`, true);
    seenCodes.set(upper, code);
    (promo.items ?? []).forEach((item, i) => {
      if (!itemIds.includes(item)) {
        const guess = closest(item, itemIds);
        report(['promo_codes', code, 'items', i], `unknown plan or product "${item}" — ${guess ? `did you mean "${guess}"?` : `use one of: ${itemIds.join(', ')}`}`);
      }
    });
    for (const field of ['valid_from', 'valid_until'] as const) {
      const date = promo[field];
      if (date !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(date) && !isRealDate(date)) report(['promo_codes', code, field], `${date} is not a real date — check the month and day`);
    }
    if (promo.valid_from && promo.valid_until && promo.valid_until < promo.valid_from) {
      report(['promo_codes', code, 'valid_until'], `the code ends (${promo.valid_until}) before it starts (${promo.valid_from}) — swap the dates`);
    }
  }

  const inMenu = new Map<string, string>();
  (file.menu ?? []).forEach((entry, i) => {
    const ids = typeof entry === 'string' ? [[i] as Array<string | number>] : entry.items.map((_, j) => [i, 'items', j]);
    for (const rel of ids) {
      const id = typeof entry === 'string' ? entry : entry.items[rel[2] as number]!;
      const segs = ['menu', ...rel];
      if (id === '') continue;
      if (!itemIds.includes(id)) {
        const guess = closest(id, itemIds);
        report(segs, `unknown plan or product "${id}" — ${guess ? `did you mean "${guess}"?` : `use one of: ${itemIds.join(', ')}`}`);
      } else if (inMenu.has(id)) {
        report(segs, `"${id}" is already in the menu — list each item once`);
      } else if ((plans[id] ?? products[id])?.hidden) {
        report(segs, `"${id}" is hidden, so it cannot be in the menu — remove \`hidden: true\` or remove it from the menu`);
      }
      inMenu.set(id, id);
    }
  });

  // A misspelt `plans:` or `products:` is reported by the schema with "did you mean"; "nothing to sell" would only confuse.
  const sections = ['$schema', 'settings', 'channels', 'plans', 'products', 'promo_codes', 'menu', 'texts'];
  const misspeltSection = Object.keys(isObj(raw) ? raw : {}).some((k) => !sections.includes(k) && closest(k, ['plans', 'products']));
  if (itemIds.length === 0 && !misspeltSection) {
    report([], 'there is nothing to sell — add at least one plan under `plans:` or a product under `products:`');
  }

  checkTexts(file, languages, report);
}

/**
 * A Kazakh or Russian phone number written as a number (77011234567, 87011234567, +7 701 …),
 * 11 digits from 7 or 8: Telegram user ids are shorter.
 */
export function looksLikePhone(id: number | string): boolean {
  const digits = String(id).replace(/[\s()+-]/g, '');
  return /^[78]\d{10}$/.test(digits) && /^\+?[\d\s()-]+$/.test(String(id));
}

/** What to say about an admin written as a phone number (after the number itself). */
export const PHONE_NOT_ID =
  "looks like a phone number, not a Telegram id — this admin would get nothing: ask them to press Start in the bot and send /whoami, and paste the number it answers";

function isRealDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

function checkChatId(segments: Array<string | number>, chatId: number, report: Report): void {
  if (chatId > 0) {
    report(segments, `${chatId} is a person's id, not a channel's — channel ids are negative, like -1001234567890; add the bot to the channel as admin and it tells you the id`);
  } else if (Math.abs(chatId) > 2 ** 52 || chatId === 0) {
    report(segments, `${chatId} cannot be a Telegram chat id — copy it again from the bot's message, like -1001234567890`);
  } else if (chatId > -1_000_000_000_000 && String(-chatId).length >= 10) {
    report(segments, `${chatId} looks like a channel id without its -100 prefix — write -100${-chatId}`);
  }
}

function checkTexts(file: CatalogFile, languages: Language[], report: Report): void {
  const checkLanguages = (segments: Array<string | number>, t: TextInput | undefined) => {
    if (t === undefined || typeof t === 'string') return;
    for (const lang of LANGUAGES) {
      if (t[lang] !== undefined && !languages.includes(lang)) {
        report([...segments, lang], `${lang} is not enabled — add ${lang} to settings.languages, or remove this translation`, true);
      }
    }
  };
  for (const [id, ch] of Object.entries(file.channels)) checkLanguages(['channels', id, 'title'], ch.title);
  for (const [id, p] of Object.entries(file.plans ?? {})) {
    checkLanguages(['plans', id, 'title'], p.title);
    checkLanguages(['plans', id, 'description'], p.description);
  }
  for (const [id, p] of Object.entries(file.products ?? {})) {
    checkLanguages(['products', id, 'title'], p.title);
    checkLanguages(['products', id, 'description'], p.description);
    checkLanguages(['products', id, 'deliver', 'text'], p.deliver.text);
  }
  (file.menu ?? []).forEach((entry, i) => {
    if (typeof entry !== 'string') checkLanguages(['menu', i, 'section'], entry.section);
  });
  for (const [key, value] of Object.entries(file.texts ?? {})) {
    checkLanguages(['texts', key], value);
    const allowed = allowedPlaceholders(key);
    if (!allowed) continue; // unknown keys are reported by the schema
    const versions: Array<[Array<string | number>, string]> =
      typeof value === 'string' ? [[['texts', key], value]] : Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string').map(([l, v]) => [['texts', key, l], v]);
    for (const [segments, str] of versions) {
      for (const name of placeholdersOf(str)) {
        if (!allowed.includes(name)) {
          const guess = closest(name, allowed);
          report(
            segments,
            `unknown placeholder {${name}} — ${guess ? `did you mean {${guess}}? ` : ''}this text can use: ${allowed.map((a) => `{${a}}`).join(', ')}`,
          );
        }
      }
    }
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const entries = (v: unknown): Array<[string, Obj]> =>
  isObj(v) ? Object.entries(v).filter((e): e is [string, Obj] => isObj(e[1])) : [];
const textOf = (v: unknown): TextInput | undefined => (typeof v === 'string' || isObj(v) ? (v as TextInput) : undefined);

/** Whole numbers, each at its own index (NaN for anything else), so reports point at the right entry. */
const ints = (v: unknown): number[] | undefined => (Array.isArray(v) ? v.map((x) => (Number.isInteger(x) ? (x as number) : NaN)) : undefined);
const int = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined);

/**
 * The parts of a possibly schema-invalid catalog that the cross-checks read, with every
 * wrongly typed value dropped, so one mistake never hides the others.
 */
export function wellTyped(raw: unknown): CatalogFile {
  const root = isObj(raw) ? raw : {};
  const settings = isObj(root.settings) ? root.settings : {};
  const reminders = isObj(settings.reminders) ? settings.reminders : {};
  const quiet = isObj(reminders.quiet_hours) ? reminders.quiet_hours : undefined;
  const langs = strings(settings.languages)?.filter((l): l is Language => (LANGUAGES as readonly string[]).includes(l));
  return {
    settings: {
      bot_name: '',
      languages: langs && langs.length > 0 ? langs : undefined,
      default_language: (LANGUAGES as readonly unknown[]).includes(settings.default_language) ? (settings.default_language as Language) : undefined,
      timezone: str(settings.timezone),
      invoice_lifetime: str(settings.invoice_lifetime),
      admins: ints(settings.admins),
      reminders: {
        days_before_end: ints(reminders.days_before_end),
        time: str(reminders.time),
        quiet_hours: quiet && str(quiet.from) && str(quiet.to) ? { from: str(quiet.from)!, to: str(quiet.to)! } : undefined,
      },
    },
    channels: Object.fromEntries(
      entries(root.channels).map(([id, c]) => [id, { chat_id: typeof c.chat_id === 'number' ? c.chat_id : NaN, title: textOf(c.title)! }]),
    ),
    plans: Object.fromEntries(
      entries(root.plans).map(([id, p]) => [
        id,
        {
          title: textOf(p.title)!,
          description: textOf(p.description),
          price: int(p.price) ?? 0,
          period: str(p.period) ?? '',
          channels: strings(p.channels) ?? [],
          trial_days: int(p.trial_days),
          hidden: p.hidden === true,
        },
      ]),
    ),
    products: Object.fromEntries(
      entries(root.products).map(([id, p]) => {
        const d = isObj(p.deliver) ? p.deliver : {};
        return [
          id,
          {
            title: textOf(p.title)!,
            description: textOf(p.description),
            price: int(p.price) ?? 0,
            hidden: p.hidden === true,
            deliver: { text: textOf(d.text), file: str(d.file), channels: strings(d.channels) },
          },
        ];
      }),
    ),
    promo_codes: Object.fromEntries(
      entries(root.promo_codes).map(([code, p]) => [
        code,
        { items: strings(p.items), valid_from: str(p.valid_from), valid_until: str(p.valid_until) },
      ]),
    ),
    menu: Array.isArray(root.menu)
      ? root.menu.map((m) => (typeof m === 'string' ? m : isObj(m) ? { section: textOf(m.section), items: strings(m.items) ?? [] } : ''))
      : undefined,
    texts: isObj(root.texts)
      ? (Object.fromEntries(Object.entries(root.texts).filter(([, v]) => textOf(v) !== undefined)) as Record<string, TextInput>)
      : undefined,
  };
}
