import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import { buildCatalog } from './build-catalog.js';
import { explainSchemaErrors } from './explain-schema-errors.js';
import { dottedPath, type CatalogProblem } from './problem.js';
import { catalogValidator } from './schema-validator.js';
import { semanticChecks } from './semantic-checks.js';
import type { Catalog, CatalogFile } from './types.js';

export type LoadResult = { ok: true; catalog: Catalog; summary: string } | { ok: false; problems: CatalogProblem[] };

/**
 * Reads and validates a catalog file. Never throws for anything the creator can get wrong:
 * a missing file, YAML syntax, schema and cross-reference mistakes all come back as problems,
 * every one of them, sorted by line.
 */
export function loadCatalog(path: string): LoadResult {
  const file = basename(path);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return wholeFile(
      file,
      missing
        ? `${path} does not exist — copy catalog.example.yaml to ${file} and edit it`
        : `cannot read ${path} (${(error as Error).message}) — check the file's permissions`,
    );
  }
  return parseCatalog(source, resolve(path));
}

/** Validates catalog text; `path` locates relative files and names the file in problems. */
export function parseCatalog(source: string, path: string): LoadResult {
  const file = basename(path);
  const lineCounter = new LineCounter();
  // resolveKnownTags: false keeps `!!binary`, `!!set` and friends as plain text and maps, never Buffers or Sets.
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false, resolveKnownTags: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  const problems: CatalogProblem[] = [];

  // After a tab, or on a line already reported, the parser's further complaints are echoes of the first.
  const tabs = doc.errors.filter((e) => e.code === 'TAB_AS_INDENT');
  const reportedLines = new Set<number>();
  for (const error of tabs.length > 0 ? tabs : doc.errors) {
    // The parser notices a missing closing quote where the text ends; the creator needs the opening one.
    const quote = error.code === 'MISSING_CHAR' ? /^Missing closing (["'])quote/.exec(error.message)?.[1] : undefined;
    const opening = quote ? source.lastIndexOf(quote, error.pos[0] - 1) : -1;
    const { line, col } = at(opening >= 0 ? opening : error.pos[0]);
    if (reportedLines.has(line)) continue;
    reportedLines.add(line);
    problems.push({ file, line, col, path: '', message: explainYamlError(error.code, error.message, source.slice(error.pos[0])) });
  }
  if (problems.length > 0) return { ok: false, problems };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias (*name) without its anchor (&name) before it, or aliases that multiply into a huge document.
    const alias = firstBadAlias(doc);
    const { line, col } = at(alias?.range?.[0] ?? 0);
    const name = alias?.source ?? 'name';
    const message = /excessive alias/i.test((error as Error).message)
      ? 'YAML syntax: aliases (*name) repeat the same part too many times — write the values out instead'
      : `YAML syntax: the alias *${name} refers to nothing — define &${name} above it, or put the value in quotes`;
    return { ok: false, problems: [{ file, line, col, path: '', message }] };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return wholeFile(file, `${data === null || data === undefined ? 'the file is empty' : 'the file has no settings'} — start from a copy of catalog.example.yaml`);
  }

  const report = (segments: Array<string | number>, message: string, atKey = false) => {
    const { line, col } = at(locate(doc, segments, atKey));
    problems.push({ file, line, col, path: dottedPath(segments), message });
  };

  const validate = catalogValidator();
  const settings = (data as { settings?: unknown }).settings;
  let languagesUnknown = settings === null || typeof settings !== 'object' || Array.isArray(settings);
  if (!validate(data)) {
    for (const e of explainSchemaErrors(validate.errors ?? [])) {
      report(e.segments, e.message, e.atKey);
      const [section, field] = e.segments;
      if (section === 'settings' && (field === undefined || field === 'languages' || field === 'default_language')) languagesUnknown = true;
    }
  }
  // Without usable settings (a misspelt `setings:`, `languages: ru, kk`), every text in another
  // language would be reported too: one real mistake, dozens of echoes. Those checks wait for it.
  if (!languagesUnknown) semanticChecks(data, dirname(path), report);
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };

  const catalog = buildCatalog(data as CatalogFile, path);
  return { ok: true, catalog, summary: summarize(file, catalog) };
}

/** A problem with the file as a whole, reported at its first line. */
function wholeFile(file: string, message: string): LoadResult {
  return { ok: false, problems: [{ file, line: 1, col: 1, path: '', message }] };
}

function summarize(file: string, c: Catalog): string {
  const n = (count: number, one: string, many = one + 's') => `${count} ${count === 1 ? one : many}`;
  return (
    `${file} is valid: ${n(c.plans.size, 'plan')}, ${n(c.products.size, 'product')}, ${n(c.channels.size, 'channel')}, ` +
    `${n(c.promoCodes.size, 'promo code')}; languages ${c.settings.languages.join(', ')}.`
  );
}

function dedupe(problems: CatalogProblem[]): CatalogProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = `${p.line}:${p.col}:${p.path}:${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

/** The first alias whose anchor is not defined before it, else the first alias. */
function firstBadAlias(doc: Document): Alias | undefined {
  const anchors = new Set<string>();
  let first: Alias | undefined;
  let bad: Alias | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      first ??= node;
      if (!anchors.has(node.source)) {
        bad = node;
        return visit.BREAK;
      }
    } else if (node && typeof node === 'object' && 'anchor' in node && typeof node.anchor === 'string') {
      anchors.add(node.anchor);
    }
    return undefined;
  });
  return bad ?? first;
}

/** Offset of the node at `segments` (its key when `atKey`), or of the nearest existing ancestor. */
function locate(doc: Document, segments: ReadonlyArray<string | number>, atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return offset;
      const keyNode = pair.key as Node;
      const valueNode = pair.value as Node | null;
      offset = last && atKey ? (keyNode.range?.[0] ?? offset) : (valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset);
      node = valueNode;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return offset;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'a key appears twice in the same place — remove or rename one of them',
  MULTIPLE_DOCS: 'a line with --- starts a second document — remove that line; the whole catalog is one document',
  TAB_AS_INDENT: 'a tab is used for indentation — YAML needs spaces; replace the tab with spaces',
  BAD_INDENT: 'the indentation is off — align this line with the other fields at the same level, using spaces',
  MISSING_CHAR: 'a quote or bracket is not closed — add the closing " or ] or }',
  BAD_SCALAR_START: 'this value starts with a character YAML reserves — put the value in quotes',
  MULTILINE_IMPLICIT_KEY: 'a line is missing its "key:" or a quote is not closed above — check this line and the one before',
  UNEXPECTED_TOKEN: 'YAML cannot read this line — check the colon after the key and the quotes',
  BLOCK_AS_IMPLICIT_KEY: 'a value continues on a line that looks like a key — check the indentation and the colon',
  BAD_DIRECTIVE: 'a line starting with % is not allowed here — remove it or quote the value',
  BAD_ALIAS: 'an alias (*name) refers to nothing — define the &name first, or quote the value',
  IMPOSSIBLE: 'YAML cannot read this part — check the quotes and indentation',
};

/** `rest` is the source from the error's position on, to name the key of a duplicate. */
function explainYamlError(code: string, message: string, rest: string): string {
  const key = /^[^\s:#,{}[\]][^:\n]{0,63}(?=:)/.exec(rest)?.[0]?.trim();
  if (code === 'DUPLICATE_KEY' && key) return `YAML syntax: \`${key}\` appears twice in the same place — remove or rename one of them`;
  const quote = code === 'MISSING_CHAR' ? /^Missing closing (["'])quote/.exec(message)?.[1] : undefined;
  if (quote) return `YAML syntax: this quote is not closed — add the closing ${quote} at the end of the text`;
  const bracket = code === 'BAD_INDENT' ? /end with an? ([\]}])/.exec(message)?.[1] : undefined;
  if (bracket) return `YAML syntax: a ${bracket === ']' ? '[' : '{'} above is not closed — add the closing ${bracket}`;
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
  const hint = YAML_HINTS[code] ?? 'check the indentation, colons and quotes on this line';
  return YAML_HINTS[code] ? `YAML syntax: ${hint}` : `YAML syntax: ${first} — ${hint}`;
}
