import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../project-root.js';
import { LANGUAGES, type Catalog, type Language, type TextInput } from './types.js';

export type TextKey = string;
export type DefaultTexts = Readonly<Record<Language, Readonly<Record<TextKey, string>>>>;

let defaults: DefaultTexts | undefined;
const builtIn: Partial<Record<Language, Readonly<Record<TextKey, string>>>> = {};

/** The built-in texts of one language, from config/texts/<lang>.yaml, read once. Throws if the file is missing. */
function builtInTexts(lang: Language): Readonly<Record<TextKey, string>> {
  return (builtIn[lang] ??= parse(readFileSync(join(projectRoot, 'config', 'texts', `${lang}.yaml`), 'utf8')) as Record<string, string>);
}

/** The built-in texts from config/texts/<lang>.yaml, read once. Throws if a file is missing. */
export function defaultTexts(): DefaultTexts {
  defaults ??= { ru: builtInTexts('ru'), kk: builtInTexts('kk'), en: builtInTexts('en') };
  return defaults;
}

const PLACEHOLDER = /\{([a-z_]+)\}/g;

/** Placeholder names used in a string: "Hi {name}" → ["name"]. */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Placeholders every text may use, besides those of its built-in English version. */
const COMMON_PLACEHOLDERS = ['bot_name'];

/** Placeholders a text key accepts; undefined for an unknown key. */
export function allowedPlaceholders(key: TextKey): string[] | undefined {
  const en = builtInTexts('en')[key]; // only English: validating reads one file, not three
  return en === undefined ? undefined : [...new Set([...placeholdersOf(en), ...COMMON_PLACEHOLDERS])];
}

/** Picks a language's version of a creator's text, falling back to the default language, then any. */
export function localize(text: TextInput | undefined, lang: Language, fallback: Language): string {
  if (text === undefined) return '';
  if (typeof text === 'string') return text;
  return text[lang] ?? text[fallback] ?? LANGUAGES.map((l) => text[l]).find((t) => t !== undefined) ?? '';
}

/** Fills {placeholders}; unknown ones are left as written. */
export function fill(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/**
 * The text `key` in `lang`: the catalog's override if it has one (its default-language version
 * when this language is missing), else the built-in text. Placeholders are filled from `vars`.
 */
export function text(
  catalog: Catalog,
  lang: Language,
  key: TextKey,
  vars: Readonly<Record<string, string | number>> = {},
): string {
  const override = catalog.texts[key];
  const template =
    override !== undefined &&
    (typeof override === 'string' || override[lang] !== undefined || override[catalog.settings.defaultLanguage] !== undefined)
      ? localize(override, lang, catalog.settings.defaultLanguage)
      : (defaultTexts()[lang][key] ?? defaultTexts().en[key] ?? key);
  return fill(template, { bot_name: catalog.settings.botName, ...vars });
}
