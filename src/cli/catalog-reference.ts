import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../project-root.js';

/**
 * The catalog.yaml reference for README.md, built from the descriptions in
 * schemas/catalog.schema.json and schemas/texts.schema.json, so the documentation and the
 * validator cannot drift apart. `node dist/src/cli/catalog-reference.js --write` (npm run docs)
 * puts it between the markers in README.md; without --write it prints it.
 */

export const START_MARKER = '<!-- catalog-reference:start -->';
export const END_MARKER = '<!-- catalog-reference:end -->';
export const README_HEADING = '## catalog.yaml reference';

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  propertyNames?: Schema;
  items?: Schema;
  oneOf?: Schema[];
  enum?: unknown[];
  $ref?: string;
  $defs?: Record<string, Schema>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  uniqueItems?: boolean;
  pattern?: string;
}

/**
 * Words for the `$defs` whose rule is a pattern, which cannot be read off the schema.
 * A new pattern `$def` without words here makes catalogReference() throw, so it is never
 * documented as plain "text".
 */
const FORMATS: Record<string, string> = {
  id: 'an id: Latin letters, digits, `_` and `-`',
  text: 'a text: `"…"` for all languages, or one per language `{ ru: "…", kk: "…", en: "…" }`',
  period: 'a period: `30d` (days), `2w` (weeks), `1m` or `12m` (months), `1y` (years)',
  duration: 'a duration: `30min`, `12h` or `1d`',
  timeOfDay: 'a time of day `HH:MM` (24-hour) in quotes, like `"10:00"`',
  date: 'a date `YYYY-MM-DD`, like `2026-12-31`',
};

function loadSchemas(): { catalog: Schema; texts: Schema } {
  const load = (name: string) => JSON.parse(readFileSync(join(projectRoot, 'schemas', name), 'utf8')) as Schema;
  return { catalog: load('catalog.schema.json'), texts: load('texts.schema.json') };
}

/** Markdown for table cells and prose: no raw |, no HTML tags swallowed by the renderer. */
function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function describe(schema: Schema, where: string): string {
  if (!schema.description?.trim()) throw new Error(`${where} has no description in the schema`);
  return escape(schema.description.trim());
}

class Reference {
  constructor(
    private readonly catalog: Schema,
    private readonly texts: Schema,
  ) {}

  /** The schema a $ref points to, with the name of the $def (undefined for a whole file). */
  private resolve(ref: string): { schema: Schema; def?: string } {
    const [file, pointer = ''] = ref.split('#');
    const root = file === 'texts.schema.json' ? this.texts : this.catalog;
    const def = /^\/\$defs\/([^/]+)$/.exec(pointer)?.[1];
    if (pointer === '') return { schema: root };
    const schema = def !== undefined ? root.$defs?.[def] : undefined;
    if (!schema) throw new Error(`cannot resolve $ref ${ref}`);
    return { schema, def };
  }

  /** What may be written as the value, in a few words. */
  value(schema: Schema): string {
    if (schema.$ref) {
      const { schema: target, def } = this.resolve(schema.$ref);
      if (def !== undefined && FORMATS[def]) return FORMATS[def];
      if (target.pattern !== undefined || target.oneOf) throw new Error(`add words for $defs/${def} to FORMATS in catalog-reference.ts`);
      return this.value(target);
    }
    if (schema.enum) return `one of ${schema.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
    if (schema.oneOf) return schema.oneOf.map((s) => this.value(s)).join(', or ');
    switch (schema.type) {
      case 'integer':
        return `a whole number${range(schema.minimum, schema.maximum)}`;
      case 'number':
        return `a number${range(schema.minimum, schema.maximum)}`;
      case 'boolean':
        return '`true` or `false`';
      case 'string':
        if (schema.pattern === '^https?://') return 'a web link `https://…`';
        return `text${schema.maxLength !== undefined ? `, up to ${schema.maxLength} characters` : ''}`;
      case 'array': {
        const notes = [schema.minItems ? `at least ${schema.minItems}` : '', schema.uniqueItems ? 'no repeats' : ''].filter(Boolean);
        return `list \`[…]\`, each item ${schema.items ? this.value(schema.items) : 'anything'}${notes.length ? ` — ${notes.join(', ')}` : ''}`;
      }
      case 'object':
        return schema.properties ? 'group of fields, listed below' : 'group of fields';
      default:
        throw new Error(`no words for a schema of type ${String(schema.type)}`);
    }
  }

  /** Table rows for an object's fields; nested groups are followed by their own fields, as `group.field`. */
  rows(schema: Schema, prefix: string, where: string): string[] {
    const out: string[] = [];
    for (const [name, raw] of Object.entries(schema.properties ?? {})) {
      if (name === '$schema') continue;
      const field = `${prefix}${name}`;
      const target = raw.$ref ? this.resolve(raw.$ref).schema : raw;
      const required = schema.required?.includes(name) ? ' **(required)**' : '';
      out.push(`| \`${field}\`${required} | ${escape(this.value(raw))} | ${describe(raw, `${where}.${name}`)} |`);
      if (target.type === 'object' && target.properties && !raw.$ref) out.push(...this.rows(target, `${field}.`, `${where}.${name}`));
    }
    return out;
  }

  table(schema: Schema, where: string): string[] {
    return ['| Field | Value | What it does |', '| --- | --- | --- |', ...this.rows(schema, '', where)];
  }

  /** A section keyed by ids the creator chooses: channels.<id>, plans.<id>, products.<id>, promo_codes.<CODE>. */
  keyedSection(name: string, key: string): string[] {
    const section = this.catalog.properties?.[name];
    const entry = section?.additionalProperties;
    if (!section || typeof entry !== 'object') throw new Error(`schema has no keyed section ${name}`);
    const required = this.catalog.required?.includes(name) ? ' (required)' : '';
    return [
      `### \`${name}.${key}\`${required}`,
      '',
      describe(section, name),
      '',
      `**Each \`${key}\`:** ${describe(entry, `${name}.${key}`)}`,
      '',
      ...this.table(entry, `${name}.${key}`),
      '',
    ];
  }

  build(): string {
    const root = this.catalog;
    const props = root.properties ?? {};
    const settings = props.settings;
    const menu = props.menu;
    const textsSection = props.texts;
    if (!settings || !menu || !textsSection) throw new Error('schema lacks settings, menu or texts');
    const sections = Object.keys(props).filter((k) => k !== '$schema');
    const required = new Set(root.required ?? []);

    const out: string[] = [
      '_Generated from `schemas/catalog.schema.json` and `schemas/texts.schema.json` by `npm run docs`: change the schema, not this section._',
      '',
      describe(root, 'catalog'),
      '',
      `The file has these sections: ${sections.map((s) => `\`${s}\`${required.has(s) ? ' (required)' : ''}`).join(', ')}. ` +
        'Any text can be one string for all languages, or one per language: `{ ru: "…", kk: "…", en: "…" }`.',
      '',
      `### \`settings\`${required.has('settings') ? ' (required)' : ''}`,
      '',
      describe(settings, 'settings'),
      '',
      ...this.table(settings, 'settings'),
      '',
      ...this.keyedSection('channels', '<id>'),
      ...this.keyedSection('plans', '<id>'),
      ...this.keyedSection('products', '<id>'),
      ...this.keyedSection('promo_codes', '<CODE>'),
      '### `menu`',
      '',
      describe(menu, 'menu'),
      '',
      'Each entry of the list is one of:',
      '',
    ];
    for (const [i, branch] of (menu.items?.oneOf ?? []).entries()) {
      out.push(`${i + 1}. ${describe(branch, `menu entry ${i + 1}`)} Value: ${escape(this.value(branch))}.`);
      if (branch.properties) out.push('', ...this.table(branch, `menu entry ${i + 1}`).map((line) => `   ${line}`));
    }
    const texts = this.resolve(textsSection.$ref ?? '').schema;
    out.push(
      '',
      '### `texts`',
      '',
      describe(textsSection, 'texts'),
      '',
      describe(texts, 'texts.schema.json'),
      '',
      '| Text | Where customers see it, and its placeholders |',
      '| --- | --- |',
      ...Object.entries(texts.properties ?? {}).map(([key, s]) => `| \`${key}\` | ${describe(s, `texts.${key}`)} |`),
    );
    return out.join('\n');
  }
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `, ${min} to ${max}`;
  if (min !== undefined) return `, at least ${min}`;
  if (max !== undefined) return `, at most ${max}`;
  return '';
}

/** The Markdown reference of catalog.yaml (without the surrounding markers). */
export function catalogReference(): string {
  const { catalog, texts } = loadSchemas();
  return new Reference(catalog, texts).build();
}

/**
 * README.md's text with the reference between the markers: replaced in place when the markers
 * exist, else appended under a heading (the whole file when there is no README yet).
 */
export function withReference(readme: string | undefined, reference: string): string {
  const block = `${START_MARKER}\n${reference}\n${END_MARKER}`;
  if (readme !== undefined) {
    const start = readme.indexOf(START_MARKER);
    const end = readme.indexOf(END_MARKER, start + START_MARKER.length);
    if (start >= 0 && end >= 0) return readme.slice(0, start) + block + readme.slice(end + END_MARKER.length);
  }
  const before = readme === undefined || readme.trim() === '' ? '' : `${readme.replace(/\s*$/, '')}\n\n`;
  return `${before}${README_HEADING}\n\n${block}\n`;
}

/** The text between the markers in a README, or undefined when they are missing. */
export function referenceIn(readme: string): string | undefined {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER, start + START_MARKER.length);
  if (start < 0 || end < 0) return undefined;
  return readme.slice(start + START_MARKER.length, end).replace(/^\n/, '').replace(/\n$/, '');
}

function main(argv: string[]): number {
  const reference = catalogReference();
  if (!argv.includes('--write')) {
    console.log(reference);
    return 0;
  }
  const path = join(projectRoot, 'README.md');
  const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  const after = withReference(before, reference);
  if (after === before) {
    console.log('README.md: the catalog.yaml reference is up to date.');
  } else {
    writeFileSync(path, after);
    console.log('README.md: the catalog.yaml reference was updated.');
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(`Could not build the catalog.yaml reference: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
