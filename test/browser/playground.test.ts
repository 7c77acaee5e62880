import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/logger.js';
import { projectRoot } from '../../src/project-root.js';
import { startPlayground, type RunningPlayground } from '../../src/sandbox/playground/start-playground.js';
import { tempDir } from '../support/temp-dir.js';

/*
 * The playground in a real Chromium: a creator's first sale, a month later, and a broken catalog
 * edit, driven only through the page. UPDATE_SCREENSHOTS=1 writes the screenshots to docs/screenshots/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CREATOR_ID = 555000111;
/** UPDATE_SCREENSHOTS=1 refreshes the README's screenshots; other runs write them to the temp folder. */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

let dir: ReturnType<typeof tempDir>;
let catalogPath: string;
let playground: RunningPlayground;
let browser: Browser;
let page: Page;
let shots: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  dir = tempDir();
  catalogPath = join(dir.path, 'catalog.yaml');
  shots = UPDATE_SCREENSHOTS ? join(projectRoot, 'docs', 'screenshots') : dir.path;
  const example = readFileSync(join(projectRoot, 'catalog.example.yaml'), 'utf8');
  writeFileSync(catalogPath, example.replace(/admins: \[\d+\]/, `admins: [${CREATOR_ID}]`));
  playground = await startPlayground({
    catalogPath,
    databasePath: join(dir.path, 'data', 'playground.db'),
    port: 0,
    log: process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(10_000);
});

afterAll(async () => {
  await browser?.close();
  await playground?.stop();
  dir?.cleanup();
});

const bubbles = () => page.locator('.bubble.bot');
const lastButton = (label: RegExp) => page.locator('.inline-button', { hasText: label }).last();
const channel = (key: string) => page.locator(`.chat-card[data-chat="${key}"]`);
/** A screenshot without the passing toast, the chat scrolled to its end. */
async function screenshot(name: string): Promise<void> {
  await page.evaluate(() => {
    document.getElementById('toast')!.hidden = true;
    const chat = document.getElementById('chat')!;
    chat.scrollTop = chat.scrollHeight;
  });
  await page.screenshot({ path: join(shots, name) });
}

describe('the playground in a browser', () => {
  it('sells the monthly plan to Emma, lets her in, removes her a month later, and shows a broken catalog edit', async () => {
    await page.goto(playground.url);
    await expect.poll(() => page.locator('#bot-name').textContent()).toBe('Python Academy');
    await expect.poll(() => page.locator('.user-tab').allTextContents()).toEqual(['You (creator, admin)', 'Aigerim (kk)', 'Dmitry (ru)', 'Emma (en)']);
    await page.locator('.user-tab', { hasText: 'Emma (en)' }).click();

    // /start → the menu → the monthly plan's card → Buy.
    await page.fill('#message-input', '/start');
    await page.press('#message-input', 'Enter');
    await lastButton(/^Channel for 1 month/).click();
    await bubbles().filter({ hasText: 'All lessons and reviews in the private channel' }).last().waitFor();
    await lastButton(/^Buy for/).click();

    // Share the contact from the reply keyboard → a Kaspi invoice arrives.
    await page.locator('.reply-button.contact').click();
    await bubbles().filter({ hasText: /^Invoice for 4\s900\s₸ sent to/ }).waitFor();
    const invoice = page.locator('.invoice.pending');
    await expect.poll(() => invoice.count()).toBe(1);
    expect(await invoice.textContent()).toContain('Emma (en)');
    expect(await invoice.textContent()).toContain('Python Academy');
    expect(playground.aipay.invoices).toHaveLength(1);
    expect(playground.aipay.invoices[0]).toMatchObject({ amount: 4900, phone: '77011000003', status: 'pending' });

    // Pay: a correctly signed webhook reaches the app; the receipt and the join link follow.
    await invoice.getByRole('button', { name: 'Pay' }).click();
    await bubbles().filter({ hasText: /^Payment received: Channel for 1 month/ }).waitFor();
    await expect.poll(() => page.locator('.invoice.paid').count()).toBe(1);
    const link = page.locator('.bubble.bot a.invite-link').last();
    await link.waitFor();
    expect(await link.getAttribute('data-link')).toMatch(/^https:\/\/t\.me\/\+/);

    // The link asks to join; the bot approves the request of a paying customer.
    await link.click();
    await channel('main').locator('.members li', { hasText: 'Emma (en)' }).waitFor();
    expect(await channel('main').textContent()).toContain('Emma (en) — approved');
    await screenshot('playground-chat.png');

    // A month later: the reminders, the end, the removal.
    const started = Date.now();
    await page.getByRole('button', { name: '+31 days' }).click();
    await bubbles().filter({ hasText: /has ended/ }).waitFor({ timeout: 30_000 });
    const texts = await bubbles().allTextContents();
    expect(texts.filter((t) => /Your subscription Channel for 1 month ends/.test(t)).length).toBeGreaterThanOrEqual(1);
    await channel('main').locator('.removals li', { hasText: 'Emma (en)' }).waitFor();
    expect(await channel('main').locator('.members').textContent()).not.toContain('Emma (en)');
    expect(await page.locator('#clock-offset').textContent()).toContain('31 days ahead');
    expect(Date.now() - started).toBeLessThan(30_000);
    await screenshot('playground-after-31-days.png');

    // A broken edit: the page lists the problem with its line; the app keeps the running catalog.
    const source = readFileSync(catalogPath, 'utf8');
    const line = source.split('\n').findIndex((l) => l.includes('price: 4900')) + 1;
    writeFileSync(catalogPath, source.replace('price: 4900', 'price: "4 900 тг"'));
    const problem = page.locator('#catalog-status.bad .problem').first();
    await problem.waitFor();
    expect(await problem.textContent()).toContain(`line ${line},`);
    expect(await problem.textContent()).toContain('plans.monthly.price');
    expect(playground.app.catalog.current().plans.get('monthly')?.price).toBe(4900);
  });
});
