import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCatalog } from '../../src/catalog/load-catalog.js';
import { formatProblem } from '../../src/catalog/problem.js';
import { catalogValidator, EDITOR_KEYWORDS } from '../../src/catalog/schema-validator.js';
import { projectRoot } from '../../src/project-root.js';

/**
 * The editor-only keywords of schemas/catalog.schema.json (errorMessage, markdownDescription,
 * defaultSnippets…): ajv accepts them in strict mode, and they say what the rest of the schema says.
 * test/catalog/editor-lsp.test.ts checks what yaml-language-server makes of them.
 */

interface Snippet {
  label: string;
  description?: string;
  body?: unknown;
  bodyText?: string;
}

interface Schema {
  type?: string | string[];
  description?: string;
  markdownDescription?: string;
  errorMessage?: string;
  patternErrorMessage?: string;
  pattern?: string;
  enum?: unknown[];
  enumDescriptions?: string[];
  defaultSnippets?: Snippet[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
}

const load = (name: string) => JSON.parse(readFileSync(join(projectRoot, 'schemas', name), 'utf8')) as Schema;
const catalogSchema = load('catalog.schema.json');
const textsSchema = load('texts.schema.json');

/** Every schema object in a schema file (any depth, snippet bodies excluded), with a JSON-pointer-like path. */
function allNodes(node: unknown, path: string, out: Array<[string, Schema]> = []): Array<[string, Schema]> {
  if (Array.isArray(node)) node.forEach((n, i) => allNodes(n, `${path}/${i}`, out));
  else if (node !== null && typeof node === 'object') {
    out.push([path, node as Schema]);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'defaultSnippets' || key === 'enum') continue;
      // `properties` and `$defs` map names to schemas: the map itself is not one (a field may be called `description`).
      if (key === 'properties' || key === '$defs') {
        for (const [name, child] of Object.entries(value as object)) allNodes(child, `${path}/${key}/${name}`, out);
      } else allNodes(value, `${path}/${key}`, out);
    }
  }
  return out;
}

/** What a Markdown text says, without its markup; quotes too, as the plain text writes `1d` as "1d". */
const plain = (markdown: string) =>
  markdown
    .replace(/\*\*|`|"/g, '')
    .replace(/\\([\\_*[\]()#.!-])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();

describe('the editor keywords in ajv', () => {
  const compile = (schema: object) => {
    const ajv = new Ajv2020({ strict: true });
    ajv.addVocabulary(EDITOR_KEYWORDS);
    return ajv.compile(schema);
  };

  it('are annotations: the catalog schema compiles in strict mode and an errorMessage changes no verdict', () => {
    expect(catalogValidator()(parse(readFileSync(join(projectRoot, 'catalog.example.yaml'), 'utf8')))).toBe(true);
    const validate = compile({ type: 'integer', errorMessage: 'Not a price — write 4900.' });
    expect(validate(4900)).toBe(true);
    expect(validate('4900')).toBe(false);
    expect(validate.errors?.[0]?.message).toBe('must be integer');
  });

  it('still refuses a misspelt keyword, and an ajv-errors style errorMessage that editors would not show', () => {
    expect(() => compile({ type: 'integer', errorMesage: 'x' })).toThrow('strict mode: unknown keyword: "errorMesage"');
    expect(() => compile({ type: 'integer', errorMessage: { type: 'x' } })).toThrow('keyword "errorMessage" value is invalid');
    expect(() => compile({ type: 'string', defaultSnippets: [{ label: 'no body' }] })).toThrow('keyword "defaultSnippets" value is invalid');
  });
});

describe('catalog.schema.json for editors', () => {
  const nodes = [...allNodes(catalogSchema, '#'), ...allNodes(textsSchema, 'texts#')];

  it('every markdownDescription says what its description says (the README shows the description)', () => {
    const withMarkdown = nodes.filter(([, n]) => n.markdownDescription !== undefined);
    expect(withMarkdown.length).toBeGreaterThan(15);
    const differing = withMarkdown
      // The first paragraph is the description with Markdown; an example may follow.
      .filter(([, n]) => plain(n.markdownDescription!.split('\n\n')[0]!) !== plain(n.description ?? ''))
      .map(([path, n]) => `${path}: "${n.description}" vs "${n.markdownDescription}"`);
    expect(differing).toEqual([]);
  });

  it('every description with Markdown has a markdownDescription, so that the hover shows it formatted, not with backticks', () => {
    expect(nodes.filter(([, n]) => n.description?.includes('`') && n.markdownDescription === undefined).map(([path]) => path)).toEqual([]);
  });

  it('every pattern, list of values, whole number and true/false has a plain message for the editor', () => {
    const needsWords = (n: Schema) => n.pattern !== undefined || n.enum !== undefined || [n.type].flat().some((t) => t === 'integer' || t === 'boolean');
    const checked = nodes.filter(([, n]) => needsWords(n));
    expect(checked.length).toBeGreaterThan(25);
    expect(checked.filter(([, n]) => !n.errorMessage && !n.patternErrorMessage).map(([path]) => path)).toEqual([]);
    for (const [path, n] of checked) {
      for (const message of [n.errorMessage, n.patternErrorMessage].filter((m) => m !== undefined)) {
        expect(message, path).toMatch(/^[A-Z].*\.$/);
        if (n.pattern) expect(message, path).not.toContain(n.pattern);
      }
    }
  });

  it('every enumDescriptions has one description per value', () => {
    const described = nodes.filter(([, n]) => n.enumDescriptions !== undefined);
    expect(described.map(([path]) => path)).toEqual(expect.arrayContaining(['#/properties/settings/properties/access_mode', '#/$defs/language']));
    for (const [path, n] of described) expect(n.enumDescriptions?.length, path).toBe(n.enum?.length);
  });
});

/** The snippet as a creator accepts it in the editor: every placeholder at its default, every choice at its first. */
function accepted(snippet: Snippet): unknown {
  const fill = (text: string) =>
    text
      .replace(/\$\{\d+\|([^,|]*)[^}]*\|\}/g, '$1')
      .replace(/\$\{\d+:([^}]*)\}/g, '$1')
      .replace(/\$\d+/g, '');
  // yaml-language-server writes a string body starting with ^ as it is (a number, a [list], "quotes").
  const value = (body: unknown): unknown => {
    if (typeof body === 'string') return body.startsWith('^') ? parse(fill(body.slice(1))) : fill(body);
    if (Array.isArray(body)) return body.map(value);
    if (body !== null && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [fill(k), value(v)]));
    return body;
  };
  return snippet.bodyText !== undefined ? parse(fill(snippet.bodyText)) : value(snippet.body);
}

/** Every snippet with the data path it is offered at; `*` is an entry of a keyed section (a plan, a channel…). */
function snippetsOf(node: Schema, path: string[], out: Array<{ path: string[]; node: Schema; snippet: Snippet }> = []) {
  for (const snippet of node.defaultSnippets ?? []) out.push({ path, node, snippet });
  for (const [name, child] of Object.entries(node.properties ?? {})) snippetsOf(child, [...path, name], out);
  if (typeof node.additionalProperties === 'object') snippetsOf(node.additionalProperties, [...path, '*'], out);
  return out;
}

describe('the snippets of catalog.schema.json', () => {
  const example = readFileSync(join(projectRoot, 'catalog.example.yaml'), 'utf8');
  const snippets = snippetsOf(catalogSchema, []);
  const dir = mkdtempSync(join(tmpdir(), 'catalog-snippets-'));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'files', 'guide.pdf'), '%PDF-1.4\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are all where completions look for them: on fields and sections, none inside $defs, lists or oneOf', () => {
    const everywhere = allNodes(catalogSchema, '#').filter(([, n]) => n.defaultSnippets !== undefined);
    expect(snippets.length).toBeGreaterThan(10);
    expect(new Set(snippets.map((s) => s.node)).size).toBe(everywhere.length);
    const labels = snippets.map((s) => s.snippet.label);
    for (const label of ['New channel', 'New plan', 'New product', 'New promo code (percent off)', '1m', '3m', '12m', '30d', 'Asia/Almaty', 'Asia/Aqtobe']) {
      expect(labels).toContain(label);
    }
  });

  it.each(snippets.map((s) => [`${s.path.join('.')}: ${s.snippet.label}`, s] as const))(
    '%s, accepted as it is in catalog.example.yaml, is found without a mistake',
    (_name, { path, node, snippet }) => {
      const catalog = parse(example) as Record<string, unknown>;
      let parent = catalog;
      const where: string[] = [];
      for (const segment of path.slice(0, -1)) {
        const key = segment === '*' ? Object.keys(parent)[0]! : segment;
        where.push(key);
        parent = (parent[key] ??= {}) as Record<string, unknown>;
      }
      const last = path[path.length - 1]!;
      where.push(last);
      const value = accepted(snippet);
      // A section's snippet is a new entry of it (a plan with its id); a field's is its value.
      if (typeof node.additionalProperties === 'object') Object.assign(parent[last] as object, value);
      else parent[last] = value;
      const result = parseCatalog(stringify(catalog), join(dir, 'catalog.yaml'));
      // Only mistakes at that place count: [ru] as languages leaves the example's kk and en texts unused.
      const place = where.join('.');
      const here = (result.ok ? [] : result.problems).filter((p) => p.path === place || p.path.startsWith(`${place}.`) || p.path.startsWith(`${place}[`));
      expect(here.map(formatProblem)).toEqual([]);
    },
  );
});
