import { isMap, isPair, isScalar, isSeq, Scalar, type Document } from 'yaml';
import type { Report } from './semantic-checks.js';

const LANGUAGE = /^(ru|kk|en)$/;

/**
 * Whether a value at this path is free text the customers read (a name, title, description,
 * message), where an unquoted `#` or a typographic quote is most likely meant as part of the text.
 */
function isText(segments: ReadonlyArray<string | number>): boolean {
  const s = segments.length > 0 && LANGUAGE.test(String(segments[segments.length - 1])) ? segments.slice(0, -1) : segments;
  const [a, b, c, d] = s;
  if (a === 'settings') return s.length === 2 && (b === 'bot_name' || b === 'support');
  if (a === 'channels') return s.length === 3 && c === 'title';
  if (a === 'plans' || a === 'products') return (s.length === 3 && (c === 'title' || c === 'description')) || (a === 'products' && s.length === 4 && c === 'deliver' && d === 'text');
  if (a === 'menu') return s.length === 3 && c === 'section';
  return a === 'texts' && s.length === 2;
}

/** Opening typographic quotes, and the closing ones that may end such a text. */
const OPENING = /^[“”„«»‘’‚]/;
const CLOSING = /[“”»«‘’]$/;

/**
 * What YAML read differently from how the text looks, found in the source itself: an unquoted
 * text cut at ` #` (the rest became a comment), and typographic quotes “…” «…» „…“ written as if
 * they were YAML quotes (they become part of the text). Reported as warnings: both can be meant.
 */
export function sourceWarnings(doc: Document, source: string, warn: Report): void {
  const walk = (node: unknown, segments: Array<string | number>) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && isScalar(pair.key)) walk(pair.value, [...segments, String(pair.key.value)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...segments, i]));
    } else if (isScalar(node) && node.type === Scalar.PLAIN && typeof node.value === 'string') {
      checkPlain(node, segments);
    }
  };
  const checkPlain = (node: Scalar, segments: Array<string | number>) => {
    const value = node.value as string;
    const end = node.range?.[1];
    // One space before the #: two or more, or a # of its own after the value, look like a deliberate note.
    const comment = end === undefined ? undefined : /^[ \t]#(.*)/.exec(source.slice(end, (source.indexOf('\n', end) + 1 || source.length + 1) - 1))?.[1];
    if (comment !== undefined && isText(segments)) {
      const whole = `${value} #${comment.trimEnd()}`;
      warn(
        segments,
        `YAML reads everything after " #" as a comment, so this text is only ${JSON.stringify(value)} — put the whole text in quotes: ${JSON.stringify(whole)} (a note to yourself goes on a line of its own)`,
      );
      return;
    }
    if (OPENING.test(value)) {
      const closed = CLOSING.test(value) && value.length > 1;
      const what = closed ? `${value[0]}…${value[value.length - 1]} are typographic quotes` : `${value[0]} is a typographic quote`;
      const inner = value.slice(1, closed ? -1 : undefined);
      warn(
        segments,
        `${what}, which YAML keeps as part of the text — write straight quotes: ${JSON.stringify(inner)} (or ${JSON.stringify(value)} if customers should see them)`,
      );
    }
  };
  walk(doc.contents, []);
}
