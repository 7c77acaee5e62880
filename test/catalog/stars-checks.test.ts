import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load-catalog.js';
import { formatProblem } from '../../src/catalog/problem.js';
import { tempDir } from '../support/temp-dir.js';

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

const catalog = (payments: string, monthlyStars: string) => `
settings:
  bot_name: "Test"
  ${payments}
channels:
  main: { chat_id: -1001000000001, title: "Channel" }
plans:
  monthly:
    title: "Monthly"
    price: 4900
${monthlyStars}    period: 1m
    channels: [main]
`;

function problems(yaml: string): string[] {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir.path, 'catalog.yaml');
  writeFileSync(path, yaml);
  const result = loadCatalog(path);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe('Telegram Stars in catalog.yaml', () => {
  it('accepts a plan sold for Kaspi and Stars', () => {
    expect(problems(catalog('payments: [kaspi, stars]', '    stars: 250\n'))).toEqual([]);
  });
  it('refuses a price in Stars outside Telegram’s 1..10000, with the fix', () => {
    expect(problems(catalog('payments: [stars]', '    stars: 20000\n')).join('\n')).toMatch(/plans\.monthly\.stars +20000 is too large — use at most 10000/);
    expect(problems(catalog('payments: [stars]', '    stars: 2.5\n')).join('\n')).toMatch(/plans\.monthly\.stars /);
  });
  it('refuses an item without stars when only Stars are offered', () => {
    expect(problems(catalog('payments: [stars]', '')).join('\n')).toMatch(/plans\.monthly .*no price in Stars.*add stars: 250/);
  });
  it('refuses stars on an item while payments does not offer Stars', () => {
    expect(problems(catalog('timezone: Asia/Almaty', '    stars: 250\n')).join('\n')).toMatch(/plans\.monthly\.stars .*does not offer stars.*payments: \[kaspi, stars\]/);
  });
});
