import type { SchemaError } from './schema-validator.js';
import { closest } from './problem.js';
import { CALLBACK_DATA_LIMIT, longestCallbackData } from './callback-data-size.js';
import { looksLikePhone, PHONE_NOT_ID } from './semantic-checks.js';

/** A schema error turned into words: where (path segments, key or value) and what to do. */
export interface Explained {
  segments: Array<string | number>;
  /** Point at the key (unknown fields, bad ids) rather than the value. */
  atKey: boolean;
  message: string;
}

/** Examples for a missing top-level section, where `channels` is a group of channels, not a list. */
const SECTION_EXAMPLES: Record<string, string> = {
  settings: 'settings: { bot_name: "My Academy" }',
  channels: 'channels: { main: { chat_id: -1001234567890, title: "My channel" } }',
};

const EXAMPLES: Record<string, string> = {
  bot_name: 'bot_name: "My Academy"',
  channels: 'channels: [main]',
  chat_id: 'chat_id: -1001234567890',
  title: 'title: "1 month"',
  price: 'price: 4900',
  period: 'period: 1m',
  deliver: 'deliver: { link: "https://..." }',
  items: 'items: [monthly]',
  from: 'from: "22:00"',
  to: 'to: "09:00"',
};

const PATTERN_HINTS: Array<[RegExp, (value: string) => string]> = [
  [/\$defs\/period\//, (v) => `"${v}" is not a period — write 30d (days), 2w (weeks), 1m or 12m (months) or 1y (a year)`],
  [/\$defs\/duration\//, (v) => `"${v}" is not a duration — write 30min, 12h or 1d`],
  [/\$defs\/timeOfDay\//, (v) => `"${v}" is not a time — write HH:MM in 24-hour time, like "10:00"`],
  [/\$defs\/date\//, (v) => `"${v}" is not a date — write YYYY-MM-DD, like 2026-12-31`],
  [/\$defs\/id\//, (v) => `"${v}" is not a valid id — use only Latin letters, digits, _ and -, like monthly_plan`],
  [/\/link\//, (v) => `"${v}" is not a web link — it must start with https://`],
];

function describe(value: unknown): string {
  if (value === null) return 'empty';
  if (typeof value === 'string') return `"${value}"`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a group of fields';
  return String(value);
}

function segmentsOf(instancePath: string): Array<string | number> {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The oneOf branch worth explaining, judged from the value; undefined = explain the oneOf itself. */
function chooseBranch(schemaPath: string, data: unknown): number | undefined {
  if (schemaPath.endsWith('$defs/text/oneOf')) return data !== null && typeof data === 'object' && !Array.isArray(data) ? 1 : undefined;
  if (schemaPath.endsWith('menu/items/oneOf')) {
    if (typeof data === 'string') return 0;
    if (data !== null && typeof data === 'object' && !Array.isArray(data)) return 1;
  }
  return undefined;
}

/** The id rules of `$defs/id` and promo codes, said as a fix; a too long id gets its length. */
function badIdMessage(name: string, segments: Array<string | number>): string {
  const length = [...name].length;
  if (segments[0] === 'promo_codes') {
    return `"${name}" can't be a promo code — use 3 to 32 Latin letters, digits, _ or -, like WELCOME10`;
  }
  if (/^[A-Za-z0-9_-]+$/.test(name)) {
    // Plan and product ids ride in Telegram button data, which is shorter than the id pattern allows.
    const max = segments[0] === 'plans' || segments[0] === 'products' ? CALLBACK_DATA_LIMIT - longestCallbackData('') : 64;
    return `the id "${name}" is ${length} characters long — use at most ${max} characters`;
  }
  return `"${name}" can't be an id — use only Latin letters, digits, _ and -, like monthly_plan`;
}

function explainOneOf(error: SchemaError): string {
  if (error.schemaPath.endsWith('$defs/text/oneOf'))
    return `must be a text — write "your text" in quotes, or one per language: { ru: "...", kk: "...", en: "..." }`;
  if (error.schemaPath.includes('promo_codes')) {
    const promo = error.data !== null && typeof error.data === 'object' ? (error.data as Record<string, unknown>) : {};
    return 'percent' in promo && 'amount' in promo
      ? 'has both `percent` and `amount` — keep only one of them'
      : 'has no discount — add `percent: 10` (percent off) or `amount: 1000` (tenge off)';
  }
  if (error.schemaPath.includes('menu'))
    return `${describe(error.data)} is not a menu entry — write an item id, or a section: { section: "Title", items: [monthly] }`;
  return 'does not match any allowed form — see the schema description';
}

/**
 * The whole number a creator meant by a text like "4 900 ₸", "7,900", "1,500.00", "₸7900" or
 * "４９００" (full-width digits), or undefined when it is not one.
 */
function meantWholeNumber(text: string): string | undefined {
  let t = text
    .normalize('NFKC')
    .replace(/[\s\u00a0\u202f]/g, '')
    .replace(/^(₸|kzt)/i, '')
    .replace(/(₸|тг|tg|kzt|тенге|tenge)\.?$/i, '')
    .replace(/[.,]0{1,2}$/, ''); // 1500.00 → 1500
  if (/^-?\d{1,3}([.,]\d{3})+$/.test(t)) t = t.replace(/[.,]/g, ''); // thousands separators
  if (/^-?\d+$/.test(t)) return t;
  // "3 days": the number, when nothing else in the text is a digit.
  const lead = t.match(/^-?\d+/)?.[0];
  return lead !== undefined && !/\d/.test(t.slice(lead.length)) ? lead : undefined;
}

const CHAT_ID_HINT = 'a channel is listed by its numeric chat id, like -1001234567890 — add the bot to the channel as an admin and it sends you the id';

function explainType(error: SchemaError, segments: Array<string | number>): string {
  const expected = String(error.params.type);
  const value = error.data;
  const field = segments[segments.length - 1];
  if (segments[0] === 'settings' && segments[1] === 'admins' && typeof value === 'string' && looksLikePhone(value)) {
    return `"${value}" ${PHONE_NOT_ID}`;
  }
  if (segments[0] === 'settings' && segments[1] === 'admins' && typeof value === 'string') {
    return `"${value}" is not a numeric Telegram id — admins are listed by number, not @username: ask each admin to send /whoami to the bot and paste the number it answers`;
  }
  if (segments[0] === 'channels' && field === 'chat_id' && typeof value === 'string' && meantWholeNumber(value) === undefined) {
    return `"${value}" is not a chat id — ${CHAT_ID_HINT}`;
  }
  if (expected === 'integer' || expected === 'number') {
    if (typeof value === 'string') {
      const digits = meantWholeNumber(value);
      if (digits) return `"${value}" must be a plain number — write ${digits} (no spaces, quotes or currency)`;
    }
    if (typeof value === 'number') {
      // YAML reads 7.900 as 7.9: in a price that is a thousands separator, not a fraction.
      const money = field === 'price' || field === 'amount';
      const thousands = Math.round(value * 1000);
      if (money && value < 1000 && Math.abs(thousands - value * 1000) < 1e-6) {
        return `${value} must be a whole number of tenge, without dots or commas — write ${Math.round(value)}, or ${thousands} if the dot separated thousands`;
      }
      return `${value} must be a whole number — remove the fraction`;
    }
    return `${describe(value)} must be a whole number`;
  }
  if (expected === 'boolean') return `${describe(value)} must be true or false`;
  if (expected === 'string' && typeof value === 'number') {
    if (error.schemaPath.includes('$defs/period')) return `${value} is not a period — write ${value}d for days, or 1m, 3m, 1y for months and years`;
    if (error.schemaPath.includes('$defs/duration')) return `${value} is not a duration — write ${value}min, ${value}h or ${value}d`;
  }
  if (expected === 'string') return `${describe(value)} must be text — put it in quotes`;
  if (expected === 'array') return `${describe(value)} must be a list — write [first, second] or one "- item" per line`;
  if (expected === 'object') return `${describe(value)} must be a group of fields — write "key: value" lines indented below it`;
  return `must be ${expected}`;
}

function allowedKeys(error: SchemaError): string[] {
  const props = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props).filter((k) => k !== '$schema') : [];
}

function explainOne(error: SchemaError): Explained {
  let segments = segmentsOf(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const propertyName = (error as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    segments = [...segments, propertyName];
    return { segments, atKey: true, message: badIdMessage(propertyName, segments) };
  }
  switch (error.keyword) {
    case 'required': {
      const field = String(params.missingProperty);
      const example = (segments.length === 0 ? SECTION_EXAMPLES[field] : undefined) ?? EXAMPLES[field];
      return {
        segments: [...segments, field],
        atKey: true,
        message: `\`${field}\` is missing — add it${example ? `, e.g. ${example}` : ''}`,
      };
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const allowed = allowedKeys(error);
      const guess = closest(field, allowed);
      const inTexts = segments[0] === 'texts' && segments.length === 1;
      const what = inTexts ? 'text' : segments.length === 0 ? 'section' : 'field';
      const fix = guess
        ? `did you mean \`${guess}\`?`
        : inTexts
          ? 'see the list of texts in README.md or remove it'
          : `remove it; allowed here: ${allowed.join(', ')}`;
      return { segments: [...segments, field], atKey: true, message: `unknown ${what} \`${field}\` — ${fix}` };
    }
    case 'type':
      return { segments, atKey: false, message: explainType(error, segments) };
    case 'pattern': {
      const hint = PATTERN_HINTS.find(([re]) => re.test(error.schemaPath));
      const value = String(error.data);
      return { segments, atKey: false, message: hint ? hint[1](value) : `"${value}" has the wrong format (${String(params.pattern)})` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const guess = typeof error.data === 'string' ? closest(error.data, allowed) : undefined;
      return {
        segments,
        atKey: false,
        message: `${describe(error.data)} is not allowed — ${guess ? `did you mean ${guess}? ` : ''}choose one of: ${allowed.join(', ')}`,
      };
    }
    case 'minimum':
      return { segments, atKey: false, message: `${describe(error.data)} is too small — use at least ${String(params.limit)}` };
    case 'maximum':
      return { segments, atKey: false, message: `${describe(error.data)} is too large — use at most ${String(params.limit)}` };
    case 'minItems':
      return { segments, atKey: false, message: `the list is empty — add at least ${String(params.limit)} entry` };
    case 'uniqueItems':
      return {
        segments: [...segments, Number(params.i)],
        atKey: false,
        message: `this entry appears twice in the list — remove one of them`,
      };
    case 'minProperties': {
      const last = segments[segments.length - 1];
      const hint =
        last === 'channels'
          ? 'add at least one channel with its chat_id and title'
          : last === 'deliver'
            ? 'say what the customer receives: text, link, file or channels'
            : 'add at least one language: ru, kk or en';
      return { segments, atKey: false, message: `is empty — ${hint}` };
    }
    case 'minLength':
      return { segments, atKey: false, message: 'is empty — write something, or remove the line' };
    case 'maxLength':
      return { segments, atKey: false, message: `is too long — keep it under ${String(params.limit)} characters` };
    case 'oneOf':
      return { segments, atKey: error.schemaPath.includes('promo_codes'), message: explainOneOf(error) };
    default:
      return { segments, atKey: false, message: error.message ?? 'is not valid' };
  }
}

/**
 * Turns ajv's raw errors into one explanation per real mistake: drops the noise of oneOf branches
 * that do not fit the value and the wrapper errors of propertyNames.
 */
export function explainSchemaErrors(errors: readonly SchemaError[]): Explained[] {
  const dropped = new Set<SchemaError>();
  for (const e of errors) {
    if (e.keyword === 'propertyNames') dropped.add(e);
    if (e.keyword !== 'oneOf') continue;
    const branch = chooseBranch(e.schemaPath, e.data);
    // A branch that is a $ref reports errors on the value itself under the referenced schema's path, e.g. #/$defs/id/type.
    const refs = (Array.isArray(e.schema) ? (e.schema as Array<{ $ref?: unknown } | null>) : []).map((b) => b?.$ref);
    const branchOf = (other: SchemaError) =>
      refs.findIndex(
        (ref, i) =>
          other.schemaPath.startsWith(`${e.schemaPath}/${i}/`) ||
          (typeof ref === 'string' && ref.startsWith('#') && other.instancePath === e.instancePath && other.schemaPath.startsWith(`${ref}/`)),
      );
    const inside = (other: SchemaError) =>
      other !== e &&
      (other.schemaPath.startsWith(e.schemaPath + '/') || branchOf(other) >= 0) &&
      (other.instancePath === e.instancePath || other.instancePath.startsWith(e.instancePath + '/'));
    for (const other of errors) {
      if (!inside(other)) continue;
      const keep = branch !== undefined && branchOf(other) === branch;
      if (!keep) dropped.add(other);
    }
    if (branch !== undefined) dropped.add(e);
  }
  // A misspelt field also leaves the real one missing: "did you mean `price`?" says both, so drop "`price` is missing".
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const guess = closest(String(e.params.additionalProperty), allowedKeys(e));
    for (const other of errors) {
      if (other.keyword === 'required' && other.instancePath === e.instancePath && other.params.missingProperty === guess) dropped.add(other);
    }
  }
  return errors.filter((e) => !dropped.has(e)).map(explainOne);
}
