import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/logger.js';
import { projectRoot } from '../../src/project-root.js';
import { startPlayground, type RunningPlayground } from '../../src/sandbox/playground/start-playground.js';
import { tempDir } from '../support/temp-dir.js';

/*
 * The playground in a real Chromium: a creator's first sale, its end and removal, and a broken
 * catalog edit, driven only through the page; then the clock's jumps from month ends and a 31-day
 * month. Each playground's clock starts at a pinned instant, never today's date.
 * UPDATE_SCREENSHOTS=1 writes the screenshots to docs/screenshots/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CREATOR_ID = 555000111;
/** UPDATE_SCREENSHOTS=1 refreshes the README's screenshots; other runs write them to the temp folder. */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

/** Every scenario starts at a pinned instant, so what it sees never depends on today's date. */
const at = (iso: string) => Date.parse(iso);
/** Waits for what a clock jump causes: it runs every job after each hour it moves, so it takes a while. */
const JUMP_WAIT = { timeout: 120_000 };
/** A scenario's own limit: a few jumps, each waited for as long as JUMP_WAIT. */
const SCENARIO_TIMEOUT = 600_000;

let browser: Browser;
let page: Page;
let shots: string;
let dir: ReturnType<typeof tempDir> | undefined;
let catalogPath: string;
let current: RunningPlayground | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  await page?.close();
  await current?.stop();
  dir?.cleanup();
  current = undefined;
  dir = undefined;
});

/** A fresh playground on the example catalog whose clock starts at `startAt`, open in a new page. */
async function openPlayground(startAt: number): Promise<RunningPlayground> {
  dir = tempDir();
  catalogPath = join(dir.path, 'catalog.yaml');
  shots = UPDATE_SCREENSHOTS ? join(projectRoot, 'docs', 'screenshots') : dir.path;
  const example = readFileSync(join(projectRoot, 'catalog.example.yaml'), 'utf8');
  writeFileSync(catalogPath, example.replace(/admins: \[\d+\]/, `admins: [${CREATOR_ID}]`));
  current = await startPlayground({
    catalogPath,
    databasePath: join(dir.path, 'data', 'playground.db'),
    port: 0,
    log: process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
    startAt,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(10_000);
  await page.goto(current.url);
  return current;
}

const bubbles = () => page.locator('.bubble.bot');
const lastButton = (label: RegExp) => page.locator('.inline-button', { hasText: label }).last();
const channel = (key: string) => page.locator(`.chat-card[data-chat="${key}"]`);
const jump = (label: string) => page.locator('.clock .jumps button', { hasText: label });
const reminders = () => bubbles().filter({ hasText: /Your subscription Channel for 1 month ends/ });
/** A screenshot without the passing toast, the chat scrolled to its end. */
async function screenshot(name: string): Promise<void> {
  await page.evaluate(() => {
    document.getElementById('toast')!.hidden = true;
    const chat = document.getElementById('chat')!;
    chat.scrollTop = chat.scrollHeight;
  });
  await page.screenshot({ path: join(shots, name) });
}

/** As Emma: /start → the monthly plan → Buy → share the contact → Pay the Kaspi invoice → open the join link. */
async function emmaBuysTheMonthlyPlan(): Promise<void> {
  await page.locator('.user-tab', { hasText: 'Emma (en)' }).click();
  await page.fill('#message-input', '/start');
  await page.press('#message-input', 'Enter');
  await lastButton(/^Channel for 1 month/).click();
  await bubbles().filter({ hasText: 'All lessons and reviews in the private channel' }).last().waitFor();
  await lastButton(/^Buy for/).click();
  await page.locator('.reply-button.contact').click();
  await page.locator('.invoice.pending').getByRole('button', { name: 'Pay' }).click();
  await bubbles().filter({ hasText: /^Payment received: Channel for 1 month/ }).waitFor();
  await page.locator('.bubble.bot a.invite-link').last().click();
  await channel('main').locator('.members li', { hasText: 'Emma (en)' }).waitFor();
}

/** The jump API's answer, as the page gets it. */
async function postJump(to: string): Promise<[number, unknown]> {
  return page.evaluate(async (body) => {
    const res = await fetch('/api/clock/jump', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return [res.status, await res.json()] as [number, unknown];
  }, JSON.stringify({ to }));
}

describe('the playground in a browser', () => {
  it('sells the monthly plan to Emma, lets her in, removes her after the end and the grace day, and shows a broken catalog edit', async () => {
    const playground = await openPlayground(at('2026-12-07T12:00+05:00'));
    await expect.poll(() => page.locator('#bot-name').textContent()).toBe('Python Academy');
    await expect.poll(() => page.locator('.user-tab').allTextContents()).toEqual(['You (creator, admin)', 'Aigerim (kk)', 'Dmitry (ru)', 'Emma (en)']);
    expect(await page.locator('#clock-now').textContent()).toContain('07 Dec 2026, 12:0');
    expect(await page.locator('#clock-offset').textContent()).toBe('(started 07 Dec 2026, 12:00)');
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

    // The end of the month (7 January): the reminders 3 days before, 1 day before and on the day.
    await jump('→ end of subscription').click();
    await bubbles().filter({ hasText: /Your subscription Channel for 1 month ends today/ }).waitFor(JUMP_WAIT);
    await expect.poll(() => page.locator('#clock-now').textContent(), JUMP_WAIT).toContain('07 Jan 2027');
    await expect.poll(() => reminders().count(), JUMP_WAIT).toBe(3);
    expect(await channel('main').locator('.members').textContent()).toContain('Emma (en)');

    // The grace day later: the removal and the "has ended" message.
    await jump('→ removal (end + grace)').click();
    await bubbles().filter({ hasText: /has ended/ }).waitFor(JUMP_WAIT);
    await channel('main').locator('.removals li', { hasText: 'Emma (en)' }).waitFor(JUMP_WAIT);
    expect(await channel('main').locator('.members').textContent()).not.toContain('Emma (en)');
    await expect.poll(() => page.locator('#clock-now').textContent(), JUMP_WAIT).toContain('08 Jan 2027');
    expect(await page.locator('#clock-offset').textContent()).toMatch(/^\(started 07 Dec 2026, 12:00, moved 3\d(\.\d)? days ahead\)$/);
    await screenshot('playground-end-and-removal.png');

    // A broken edit: the page lists the problem with its line; the app keeps the running catalog.
    const source = readFileSync(catalogPath, 'utf8');
    const line = source.split('\n').findIndex((l) => l.includes('price: 4900')) + 1;
    writeFileSync(catalogPath, source.replace('price: 4900', 'price: "4 900 тг"'));
    const problem = page.locator('#catalog-status.bad .problem').first();
    await problem.waitFor();
    expect(await problem.textContent()).toContain(`line ${line},`);
    expect(await problem.textContent()).toContain('plans.monthly.price');
    expect(playground.app.catalog.current().plans.get('monthly')?.price).toBe(4900);
  }, SCENARIO_TIMEOUT);
});

describe("the playground clock's jumps", () => {
  // 30 January: the month ends on 28 February (clamped); 28 February: from the last day of a short
  // month to 28 March; 4 December: a 31-day month, where 1 month + the grace day is more than the
  // "+31 days" button. All at 10:00 in Almaty (UTC+5), the reminders' own time.
  const starts = [
    { start: '2027-01-30T10:00+05:00', reminder: '25 Feb 2027', removal: '01 Mar 2027' },
    { start: '2027-02-28T10:00+05:00', reminder: '25 Mar 2027', removal: '29 Mar 2027' },
    { start: '2026-12-04T10:00+05:00', reminder: '01 Jan 2027', removal: '05 Jan 2027' },
  ];
  for (const { start, reminder, removal } of starts) {
    it(`from ${start}, reaches the first reminder, then the removal after the end and the grace day`, async () => {
      await openPlayground(at(start));
      // Nothing to jump to before a purchase: the buttons are disabled, and the API says why.
      await expect.poll(() => jump('→ removal').isDisabled()).toBe(true);
      expect(await jump('→ next reminder').isDisabled()).toBe(true);
      expect(await postJump('removal')).toEqual([409, { error: 'Nobody is due for removal: no simulated customer has an active subscription. Buy a plan first.' }]);

      await emmaBuysTheMonthlyPlan();
      await jump('→ next reminder').click();
      await reminders().first().waitFor(JUMP_WAIT);
      await expect.poll(() => page.locator('#clock-now').textContent(), JUMP_WAIT).toContain(reminder);
      expect(await reminders().count()).toBe(1);
      expect(await bubbles().filter({ hasText: /has ended/ }).count()).toBe(0);

      await jump('→ removal').click();
      await bubbles().filter({ hasText: /Your subscription Channel for 1 month has ended/ }).waitFor(JUMP_WAIT);
      await channel('main').locator('.removals li', { hasText: 'Emma (en)' }).waitFor(JUMP_WAIT);
      expect(await channel('main').locator('.members').textContent()).not.toContain('Emma (en)');
      await expect.poll(() => page.locator('#clock-now').textContent(), JUMP_WAIT).toContain(removal);
      await expect.poll(() => reminders().count(), JUMP_WAIT).toBe(3);
      // Ended: nothing left to jump to.
      await expect.poll(() => jump('→ end of subscription').isDisabled()).toBe(true);
    }, SCENARIO_TIMEOUT);
  }
});
