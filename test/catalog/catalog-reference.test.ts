import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  catalogReference,
  END_MARKER,
  README_HEADING,
  referenceIn,
  START_MARKER,
  withReference,
} from '../../src/cli/catalog-reference.js';
import { projectRoot } from '../../src/project-root.js';

type Schema = Record<string, unknown>;

const loadSchema = (name: string) => JSON.parse(readFileSync(join(projectRoot, 'schemas', name), 'utf8')) as Schema;

/** Every entry of every `properties` in a schema, anywhere (items, oneOf, additionalProperties, $defs...), as path → schema. */
function allProperties(node: unknown, path: string, out: Array<[string, Schema]> = []): Array<[string, Schema]> {
  if (Array.isArray(node)) {
    node.forEach((n, i) => allProperties(n, `${path}[${i}]`, out));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node as Schema)) {
      if (key === 'properties' && value !== null && typeof value === 'object') {
        for (const [name, prop] of Object.entries(value as Schema)) {
          out.push([`${path}.${name}`, prop as Schema]);
          allProperties(prop, `${path}.${name}`, out);
        }
      } else {
        allProperties(value, `${path}/${key}`, out);
      }
    }
  }
  return out;
}

describe('catalog.yaml reference in README.md', () => {
  it('README.md holds the current reference (run `npm run docs` to regenerate)', () => {
    const path = join(projectRoot, 'README.md');
    const readme = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const block = referenceIn(readme);
    expect(block, `README.md lacks the ${START_MARKER} … ${END_MARKER} block — run \`npm run docs\` to regenerate it`).toBeDefined();
    expect(block, 'The catalog.yaml reference in README.md is out of date — run `npm run docs` to regenerate it').toBe(catalogReference());
  });

  it.each([
    ['catalog.schema.json', loadSchema('catalog.schema.json')],
    ['texts.schema.json', loadSchema('texts.schema.json')],
  ])('every property in %s has a description', (_name, schema) => {
    const props = allProperties(schema, '#');
    expect(props.length).toBeGreaterThan(10);
    const undescribed = props.filter(([, p]) => typeof p.description !== 'string' || p.description.trim() === '').map(([path]) => path);
    expect(undescribed).toEqual([]);
  });

  it('documents every settings field, every section entry field and every text key', () => {
    const reference = catalogReference();
    const catalog = loadSchema('catalog.schema.json') as { properties: Record<string, Schema> };
    const texts = loadSchema('texts.schema.json') as { properties: Record<string, Schema> };
    const fieldsOf = (s: unknown) => Object.keys(((s as Schema | undefined)?.properties ?? {}) as Schema);
    const settings = catalog.properties.settings!;
    for (const field of fieldsOf(settings)) expect(reference).toContain(`| \`${field}\``);
    const reminders = (settings.properties as Record<string, Schema>).reminders;
    for (const field of fieldsOf(reminders)) expect(reference).toContain(`| \`reminders.${field}\``);
    for (const section of ['channels', 'plans', 'products', 'promo_codes']) {
      const entry = catalog.properties[section]!.additionalProperties;
      for (const field of fieldsOf(entry)) expect(reference).toContain(`| \`${field}\``);
    }
    for (const key of Object.keys(texts.properties)) {
      expect(reference).toContain(`| \`${key}\` | `);
    }
    for (const heading of ['### `settings`', '### `channels.<id>`', '### `plans.<id>`', '### `products.<id>`', '### `promo_codes.<CODE>`', '### `menu`', '### `texts`']) {
      expect(reference).toContain(heading);
    }
    // No raw HTML outside code spans: Markdown would swallow t.me/bot?start=<id> as a tag.
    expect(reference.replace(/`[^`]*`/g, '')).not.toMatch(/<[a-z/]/i);
  });
});

describe('withReference (README.md update)', () => {
  const block = (ref: string) => `${START_MARKER}\n${ref}\n${END_MARKER}`;

  it('creates a README with the heading and the block when there is none', () => {
    expect(withReference(undefined, 'REF')).toBe(`${README_HEADING}\n\n${block('REF')}\n`);
  });

  it('appends the heading and the block to a README without markers', () => {
    expect(withReference('# Bot\n\nIntro.\n', 'REF')).toBe(`# Bot\n\nIntro.\n\n${README_HEADING}\n\n${block('REF')}\n`);
  });

  it('replaces only what is between the markers, and is stable when run twice', () => {
    const readme = `# Bot\n\n${README_HEADING}\n\n${block('OLD')}\n\n## After\n`;
    const once = withReference(readme, 'NEW');
    expect(once).toBe(`# Bot\n\n${README_HEADING}\n\n${block('NEW')}\n\n## After\n`);
    expect(withReference(once, 'NEW')).toBe(once);
    expect(referenceIn(once)).toBe('NEW');
  });
});
