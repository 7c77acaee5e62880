import { parsePeriod } from './duration.js';
import { formatMoney, formatStars } from './format.js';
import { wellTyped, type Report } from './semantic-checks.js';
import { LANGUAGES, type CatalogFile, type Language, type TextInput } from './types.js';

/** About this many characters of a button fit on a phone; Telegram cuts longer labels with "…". */
export const BUTTON_LABEL_LIMIT = 40;

/**
 * Checks for a catalog that works but is probably not what the creator meant: something sold
 * only by its link, reminders at a time they cannot go out or before the customer could need
 * them, a text missing a language, a button too long to read, a channel nobody can buy.
 * Reported as warnings: the bot runs with them. Like the semantic checks it reads only the
 * well-typed parts, and it skips a check whose input the schema already reports as broken.
 */
export function catalogWarnings(raw: unknown, warn: Report): void {
  const file = wellTyped(raw);
  const root = (raw ?? {}) as Record<string, unknown>;
  const languages: Language[] = file.settings.languages ?? ['ru'];
  const defaultLanguage = file.settings.default_language ?? languages[0]!;
  const plans = file.plans ?? {};
  const products = file.products ?? {};

  // Without `menu`, the menu is every item that is not hidden; with it, only what it lists. A menu
  // naming an item that does not exist is an error already, most likely a misspelt id of these.
  const itemIds = new Set([...Object.keys(plans), ...Object.keys(products)]);
  const listed = (file.menu ?? []).flatMap((entry) => (typeof entry === 'string' ? [entry] : entry.items));
  if (Array.isArray(root.menu) && listed.every((id) => itemIds.has(id))) {
    for (const [section, items] of [['plans', plans], ['products', products]] as const) {
      for (const [id, item] of Object.entries(items)) {
        if (!item.hidden && !listed.includes(id)) {
          warn(
            [section, id],
            `"${id}" is neither in the menu nor hidden, so customers find it only by its link t.me/<your bot>?start=${id} — add it to \`menu\`, or write \`hidden: true\` if only the link should open it`,
            true,
          );
        }
      }
    }
  }

  checkReminders(file, plans, warn);
  checkTranslations(file, languages, defaultLanguage, warn);
  checkButtons(file, root, languages, defaultLanguage, Array.isArray(root.menu) ? new Set(listed) : undefined, warn);

  // A channel is sold through a plan's `channels` or a product's `deliver.channels`. Not checked
  // when nothing sells any channel (a shop of files and links still needs one, the schema says),
  // nor when a list is broken or names a channel that does not exist: those are errors already.
  const lists = [
    ...Object.values(isRecord(root.plans) ? root.plans : {}).map((p) => (isRecord(p) ? p.channels : undefined)),
    ...Object.values(isRecord(root.products) ? root.products : {}).map((p) => (isRecord(p) && isRecord(p.deliver) ? p.deliver.channels : undefined)),
  ];
  const channelIds = new Set(Object.keys(file.channels));
  const sold = lists.flatMap((list) => (Array.isArray(list) ? list : []));
  const listsFine = lists.every((list) => list === undefined || (Array.isArray(list) && list.every((c) => typeof c === 'string' && channelIds.has(c))));
  if (listsFine && sold.length > 0) {
    for (const id of channelIds) {
      if (!sold.includes(id)) {
        warn(
          ['channels', id],
          `no plan or product sells "${id}", so nobody gets into it through the bot — add ${id} to a plan's \`channels\` or a product's \`deliver.channels\`, or remove it`,
          true,
        );
      }
    }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** "HH:MM" → minutes after midnight. */
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function checkReminders(file: CatalogFile, plans: NonNullable<CatalogFile['plans']>, warn: Report): void {
  const r = file.settings.reminders ?? {};
  const offsets = r.days_before_end ?? [3, 1, 0];
  const time = r.time ?? '10:00';
  const quiet = r.quiet_hours;
  const isTime = (t: string) => /^([01]\d|2[0-3]):[0-5]\d$/.test(t);
  if (quiet && offsets.length > 0 && isTime(time) && isTime(quiet.from) && isTime(quiet.to) && quiet.from !== quiet.to) {
    const [t, from, to] = [minutesOf(time), minutesOf(quiet.from), minutesOf(quiet.to)];
    // Quiet hours are [from, to) local time, and may cross midnight (22:00 → 09:00).
    const inside = from < to ? t >= from && t < to : t >= from || t < to;
    if (inside) {
      warn(
        r.time === undefined ? ['settings', 'reminders', 'quiet_hours'] : ['settings', 'reminders', 'time'],
        `reminders at ${time}${r.time === undefined ? ' (the default time)' : ''} fall inside the quiet hours ${quiet.from}–${quiet.to}, so they wait until ${quiet.to} — set \`time\` outside the quiet hours, or change quiet_hours`,
      );
    }
  }

  // The shortest plan, in days at least (a month is 28 days at least).
  let shortest: { id: string; days: number; text: string } | undefined;
  for (const [id, plan] of Object.entries(plans)) {
    const period = parsePeriod(plan.period);
    if (!period || period.count === 0) continue;
    const days = period.unit === 'days' ? period.count : period.count * 28;
    if (!shortest || days < shortest.days) shortest = { id, days, text: plan.period };
  }
  if (!shortest) return;
  const s = shortest;
  offsets.forEach((k, i) => {
    if (!Number.isInteger(k) || k < s.days) return;
    const where = r.days_before_end === undefined ? ['plans', s.id, 'period'] : ['settings', 'reminders', 'days_before_end', i];
    const what = r.days_before_end === undefined ? `reminders go out ${k} days before the end (the default [3, 1, 0])` : `a reminder ${k} day${k === 1 ? '' : 's'} before the end`;
    warn(
      where,
      `${what} is ${k === s.days ? 'as long as' : 'longer than'} plan "${s.id}" (${s.text}), so its customers get it right after paying — use fewer days than the shortest plan lasts, or set \`days_before_end\` without ${k}`,
    );
  });
}

/** Every creator text (titles, descriptions, deliveries, sections, own texts) with its path. */
function textsOf(file: CatalogFile): Array<{ segments: Array<string | number>; text: TextInput | undefined; builtIn?: boolean }> {
  const out: Array<{ segments: Array<string | number>; text: TextInput | undefined; builtIn?: boolean }> = [];
  for (const [id, ch] of Object.entries(file.channels)) out.push({ segments: ['channels', id, 'title'], text: ch.title });
  for (const [id, p] of Object.entries(file.plans ?? {})) {
    out.push({ segments: ['plans', id, 'title'], text: p.title }, { segments: ['plans', id, 'description'], text: p.description });
  }
  for (const [id, p] of Object.entries(file.products ?? {})) {
    out.push(
      { segments: ['products', id, 'title'], text: p.title },
      { segments: ['products', id, 'description'], text: p.description },
      { segments: ['products', id, 'deliver', 'text'], text: p.deliver.text },
    );
  }
  (file.menu ?? []).forEach((entry, i) => {
    if (typeof entry !== 'string') out.push({ segments: ['menu', i, 'section'], text: entry.section });
  });
  for (const [key, text] of Object.entries(file.texts ?? {})) out.push({ segments: ['texts', key], text, builtIn: true });
  return out;
}

function checkTranslations(file: CatalogFile, languages: Language[], defaultLanguage: Language, warn: Report): void {
  const or = (list: string[]) => (list.length === 1 ? list[0]! : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`);
  for (const { segments, text, builtIn } of textsOf(file)) {
    if (text === undefined || typeof text === 'string') continue;
    const given = LANGUAGES.filter((l) => typeof text[l] === 'string');
    if (given.length === 0) continue; // an empty group: the schema reports it
    const missing = languages.filter((l) => typeof text[l] !== 'string');
    if (missing.length === 0) continue;
    // As the bot picks a text (texts.ts): the default language's version, else the first written;
    // an own text without the default language gives way to the built-in text.
    const fallback = typeof text[defaultLanguage] === 'string' ? defaultLanguage : builtIn ? undefined : given[0]!;
    const shown =
      fallback !== undefined
        ? `the ${fallback} text instead`
        : `the bot's built-in ${missing.length === 1 ? `${missing[0]} text` : 'texts'} instead of yours`;
    warn(
      segments,
      `no ${or(missing)} translation — customers who chose ${or(missing)} see ${shown}; add ${missing.map((l) => `${l}: "…"`).join(' and ')}`,
    );
  }
}

/** `menu`: the ids the menu lists, when it is written out (else every item not hidden is in it). */
function checkButtons(
  file: CatalogFile,
  root: Record<string, unknown>,
  languages: Language[],
  defaultLanguage: Language,
  menu: ReadonlySet<string> | undefined,
  warn: Report,
): void {
  const length = (s: string) => [...s].length;
  const inLanguage = (t: TextInput | undefined, lang: Language): string | undefined =>
    t === undefined ? undefined : typeof t === 'string' ? t : (t[lang] ?? t[defaultLanguage] ?? LANGUAGES.map((l) => t[l]).find((v) => v !== undefined));
  const tooLong = (label: string) => `this button reads "${label}" (${length(label)} characters) — Telegram shows about ${BUTTON_LABEL_LIMIT} on a phone and cuts the rest; shorten it`;

  // A menu button is the item's title and its prices (browse.ts): "Channel for 1 month · 4 900 ₸ / 250 ⭐".
  const settings = isRecord(root.settings) ? root.settings : {};
  const payments = Array.isArray(settings.payments) ? settings.payments.filter((m) => m === 'kaspi' || m === 'stars') : ['kaspi'];
  const starsOf = (section: string, id: string) => {
    const items = root[section];
    const item = isRecord(items) ? items[id] : undefined;
    return isRecord(item) && Number.isInteger(item.stars) ? (item.stars as number) : undefined;
  };
  const prices = (price: number, stars: number | undefined) =>
    payments
      .filter((m) => m === 'kaspi' || stars !== undefined)
      .map((m) => (m === 'stars' ? formatStars(stars!) : formatMoney(price)))
      .join(' / ');
  const items = [
    ...Object.entries(file.plans ?? {}).map(([id, p]) => ({ id, segments: ['plans', id, 'title'], title: p.title, price: p.price, shown: prices(p.price, starsOf('plans', id)), hidden: p.hidden })),
    ...Object.entries(file.products ?? {}).map(([id, p]) => ({ id, segments: ['products', id, 'title'], title: p.title, price: p.price, shown: prices(p.price, starsOf('products', id)), hidden: p.hidden })),
  ];
  for (const item of items) {
    if (item.hidden || item.title === undefined || (menu && !menu.has(item.id))) continue;
    const versions: Array<[Array<string | number>, string]> =
      typeof item.title === 'string'
        ? [[item.segments, item.title]]
        : languages.filter((l) => typeof (item.title as Record<string, unknown>)[l] === 'string').map((l) => [[...item.segments, l], (item.title as Record<string, string>)[l]!]);
    for (const [segments, title] of versions) {
      const label = `${title} · ${item.shown}`;
      if (length(label) > BUTTON_LABEL_LIMIT) {
        warn(segments, `the menu button reads "${label}" (${length(label)} characters) — Telegram shows about ${BUTTON_LABEL_LIMIT} on a phone and cuts the rest; shorten the title`);
      }
    }
  }

  // Own button texts, with their placeholders filled in as long as they can get.
  const longest = (titles: Array<TextInput | undefined>, lang: Language) =>
    titles.map((t) => inLanguage(t, lang) ?? '').reduce((a, b) => (length(b) > length(a) ? b : a), '');
  const highest = Math.max(0, ...items.map((i) => i.price));
  const trialDays = Object.values(file.plans ?? {}).map((p) => p.trial_days ?? 0);
  for (const [key, text] of Object.entries(file.texts ?? {})) {
    if (!key.startsWith('button_')) continue;
    const versions: Array<[Array<string | number>, string, Language]> =
      typeof text === 'string'
        ? languages.map((l) => [['texts', key], text, l])
        : languages.filter((l) => typeof text[l] === 'string').map((l) => [['texts', key, l], text[l]!, l]);
    for (const [segments, template, lang] of versions) {
      const vars: Record<string, string> = {
        price: formatMoney(highest),
        days: String(Math.max(0, ...trialDays)),
        plan: longest(Object.values(file.plans ?? {}).map((p) => p.title), lang),
        item: longest(items.map((i) => i.title), lang),
      };
      const label = template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
      if (length(label) > BUTTON_LABEL_LIMIT) {
        warn(segments, tooLong(label));
        if (typeof text === 'string') break; // one string for all languages: once is enough
      }
    }
  }
}
