/**
 * How bad a problem is: an `error` keeps the catalog from loading (start-up refuses it, a reload
 * keeps the previous one); a `warning` is a catalog that works but is probably not what the
 * creator meant (`npm run validate -- --strict` treats warnings as errors).
 */
export type Severity = 'error' | 'warning';

/** One thing wrong in catalog.yaml, with where it is and how to fix it. */
export interface CatalogProblem {
  severity: Severity;
  /** File name as shown to the creator, e.g. "catalog.yaml". */
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field, e.g. "plans.monthly.price"; "" for the whole file. */
  path: string;
  /** What is wrong, and how to fix it, in one sentence each: "what — fix". */
  message: string;
}

/**
 * `catalog.yaml:12:5  plans.monthly.price  must be a whole number — write 4900`; a warning says so:
 * `catalog.yaml:2:13  settings.bot_name  warning: YAML reads everything after " #" as a comment, …`
 */
export function formatProblem(p: CatalogProblem): string {
  return `${p.file}:${p.line}:${p.col}  ${p.path || '(file)'}  ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}


/** Joins JSON-pointer-like segments as the creator reads them: plans.monthly.channels[1]. */
export function dottedPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out ? `.${s}` : s;
  }
  return out;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within a small edit distance, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}
