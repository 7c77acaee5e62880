/**
 * CSV in and out for the admin commands. Out: RFC 4180 (CRLF, fields quoted when they hold a
 * separator, quote or line break), UTF-8 with a BOM so Excel opens Cyrillic correctly. In: the
 * same, with `,` or `;` as the separator (Excel writes `;` in many locales), a BOM or not.
 */

export type CsvValue = string | number | null | undefined;

const BOM = '\ufeff';

/**
 * Text a spreadsheet would run as a formula: `=`, `+`, `-` or `@` first, also after spaces, tabs
 * or line breaks (Excel and LibreOffice skip those when they look for a formula), or a tab or line
 * break first.
 */
const FORMULA_START = /^(\s*[=+\-@]|[\t\r\n])/;

/**
 * One field. Text that a spreadsheet would run as a formula gets a leading apostrophe, so a
 * customer named "=HYPERLINK(…)" or " =HYPERLINK(…)" stays text in Excel; numbers are written as
 * they are.
 */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole file: header row, then the rows; CRLF line ends, BOM first. */
export function toCsv(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return BOM + lines.join('\r\n') + '\r\n';
}

export interface CsvRecord {
  /** The line the record starts on, 1-based (the header is row 1), as an editor shows it. */
  row: number;
  fields: string[];
}

/** The separator of a file: the one of `,` and `;` that occurs more often in its first line (outside quotes). */
export function detectSeparator(text: string): ',' | ';' {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch === ',') commas++;
    else if (!quoted && ch === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

/**
 * Parses CSV text into records (RFC 4180: quoted fields may hold separators, doubled quotes and
 * line breaks; CRLF or LF). Blank lines are skipped but still counted, so `row` matches the line
 * an editor shows. Unquoted fields are trimmed. A BOM is dropped.
 */
export function parseCsv(input: string, separator: ',' | ';' = detectSeparator(input.replace(/^\ufeff/, ''))): CsvRecord[] {
  const text = input.replace(/^\ufeff/, '');
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldWasQuoted = false;
  let row = 1;
  let recordRow = 1;
  const endField = () => {
    fields.push(fieldWasQuoted ? field : field.trim());
    field = '';
    fieldWasQuoted = false;
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) records.push({ row: recordRow, fields });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') row++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field.trim() === '') {
      quoted = true;
      fieldWasQuoted = true;
      field = '';
    } else if (ch === separator) endField();
    else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      row++;
      recordRow = row;
    } else if (!(fieldWasQuoted && ch.trim() === '')) field += ch;
  }
  if (field !== '' || fields.length > 0 || fieldWasQuoted) endRecord();
  return records;
}
