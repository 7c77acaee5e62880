import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import { buildCatalog } from './build-catalog.js';
import { catalogWarnings } from './catalog-warnings.js';
import { explainSchemaErrors } from './explain-schema-errors.js';
import { explainYamlErrors } from './explain-yaml-errors.js';
import { dottedPath, type CatalogProblem, type Severity } from './problem.js';
import { catalogValidator } from './schema-validator.js';
import { semanticChecks } from './semantic-checks.js';
import { sourceWarnings } from './source-warnings.js';
import type { Catalog, CatalogFile } from './types.js';

/**
 * A catalog that loads, with its warnings (possibly none), or the problems that keep it from
 * loading: every error, and the warnings found beside them, sorted by line (`severity` tells
 * them apart). Only errors make `ok` false.
 */
export type LoadResult =
  | { ok: true; catalog: Catalog; summary: string; warnings: CatalogProblem[] }
  | { ok: false; problems: CatalogProblem[] };

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
  if (doc.errors.length > 0) {
    return { ok: false, problems: explainYamlErrors(doc.errors, source, lineCounter).map((p) => ({ file, severity: 'error', path: '', ...p })) };
  }

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
    return { ok: false, problems: [{ file, line, col, path: '', severity: 'error', message }] };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return wholeFile(file, `${data === null || data === undefined ? 'the file is empty' : 'the file has no settings'} — start from a copy of catalog.example.yaml`);
  }

  const problems: CatalogProblem[] = [];
  const reporter = (severity: Severity) => (segments: Array<string | number>, message: string, atKey = false) => {
    const { line, col } = at(locate(doc, segments, atKey));
    problems.push({ file, line, col, path: dottedPath(segments), severity, message });
  };
  const report = reporter('error');
  const warn = reporter('warning');
  sourceWarnings(doc, source, warn);

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
  if (!languagesUnknown) {
    semanticChecks(data, dirname(path), report);
    catalogWarnings(data, warn);
  }
  const found = dedupe(problems);
  if (found.some((p) => p.severity === 'error')) return { ok: false, problems: found };

  const catalog = buildCatalog(data as CatalogFile, path);
  return { ok: true, catalog, summary: summarize(file, catalog), warnings: found };
}

/** A problem with the file as a whole, reported at its first line. */
function wholeFile(file: string, message: string): LoadResult {
  return { ok: false, problems: [{ file, line: 1, col: 1, path: '', severity: 'error', message }] };
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
