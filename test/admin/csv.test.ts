import { describe, expect, it } from 'vitest';
import { csvField, detectSeparator, parseCsv, toCsv } from '../../src/admin/csv.js';

describe('writing CSV', () => {
  it('starts with a UTF-8 BOM, ends lines with CRLF and quotes only fields that need it', () => {
    const csv = toCsv(['id', 'name', 'note'], [
      [1, 'Асель', null],
      [2, 'Smith, John', 'says "hi"\nthen leaves'],
    ]);
    expect(csv.startsWith('\ufeff')).toBe(true);
    expect(csv.slice(1)).toBe('id,name,note\r\n1,Асель,\r\n2,"Smith, John","says ""hi""\nthen leaves"\r\n');
  });

  it('keeps text that a spreadsheet would run as a formula as text, but numbers as numbers', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@bob')).toBe("'@bob");
    expect(csvField(-1001000000001)).toBe('-1001000000001');
  });

  it('also keeps a formula behind spaces, tabs or line breaks as text', () => {
    expect(csvField('  =HYPERLINK("http://evil","Click")')).toBe(`"'  =HYPERLINK(""http://evil"",""Click"")"`);
    expect(csvField(' +1+cmd|calc')).toBe("' +1+cmd|calc");
    expect(csvField('\t-2+3')).toBe("'\t-2+3");
    expect(csvField('\n@SUM(A1:A9)')).toBe(`"'\n@SUM(A1:A9)"`);
    expect(csvField('\r\n =1')).toBe(`"'\r\n =1"`);
    expect(csvField('\u00a0=1')).toBe("'\u00a0=1"); // a no-break space is skipped too
    // Ordinary text with a sign later on is left alone.
    expect(csvField('Aigerim Nurlanovna')).toBe('Aigerim Nurlanovna');
    expect(csvField('a = b')).toBe('a = b');
    expect(csvField('  Smith')).toBe('  Smith');
  });

  it('reads back what it wrote, field for field', () => {
    const rows = [
      ['1', 'a;b', 'x'],
      ['2', 'line\nbreak', '"quoted"'],
    ];
    expect(parseCsv(toCsv(['a', 'b', 'c'], rows)).map((r) => r.fields)).toEqual([['a', 'b', 'c'], ...rows]);
  });
});

describe('reading CSV', () => {
  it('detects ; or , from the header row, ignoring separators inside quotes', () => {
    expect(detectSeparator('telegram_id;plan;end_date\n1,2;3')).toBe(';');
    expect(detectSeparator('"a;b;c",plan,end\n')).toBe(',');
  });

  it('numbers rows by their line, counting blank lines and the header, and trims unquoted fields', () => {
    const records = parseCsv('\ufefftelegram_id ; plan ; end_date\r\n\r\n 1 ; monthly ; 2026-12-31 \r\n2;vip;2027-01-01');
    expect(records).toEqual([
      { row: 1, fields: ['telegram_id', 'plan', 'end_date'] },
      { row: 3, fields: ['1', 'monthly', '2026-12-31'] },
      { row: 4, fields: ['2', 'vip', '2027-01-01'] },
    ]);
  });
});
