import { CST, Parser, type LineCounter, type YAMLError } from 'yaml';

/** A YAML syntax error said as the creator acts on it: the line to change, and what to do there. */
export interface YamlSyntaxProblem {
  line: number;
  col: number;
  message: string;
}

/**
 * Turns the parser's errors into one problem per line the creator has to change, most often the
 * line where the mistake is rather than where the parser noticed it: the opening quote or bracket
 * of one never closed, the over- or under-indented line with the line it should line up with.
 * After a tab, or on a line already reported, the parser's further complaints are echoes and dropped.
 */
export function explainYamlErrors(errors: readonly YAMLError[], source: string, lineCounter: LineCounter): YamlSyntaxProblem[] {
  const tabs = errors.filter((e) => e.code === 'TAB_AS_INDENT');
  // The source lines, with each indentation mistake found so far corrected as its message says:
  // the parser's complaints about the lines after it are then recognised as echoes of it.
  const lines = source.split('\n');
  const step = indentStep(lines);
  let indentFixed = false;
  // After a [ or { never closed, the parser reads the rest of the file as its contents: echoes.
  let unclosed = false;
  let openFlows: number[] | undefined;
  const problems: YamlSyntaxProblem[] = [];
  const reportedLines = new Set<number>();
  for (const error of tabs.length > 0 ? tabs : errors) {
    if (unclosed) break;
    const found = explainOne(error);
    if (!found || reportedLines.has(found.line)) continue;
    reportedLines.add(found.line);
    problems.push(found);
  }
  return problems;

  /** The indentation mistake that explains an error at line `lineNo`, corrected in `lines`, as a problem. */
  function indentProblem(lineNo: number): YamlSyntaxProblem | undefined {
    const found = explainIndent(lines, lineNo, step);
    if (!found) return undefined;
    const text = lines[found.line - 1]!;
    lines[found.line - 1] = ' '.repeat(found.col) + text.trimStart();
    indentFixed = true;
    return { line: found.line, col: 1, message: `YAML syntax: ${found.message}` };
  }

  function explainOne(error: YAMLError): YamlSyntaxProblem | undefined {
    const pos = error.pos[0];
    const at = (offset: number, message: string): YamlSyntaxProblem => ({ ...lineCounter.linePos(offset), message: `YAML syntax: ${message}` });

    // The parser notices a missing closing quote where the text ends; the creator needs the opening one.
    const quote = error.code === 'MISSING_CHAR' ? /^Missing closing (["'])quote/.exec(error.message)?.[1] : undefined;
    if (quote) {
      const opening = source.lastIndexOf(quote, pos - 1);
      return at(opening >= 0 ? opening : pos, `this quote is not closed — add the closing ${quote} at the end of the text`);
    }

    // "Flow sequence … must be sufficiently indented and end with a ]": a [ never closed, or a
    // list that goes on over lines not indented enough. Either way the [ line is where to look.
    const closer = error.code === 'BAD_INDENT' ? (/end with an? ([\]}])/.exec(error.message)?.[1] as ']' | '}' | undefined) : undefined;
    if (closer) {
      const opener = closer === ']' ? '[' : '{';
      openFlows ??= unclosedFlowStarts(source);
      const open = openFlows.filter((o) => o < pos && source[o] === opener).pop();
      if (open === undefined) return at(pos, `a ${opener} above is not closed — add the closing ${closer}`);
      return explainUnclosed(open, opener, closer, at);
    }

    const { line } = lineCounter.linePos(pos);
    const text = lines[line - 1] ?? '';
    if (!['DUPLICATE_KEY', 'MULTIPLE_DOCS', 'TAB_AS_INDENT'].includes(error.code)) {
      const curly = /[“”„«»]/.exec(stripQuoted(text))?.[0];
      if (curly) {
        return at(lineCounter.lineStarts[line - 1]! + text.indexOf(curly), `${curly} is a typographic quote, which YAML does not read as a quote, so it cannot read this line — put the text in straight quotes "…" instead`);
      }
    }
    if (INDENT_CODES.has(error.code)) {
      const indent = indentProblem(line);
      if (indent) return indent;
      // "bot_name: T" followed by a line indented further: the parser blames the value it would
      // continue, but the line to move is the next one.
      const next = lines.findIndex((l, i) => i >= line && l.trim() !== '' && !l.trim().startsWith('#')) + 1;
      if (next > 0 && indentOf(lines[next - 1]!) > indentOf(lines[line - 1]!)) {
        const further = indentProblem(next);
        if (further) return further;
      }
      // Lines that line up once an earlier indentation mistake is corrected: its echoes.
      if (indentFixed) return undefined;
    }
    if (error.code === 'DUPLICATE_KEY') {
      const key = /^[^\s:#,{}[\]][^:\n]{0,63}(?=:)/.exec(source.slice(pos))?.[0]?.trim();
      if (key) return at(pos, `\`${key}\` appears twice in the same place — remove or rename one of them`);
    }
    const hint = YAML_HINTS[error.code];
    const first = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    return at(pos, hint ?? `${first} — check the indentation, colons and quotes on this line`);
  }

  /** The [ or { at `open` has no closer: say so there, or name the line of the list indented too little. */
  function explainUnclosed(open: number, opener: string, closer: string, at: (offset: number, message: string) => YamlSyntaxProblem): YamlSyntaxProblem {
    const { line } = lineCounter.linePos(open);
    const what = opener === '[' ? 'list' : 'group';
    const close = matchingClose(source, open);
    if (close === undefined) {
      unclosed = true;
      const comment = commentOf(lines[line - 1]!);
      if (comment?.includes(closer)) {
        return at(open, `this ${opener} is not closed: the # on this line starts a comment, which hides the rest of the line — put the text with # in quotes "…"`);
      }
      return at(open, `this ${opener} is not closed — add the closing ${closer} after the ${what}'s last ${opener === '[' ? 'entry' : 'field'}`);
    }
    const base = indentOf(lines[line - 1]!);
    const last = lineCounter.linePos(close).line;
    for (let l = line + 1; l <= last; l++) {
      const t = lines[l - 1]!;
      if (t.trim() !== '' && indentOf(t) <= base) {
        return {
          line: l,
          col: 1,
          message: `YAML syntax: this line continues the ${what} opened by ${opener} on line ${line}, but is not indented more than line ${line} — indent this line more (at least ${base + 1} spaces)`,
        };
      }
    }
    return at(open, `this ${opener} is not closed — add the closing ${closer} after the ${what}'s last ${opener === '[' ? 'entry' : 'field'}`);
  }
}

/** Errors that a line indented too far or too little causes, among others. */
const INDENT_CODES = new Set(['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY', 'MISSING_CHAR', 'UNEXPECTED_TOKEN']);

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

const indentOf = (line: string) => line.length - line.trimStart().length;

/** Offsets of the [ and { the parser opened and never saw closed, in source order. */
function unclosedFlowStarts(source: string): number[] {
  const out: number[] = [];
  const check = (token: CST.Token | undefined) => {
    if (token?.type !== 'flow-collection') return;
    if (!token.end.some((t) => t.type === 'flow-seq-end' || t.type === 'flow-map-end')) out.push(token.start.offset);
  };
  for (const token of new Parser().parse(source)) {
    if (token.type !== 'document') continue;
    check(token.value);
    CST.visit(token, (item) => {
      check(item.key ?? undefined);
      check(item.value);
    });
  }
  return out.sort((a, b) => a - b);
}

/** Offset of the bracket closing the one at `open`, skipping quoted text and comments; undefined when none does. */
function matchingClose(source: string, open: number): number | undefined {
  const stack: string[] = [];
  for (let i = open; i < source.length; i++) {
    const c = source[i]!;
    if (c === '"' || c === "'") {
      i = endOfQuoted(source, i);
    } else if (c === '#' && (i === 0 || /\s/.test(source[i - 1]!))) {
      const nl = source.indexOf('\n', i);
      if (nl < 0) return undefined;
      i = nl;
    } else if (c === '[' || c === '{') {
      stack.push(c === '[' ? ']' : '}');
    } else if (c === ']' || c === '}') {
      if (stack.pop() !== c) return undefined;
      if (stack.length === 0) return i;
    }
  }
  return undefined;
}

/** Offset of the quote closing the quoted text that starts at `i` (YAML: '' inside '…', \" inside "…"). */
function endOfQuoted(source: string, i: number): number {
  const q = source[i]!;
  for (let j = i + 1; j < source.length; j++) {
    if (q === '"' && source[j] === '\\') j++;
    else if (source[j] === q) {
      if (q === "'" && source[j + 1] === "'") j++;
      else return j;
    }
  }
  return source.length;
}

/** The line without its straight-quoted parts (a “ inside "…" is text, not a mistake). */
function stripQuoted(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' || line[i] === "'") i = endOfQuoted(line, i);
    else out += line[i];
  }
  return out;
}

/** The comment at the end of a line (after a # that follows a space), outside quotes. */
function commentOf(line: string): string | undefined {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' || line[i] === "'") i = endOfQuoted(line, i);
    else if (line[i] === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(i);
  }
  return undefined;
}

interface Open {
  col: number;
  line: number;
  label: string;
  /** The column its block started at, set by this line alone (the first entry under its parent). */
  first: boolean;
  /** The column of the entry it belongs to (-1 at the top level). */
  parentCol: number;
  /** Set when it follows a `key:` at its own column that got nothing under it: that key's column. */
  afterEmpty?: number;
  /** Columns of the deeper entries its line ended. */
  closed: number[];
  /** The first entry of the run of siblings it belongs to (itself when it is the first). */
  start?: Open;
  /** For the first entry of a run: how many siblings followed it. */
  followers: number;
  /** A `key:` with nothing after it on its line. */
  opener: boolean;
}

/**
 * When line `lineNo` (1-based) is indented to no column the lines above allow: which line to move
 * (this one, or the first line of the block it should belong to when that one alone is off the
 * file's usual step), to which column, and the sentence saying so; undefined when indentation is
 * not the trouble.
 */
function explainIndent(lines: readonly string[], lineNo: number, step: number): { line: number; col: number; message: string } | undefined {
  const text = lines[lineNo - 1] ?? '';
  if (text.trim() === '') return undefined;
  const n = indentOf(text);
  const { open, childAllowed, lastCol } = openBlocks(lines, lineNo - 1);
  if (open.some((o) => o.col === n)) return undefined;
  if (childAllowed && n > lastCol) return undefined;
  if (open.length === 0) return undefined;
  const label = (line: string) => labelOf(line.trim());
  const here = `\`${label(text)}\` on line ${lineNo}`;
  const key = /^([^\s:#][^:#]*):(\s|$)/.exec(text.trim())?.[1];
  const top = open.find((o) => o.col === 0);
  // A section of the file ("channels:") at the start of the line, but the file's first line was
  // indented: the whole file took its column from that first line.
  if (key && TOP_SECTIONS.has(key) && n === 0 && !top && open.length > 0) {
    const first = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    return { line: first + 1, col: 0, message: move(indentOf(lines[first]!), 0, here) };
  }
  const target =
    key && top && TOP_SECTIONS.has(key) && n <= step
      ? top
      : open.reduce((best, o) => (Math.abs(o.col - n) < Math.abs(best.col - n) || (Math.abs(o.col - n) === Math.abs(best.col - n) && o.col > best.col) ? o : best));
  // "monthly:" then "      title: …" (2 spaces too many) then "    price: …": the block took its
  // column from its first line, so that line is the one off the usual step. Likewise "description:"
  // then "    ru: …" not indented under it, then "      kk: …". Of several such lines, the outermost.
  const usualFor = (o: Open) => (o.afterEmpty !== undefined ? o.afterEmpty + step : o.first ? (o.parentCol < 0 ? 0 : o.parentCol + step) : undefined);
  const culprit = [...open, ...open.map((o) => o.start ?? o)]
    // A block's first line is off only when nothing else lines up with it (or it is a `key:`
    // whose would-be contents followed it at its own column).
    .filter((o) => o.afterEmpty !== undefined || o.followers === 0 || o.opener)
    .filter((o) => usualFor(o) === n && o.col !== n)
    .sort((a, b) => a.col - b.col || a.line - b.line)[0];
  if (culprit) return { line: culprit.line, col: n, message: move(culprit.col, n, here) };
  // "   - section: …" (1 space too many) then "    items: …": the dash line is off, and its key with it.
  for (const k of open) {
    const dash = open.find((d) => d.line === k.line && d.col < k.col && /^-/.test(d.label));
    const usual = dash && usualFor(dash);
    if (dash && usual !== undefined && dash.col !== usual && n === k.col - (dash.col - usual)) {
      const [what, way] = dash.col > usual ? ['too far', 'less'] : ['too little', 'more'];
      return {
        line: dash.line,
        col: usual,
        message: `this line is indented ${what} (${spaces(dash.col)}) — indent this line ${way} (${spaces(usual)}), so that \`${k.label}\` lines up with ${here}`,
      };
    }
  }
  // "    title: …", then "  price: …" (2 spaces too few), then "    period: …" and more at that
  // column: the line that left the block is the one to move, not the lines that stay in it. A line
  // with a block under it moved with that block; a single line counts only when more lines
  // (after this one's own block) line up with this one.
  const dropped = open.filter((o) => o.col < n && o.closed.includes(n) && !(o.col === 0 && TOP_SECTIONS.has(o.label))).pop();
  if (dropped) {
    const leaf = dropped === open[open.length - 1];
    const after = lines.slice(lineNo).find((l) => l.trim() !== '' && !l.trim().startsWith('#') && indentOf(l) <= n);
    if (!leaf || (after !== undefined && indentOf(after) === n)) return { line: dropped.line, col: n, message: move(dropped.col, n, here) };
  }
  return { line: lineNo, col: target.col, message: move(n, target.col, `\`${target.label}\` on line ${target.line}`) };
}

const spaces = (k: number) => (k === 0 ? 'at the start of the line' : `${k} space${k === 1 ? '' : 's'}`);

function move(from: number, to: number, lineUpWith: string): string {
  return from > to
    ? `this line is indented too far (${spaces(from)}) — indent this line less to line up with ${lineUpWith} (${spaces(to)})`
    : `this line is indented too little (${spaces(from)}) — indent this line more to line up with ${lineUpWith} (${spaces(to)})`;
}

/** How a line reads in a message: its key, or its list entry. */
function labelOf(trimmed: string): string {
  if (/^-(\s|$)/.test(trimmed)) return trimmed.slice(0, 40);
  return /^([^\s:#][^:#]*?):(\s|$)/.exec(trimmed)?.[1] ?? trimmed.slice(0, 40);
}

/** The file's usual indentation step: the most common extra indentation under a `key:` or `-` line. */
function indentStep(lines: readonly string[]): number {
  const counts = new Map<number, number>();
  let opener: number | undefined;
  for (const line of lines) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const n = indentOf(line);
    if (opener !== undefined && n > opener) counts.set(n - opener, (counts.get(n - opener) ?? 0) + 1);
    opener = /:(\s+#.*)?$/.test(t) || t === '-' ? n : undefined;
  }
  let best = 2;
  for (const [k, c] of counts) if (c > (counts.get(best) ?? 0)) best = k;
  return best;
}

const TOP_SECTIONS = new Set(['settings', 'channels', 'plans', 'products', 'promo_codes', 'menu', 'texts']);

/**
 * The columns at which a line may start after the first `count` lines: the keys and list entries
 * still open there (each with its line and how it reads), and whether the last line opens a
 * block (`key:` or `-` with nothing after it), so a deeper line would start its content.
 */
function openBlocks(lines: readonly string[], count: number): { open: Open[]; childAllowed: boolean; lastCol: number } {
  const open: Open[] = [];
  let childAllowed = false;
  let lastCol = 0;
  let blockScalarAbove: number | undefined;
  let flowDepth = 0;
  let emptyKeyCol: number | undefined;
  for (let i = 0; i < count; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const n = indentOf(line);
    if (blockScalarAbove !== undefined && n > blockScalarAbove) continue;
    blockScalarAbove = undefined;
    if (flowDepth > 0) {
      // Inside a [ … ] or { … } spread over lines.
      flowDepth = Math.max(0, flowDepth + flowBalance(line));
      continue;
    }
    let sibling: Open | undefined;
    const closed: number[] = [];
    while (open.length > 0 && open[open.length - 1]!.col >= n) {
      const gone = open.pop()!;
      if (gone.col === n) sibling = gone;
      else closed.push(gone.col);
    }
    const parentCol = () => (open.length > 0 ? open[open.length - 1]!.col : -1);
    const entries: Open[] = [];
    let rest = trimmed;
    let col = n;
    // "- key: value", "- - x": each dash opens an entry, and what follows it starts a column of its own.
    while (/^-(\s|$)/.test(rest)) {
      entries.push({ col, line: i + 1, label: labelOf(rest), first: entries.length > 0 || !sibling, parentCol: entries.at(-1)?.col ?? parentCol(), closed, followers: 0, opener: false });
      const after = rest.slice(1);
      const gap = after.length - after.trimStart().length;
      if (after.trim() === '') break;
      col += 1 + gap;
      rest = after.trimStart();
    }
    const key = /^([^\s:#'"[{][^:#]*?|"[^"]*"|'[^']*'):(\s+(.*))?$/.exec(rest);
    if (key && !/^-(\s|$)/.test(rest)) {
      const opener = (key[3] ?? '').replace(/\s+#.*$/, '').trim() === '';
      entries.push({ col, line: i + 1, label: key[1]!.trim(), first: entries.length > 0 || !sibling, parentCol: entries.at(-1)?.col ?? parentCol(), closed, followers: 0, opener });
    }
    if (entries[0] && sibling) {
      const start = sibling.start ?? sibling;
      entries[0].start = start;
      start.followers++;
    }
    if (emptyKeyCol === n && entries[0]) entries[0].afterEmpty = n;
    open.push(...entries);
    lastCol = n;
    const value = key ? (key[3] ?? '').replace(/\s+#.*$/, '').trim() : /^-(\s|$)/.test(rest) ? '' : undefined;
    childAllowed = value === '' || (entries.length > 0 && rest === '-');
    emptyKeyCol = key && value === '' ? entries.at(-1)?.col : undefined;
    const flowValue = key ? (key[3] ?? '') : rest;
    if (/^[[{]/.test(flowValue)) flowDepth = Math.max(0, flowBalance(flowValue));
    if (value !== undefined && /^[|>][-+0-9]*$/.test(value)) {
      blockScalarAbove = n;
      childAllowed = true;
    }
  }
  return { open, childAllowed, lastCol };
}

/** Opening minus closing brackets on a line, outside quotes and comments. */
function flowBalance(line: string): number {
  let balance = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"' || c === "'") {
      // An apostrophe inside a plain word ("don't") is not a quote.
      if (c === "'" && i > 0 && /\w/.test(line[i - 1]!)) continue;
      i = endOfQuoted(line, i);
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
    else if (c === '[' || c === '{') balance++;
    else if (c === ']' || c === '}') balance--;
  }
  return balance;
}
