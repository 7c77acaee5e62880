import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_ID, startHarness, TEST_CATALOG, type Harness } from '../support/harness.js';
import { checkoutToInvoice } from '../support/checkout-steps.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

async function until<T>(f: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const WITH_WEEKLY = TEST_CATALOG.replace(
  'plans:\n',
  'plans:\n  weekly:\n    title: { ru: "Неделя", en: "Weekly" }\n    price: 1900\n    period: 7d\n    channels: [main]\n',
);

describe('editing catalog.yaml while the bot runs', () => {
  it('shows a new plan in the menu as soon as the file is saved, without a restart', async () => {
    const u = h.tg.addUser({ id: 51, first_name: 'Hot', language_code: 'en' });
    writeFileSync(h.catalogPath, WITH_WEEKLY);
    await until(() => h.app.catalog.current().plans.has('weekly'), 'the reload');
    await u.sendText('/start');
    const menu = await u.waitForMessage();
    expect(u.buttons(menu)[0]).toBe('Weekly · 1\u00a0900\u00a0₸');
  });

  it('picks up an editor that saves by writing a new file and renaming it over the old one', async () => {
    const tmp = join(h.dir, '.catalog.yaml.swp');
    writeFileSync(tmp, WITH_WEEKLY);
    renameSync(tmp, h.catalogPath);
    await until(() => h.app.catalog.current().plans.has('weekly'), 'the reload after a rename');
  });

  it('keeps serving the old catalog after a broken edit and sends the admins every error with its line', async () => {
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    writeFileSync(h.catalogPath, TEST_CATALOG.replace('price: 4900', 'price: "4 900 тг"').replace('period: 30d', 'period: 30 days'));
    const alert = await admin.waitForMessage((m) => m.text?.includes('not applied') ?? false, 8000);
    expect(alert.text).toContain('plans.monthly.price  "4 900 тг" must be a plain number — write 4900');
    expect(alert.text).toMatch(/catalog\.yaml:\d+:\d+ {2}plans\.bundle\.period/);
    expect(h.app.catalog.current().plans.get('monthly')?.price).toBe(4900);
    const u = h.tg.addUser({ id: 52, first_name: 'Still', language_code: 'en' });
    await u.sendText('/start monthly');
    expect((await u.waitForMessage()).text).toContain('4\u00a0900\u00a0₸');
  });

  it('applies an edit that has only warnings and tells the admins each warning with its line', async () => {
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    writeFileSync(h.catalogPath, WITH_WEEKLY.replace('{ ru: "Неделя", en: "Weekly" }', '{ ru: "Неделя" }'));
    await until(() => h.app.catalog.current().plans.has('weekly'), 'the reload');
    const alert = await admin.waitForMessage((m) => m.text?.includes('reloaded: it works, but check') ?? false, 8000);
    expect(alert.text).toMatch(
      /^ℹ️ catalog\.yaml reloaded: it works, but check this warning:\ncatalog\.yaml:\d+:\d+ {2}plans\.weekly\.title {2}warning: no en translation — customers who chose en see the ru text instead; add en: "…"$/,
    );
  });

  it('reloads on SIGHUP the same way (reloadCatalog)', async () => {
    writeFileSync(h.catalogPath, WITH_WEEKLY);
    expect(h.app.reloadCatalog()).toBe(true);
    expect(h.app.catalog.current().plans.has('weekly')).toBe(true);
  });

  it('moves the nightly backup to 03:30 in the new time zone when the catalog changes it', async () => {
    const utcTime = (d: Date | null) => d && `${d.getUTCHours()}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    expect(utcTime(h.app.scheduler.nextRun('backup'))).toBe('22:30'); // 03:30 in Almaty (UTC+5)
    writeFileSync(h.catalogPath, TEST_CATALOG.replace('settings:\n', 'settings:\n  timezone: Europe/Moscow\n'));
    expect(h.app.reloadCatalog()).toBe(true);
    await until(() => utcTime(h.app.scheduler.nextRun('backup')) === '0:30', 'the backup at 03:30 Moscow time (UTC+3)');
  });

  it('keeps the terms existing subscribers paid for when the price and period change', async () => {
    const u = h.tg.addUser({ id: 53, first_name: 'Loyal', language_code: 'en' });
    await checkoutToInvoice(u);
    await h.aipay.pay(h.aipay.invoices[0]!.invoice_id);
    const before = h.app.db.prepare('SELECT ends_at, terms FROM subscriptions WHERE user_id = 53').get() as { ends_at: number; terms: string };
    writeFileSync(h.catalogPath, TEST_CATALOG.replace('price: 4900', 'price: 5900').replace('period: 1m', 'period: 2m'));
    await until(() => h.app.catalog.current().plans.get('monthly')?.price === 5900, 'the reload');
    const after = h.app.db.prepare('SELECT ends_at, terms FROM subscriptions WHERE user_id = 53').get() as { ends_at: number; terms: string };
    expect(after).toEqual(before);
    expect(JSON.parse(after.terms)).toMatchObject({ price: 4900, periodText: '1m' });
  });

  it('stops selling a removed plan, lets its subscribers keep access, and offers them current plans', async () => {
    h.app.db.prepare("INSERT INTO customers (user_id, first_name, language, created_at, updated_at) VALUES (54, 'Old', 'en', 0, 0)").run();
    const terms = JSON.stringify({ kind: 'plan', id: 'bundle', title: { en: 'Channel + chat' }, price: 12000, period: { unit: 'days', count: 30 }, periodText: '30d', channels: ['main', 'chat'] });
    h.app.db.prepare("INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, created_at, updated_at) VALUES (54, 'bundle', ?, 0, ?, 'active', 0, 0)").run(terms, Date.now() + 86_400_000 * 10);
    writeFileSync(h.catalogPath, TEST_CATALOG.replace(/  bundle:\n(    .*\n)+/, ''));
    await until(() => !h.app.catalog.current().plans.has('bundle'), 'the reload');
    const u = h.tg.addUser({ id: 54, first_name: 'Old', language_code: 'en' });
    await u.sendText('/my');
    const my = await u.waitForMessage();
    expect(my.text).toContain('Channel + chat: active until');
    expect(u.buttons(my).some((b) => b.startsWith('Renew'))).toBe(false);
    await u.sendText('/start bundle');
    expect((await u.waitForMessage()).text).toContain("I couldn't find that offer");
  });
});
