import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalog } from '../../src/catalog/load-catalog.js';
import { formatProblem } from '../../src/catalog/problem.js';
import { projectRoot } from '../../src/project-root.js';
import { startLspServer, type LspClient } from '../support/lsp-client.js';

/**
 * catalog.yaml in VS Code: the YAML extension runs yaml-language-server with our JSON Schema. These
 * tests run that server (a devDependency) over stdio as the editor does, with the schema store off
 * (nothing is downloaded), and check what a creator sees: the schema's plain messages at the lines
 * `npm run validate` names, the values and snippets it offers, the descriptions on hover.
 */

const SERVER = join(dirname(createRequire(import.meta.url).resolve('yaml-language-server/package.json')), 'bin', 'yaml-language-server');
const SCHEMA_PATH = join(projectRoot, 'schemas', 'catalog.schema.json');
const SCHEMA = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as {
  properties: { plans: { additionalProperties: { properties: { period: { markdownDescription: string } } } } };
};
const EXAMPLE_PATH = join(projectRoot, 'catalog.example.yaml');
/** Long enough for a busy 2-core machine; the server answers in well under a second. */
const DEADLINE = 30_000;

/** What VS Code's settings.json would say: our schema for every catalog.yaml, no schema store. */
const SETTINGS = {
  yaml: {
    schemas: { [pathToFileURL(SCHEMA_PATH).href]: ['**/catalog.yaml'] },
    schemaStore: { enable: false },
    validate: true,
    hover: true,
    completion: true,
  },
  http: {},
  editor: {},
};

/** A document's URI in a folder of its own, named catalog.yaml so the settings give it our schema. */
const uriFor = (folder: string) => pathToFileURL(join(tmpdir(), 'editor-lsp', folder, 'catalog.yaml')).href;

interface Position {
  line: number;
  character: number;
}
interface Diagnostic {
  range: { start: Position; end: Position };
  message: string;
}
interface PublishedDiagnostics {
  uri: string;
  diagnostics: Diagnostic[];
}
interface CompletionItem {
  label: string;
  insertText?: string;
  textEdit?: { newText: string; range?: { start: Position; end: Position } };
  documentation?: string | { kind: string; value: string };
}
interface Hover {
  contents: { kind: string; value: string };
}

/** The end of the first line that starts with `start`, at or after line `from`. */
function endOf(source: string, start: string, from = 0): Position {
  const lines = source.split('\n');
  const line = lines.findIndex((l, i) => i >= from && l.startsWith(start));
  if (line < 0) throw new Error(`no line starts with ${JSON.stringify(start)}`);
  return { line, character: lines[line]!.length };
}

/** The empty, indented line at the end of a section (where a new entry goes). */
function newEntryIn(source: string, section: string): Position {
  const lines = source.split('\n');
  const line = lines.findIndex((l, i) => i > endOf(source, section).line && l === '  ');
  return { line, character: 2 };
}
const docText = (item: CompletionItem) => (typeof item.documentation === 'string' ? item.documentation : (item.documentation?.value ?? ''));
/** "line:col message", 1-based like npm run validate. */
const shown = (d: Diagnostic) => `${d.range.start.line + 1}:${d.range.start.character + 1}  ${d.message}`;

/** A completion as VS Code inserts it: later lines indented like the cursor's, placeholders at their defaults. */
function insert(source: string, at: Position, item: CompletionItem): string {
  const lines = source.split('\n');
  const line = lines[at.line]!;
  const indent = /^\s*/.exec(line)![0];
  const snippet = (item.textEdit?.newText ?? item.insertText ?? item.label)
    .replace(/\$\{\d+\|([^,|]*)[^}]*\|\}/g, '$1')
    .replace(/\$\{\d+:([^}]*)\}/g, '$1')
    .replace(/\$\d+/g, '')
    .split('\n')
    .join(`\n${indent}`);
  const start = item.textEdit?.range?.start.character ?? at.character;
  const end = item.textEdit?.range?.end.character ?? at.character;
  lines[at.line] = line.slice(0, start) + snippet + line.slice(end);
  return lines.join('\n');
}

const BROKEN = `settings:
  bot_name: "Python Academy"
  languages: [ru, kz]
  admins: ["@anna_admin"]
  reminders:
    time: "9:00"
  access_mode: invite
channels:
  main:
    chat_id: "@python_channel"
    title: "Python Academy"
plans:
  monthly:
    title: "1 month"
    price: "4 900 тг"
    period: 1 month
    channels: [main]
  yearly:
    title:
    price: 49000
    period: 12m
    channels: main
products:
  course:
    title: "Course"
    price: 15000
    deliver: { link: "example.com/course" }
promo_codes:
  W1:
    percent: 10
    valid_until: 31.12.2027
`;

const VALUES = `settings:
  bot_name: "Python Academy"
  languages: 
  timezone: 
  access_mode: 
  phone_input: 
channels:
  main:
    chat_id: -1001234567890
    title: "Python Academy"
plans:
  monthly:
    title: "1 month"
    price: 4900
    period: 
    channels: [main]
`;

/** A valid catalog with an empty, indented line at the end of each section, where the cursor goes. */
const SECTIONS = `settings:
  bot_name: "Python Academy"
channels:
  main:
    chat_id: -1001234567890
    title: "Python Academy"
  
plans:
  monthly:
    title: "1 month"
    price: 4900
    period: 1m
    channels: [main]
  
products:
  
promo_codes:
  
`;

describe('catalog.yaml in the editor (yaml-language-server)', { timeout: 2 * DEADLINE }, () => {
  let client: LspClient | undefined;
  let version = 0;

  const server = () => {
    if (!client) throw new Error('the language server did not start');
    return client;
  };

  /** Opens (or, when open, replaces) a document and waits for the diagnostics of this version. */
  async function show(uri: string, text: string, opened = false): Promise<Diagnostic[]> {
    const lsp = server();
    const mark = lsp.notificationCount();
    version += 1;
    if (opened) lsp.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    else lsp.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
    const published = await lsp.notification<PublishedDiagnostics>('textDocument/publishDiagnostics', (p) => p.uri === uri, DEADLINE, mark);
    return [...published.diagnostics].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  }

  const completions = async (uri: string, position: Position) => {
    const result = await server().request<{ items: CompletionItem[] } | CompletionItem[]>(
      'textDocument/completion',
      { textDocument: { uri }, position },
      DEADLINE,
    );
    return Array.isArray(result) ? result : result.items;
  };
  const hover = (uri: string, position: Position) => server().request<Hover>('textDocument/hover', { textDocument: { uri }, position }, DEADLINE);

  beforeAll(async () => {
    client = startLspServer({
      command: process.execPath,
      args: [SERVER, '--stdio'],
      cwd: projectRoot,
      // The server pulls its settings (workspace/configuration) when told they changed.
      onRequest: (method, params) =>
        method === 'workspace/configuration'
          ? (params as { items: Array<{ section?: string }> }).items.map((item) => SETTINGS[item.section as keyof typeof SETTINGS] ?? null)
          : null,
    });
    await client.request(
      'initialize',
      {
        processId: process.pid, // the server exits by itself if this test process dies
        rootUri: null,
        capabilities: {
          workspace: { configuration: true },
          textDocument: {
            completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
            hover: { contentFormat: ['markdown', 'plaintext'] },
          },
        },
      },
      DEADLINE,
    );
    client.notify('initialized', {});
    client.notify('workspace/didChangeConfiguration', { settings: SETTINGS });
    // Code lenses are answered once the settings are applied: after this, every document opened has our schema.
    await client.request('textDocument/codeLens', { textDocument: { uri: uriFor('none') } }, DEADLINE);
  }, 2 * DEADLINE);

  afterAll(async () => {
    await client?.stop();
  });

  it("marks each mistake of a broken catalog at its value with the schema's plain words", async () => {
    const diagnostics = await show(uriFor('broken'), BROKEN);
    expect(diagnostics.map(shown)).toEqual([
      '3:19  Not a language — write ru (Russian), kk (Kazakh) or en (English).',
      '4:12  Not a Telegram id — admins are listed by number, not @username: ask each admin to send /whoami to the bot and paste the number it answers.',
      '6:11  Not a time — write HH:MM in 24-hour time, in quotes, like "10:00".',
      '7:16  Not an access mode — write join_request or invite_link.',
      "10:14  Not a chat id — write the channel's number without quotes, like -1001234567890: add the bot to the channel as an admin and it sends you the id.",
      '15:12  Not a price — write a whole number of tenge without spaces, quotes or currency, like 4900.',
      '16:13  Not a period — write 1m, 3m or 12m (calendar months), 30d (days), 2w (weeks) or 1y (a year).',
      '19:11  Not a text — write "your text" in quotes, or one per language: { ru: "...", kk: "...", en: "..." }.',
      '22:15  Not a list of channel ids — write them in brackets, like [main] or [main, chat].',
      '27:22  Not a web link — it must start with https://, like "https://example.com/course".',
      '29:3  Not a promo code — use 3 to 32 Latin letters, digits, _ or -, like WELCOME10.',
      '31:18  Not a date — write YYYY-MM-DD, like 2026-12-31.',
    ]);
  });

  it('marks the same places as npm run validate', async () => {
    const diagnostics = await show(uriFor('broken-again'), BROKEN);
    const result = parseCatalog(BROKEN, join(projectRoot, 'catalog.yaml'));
    // Warnings (a missing translation…) are npm run validate's own: the schema has none.
    const validate = (result.ok ? [] : result.problems).filter((p) => (p as { severity?: string }).severity !== 'warning');
    expect(diagnostics.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1}`)).toEqual(validate.map((p) => `${p.line}:${p.col}`));
  });

  it('offers the periods inside a plan, each with what it means', async () => {
    const uri = uriFor('periods');
    await show(uri, VALUES);
    const items = await completions(uri, endOf(VALUES, '    period: '));
    expect(items.map((i) => i.label)).toEqual(['1m', '3m', '12m', '30d']);
    expect(docText(items[0]!)).toBe('one calendar month: from the 15th to the 15th');
  });

  it('offers the values of access_mode, phone_input and languages, and common time zones', async () => {
    const uri = uriFor('values');
    await show(uri, VALUES);
    const labels = async (line: string) => (await completions(uri, endOf(VALUES, line))).map((i) => i.label);
    const accessModes = await completions(uri, endOf(VALUES, '  access_mode: '));
    expect(accessModes.map((i) => i.label)).toEqual(['join_request', 'invite_link']);
    expect(docText(accessModes[0]!)).toBe('A personal link that asks to join; the bot approves only people who paid (default).');
    expect(await labels('  phone_input: ')).toEqual(['both', 'contact', 'typed']);
    expect(await labels('  languages: ')).toEqual(['[ru, kk, en]', '[ru, kk]', '[ru]']);
    expect(await labels('  timezone: ')).toEqual(expect.arrayContaining(['Asia/Almaty', 'Asia/Aqtobe', 'Asia/Aqtau', 'Asia/Atyrau', 'Asia/Oral']));
  });

  it('offers a new channel, plan, product and promo code, and the catalog they make has no mistake', async () => {
    const uri = uriFor('sections');
    await show(uri, SECTIONS);
    const offered: Array<[string, Position, CompletionItem]> = [];
    // Bottom to top, so each insertion leaves the places above it where they were.
    for (const [section, label] of [
      ['promo_codes:', 'New promo code (percent off)'],
      ['products:', 'New product'],
      ['plans:', 'New plan'],
      ['channels:', 'New channel'],
    ] as const) {
      const cursor = newEntryIn(SECTIONS, section);
      const item = (await completions(uri, cursor)).find((i) => i.label === label);
      expect(item, `${label} under ${section}`).toBeDefined();
      offered.push([label, cursor, item!]);
    }
    expect(offered.find(([label]) => label === 'New plan')?.[2].insertText).toBe(
      '${1:plan_id}:\n  title: "${2:1 month}"\n  price: ${3:4900}\n  period: ${4|1m,3m,12m,30d|}\n  channels: [${5:main}]',
    );
    const text = offered.reduce((source, [, cursor, item]) => insert(source, cursor, item), SECTIONS);
    expect(text).toContain(
      'plans:\n  monthly:\n    title: "1 month"\n    price: 4900\n    period: 1m\n    channels: [main]\n  plan_id:\n    title: "1 month"\n    price: 4900\n    period: 1m\n    channels: [main]\n',
    );
    expect((await show(uri, text, true)).map(shown)).toEqual([]);
    const result = parseCatalog(text, join(projectRoot, 'catalog.yaml'));
    expect(result.ok ? result.summary : result.problems.map(formatProblem)).toBe(
      'catalog.yaml is valid: 2 plans, 1 product, 2 channels, 1 promo code; languages ru.',
    );
  });

  it("shows period's markdownDescription on hover, and access_mode's values with what each does", async () => {
    const uri = uriFor('hovers');
    await show(uri, VALUES);
    const period = await hover(uri, { line: endOf(VALUES, '    period:').line, character: 6 });
    expect(period.contents.kind).toBe('markdown');
    expect(period.contents.value).toContain(SCHEMA.properties.plans.additionalProperties.properties.period.markdownDescription);
    const accessMode = await hover(uri, { line: endOf(VALUES, '  access_mode:').line, character: 4 });
    expect(accessMode.contents.value).toContain('* `invite_link`: A one-person link that expires soon and is revoked after use.');
  });

  it('finds the schema of catalog.example.yaml from its first line, and nothing wrong in it', async () => {
    const text = readFileSync(EXAMPLE_PATH, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schemas/catalog.schema.json');
    const uri = pathToFileURL(EXAMPLE_PATH).href;
    expect((await show(uri, text)).map(shown)).toEqual([]);
    const period = await hover(uri, { line: endOf(text, '    period:').line, character: 6 });
    expect(period.contents.value).toContain(SCHEMA.properties.plans.additionalProperties.properties.period.markdownDescription);
  });
});
