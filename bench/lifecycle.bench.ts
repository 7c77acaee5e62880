import { join } from 'node:path';
import { Api } from 'grammy';
import { startApp } from '../src/app.js';
import { loadCatalogOrThrow } from '../src/app.js';
import { ManualClock, systemClock } from '../src/clock.js';
import { silentLogger } from '../src/logger.js';
import { dueReminders, runReminders } from '../src/lifecycle/reminders-job.js';
import { endingSubscriptions } from '../src/lifecycle/expiry-job.js';
import { openDatabase } from '../src/storage/open-database.js';
import { startAipayFake } from '../src/sandbox/aipay-fake.js';
import { startTelegramEmulator } from '../src/sandbox/telegram/emulator.js';
import { fmt, tempFolder, writeCatalog } from './support.js';
import { Outbox } from '../src/outbox/outbox.js';

const TOKEN = '123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz';
const CHAT = -1001000000001;
const HOUR = 3_600_000;
// 10:00 in Almaty (UTC+5) on 7 December 2026: same-day reminders are due.
const NOW = Date.parse('2026-12-07T05:00:00Z');

function seed(db: ReturnType<typeof openDatabase>, total: number, due: number, firstUserId: number): void {
  const terms = JSON.stringify({ kind: 'plan', id: 'monthly', title: 'Monthly', price: 4900, period: { unit: 'months', count: 1 }, periodText: '1m', chats: [{ id: 'main', chatId: CHAT, title: 'Main' }] });
  const customer = db.prepare("INSERT INTO customers (user_id, first_name, language, created_at, updated_at) VALUES (?, 'Bench', 'ru', 0, 0)");
  const sub = db.prepare("INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, created_at, updated_at) VALUES (?, 'monthly', ?, 0, ?, 'active', 0, 0)");
  db.transaction(() => {
    for (let i = 0; i < total; i++) {
      customer.run(firstUserId + i);
      // The first `due` end today at 20:00 local (a reminder is due now); the rest end 10–60 days out.
      const endsAt = i < due ? NOW + 10 * HOUR : NOW + (10 + (i % 50)) * 24 * HOUR;
      sub.run(firstUserId + i, terms, endsAt);
    }
  })();
}

/**
 * The decisions on 100 000 subscriptions with 10 000 due (time and memory, streamed), then 2 000
 * reminders through the outbox against the emulator enforcing Telegram's limits.
 */
export async function lifecycleBench(): Promise<string[]> {
  const dir = tempFolder();
  const lines: string[] = [];
  try {
    const catalogPath = writeCatalog(dir.path, CHAT);
    const catalog = loadCatalogOrThrow(catalogPath);
    const db = openDatabase(join(dir.path, 'decisions.db'));
    seed(db, 100_000, 10_000, 30_000_000);
    // Expired ones for the expiry query: the same 10 000, seen after their end.
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = heapBefore;
    const t0 = performance.now();
    let due = 0;
    for (const _ of dueReminders(db, catalog, NOW)) {
      due++;
      if (due % 1000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    const reminderMs = performance.now() - t0;
    const t1 = performance.now();
    let ending = 0;
    for (const _ of endingSubscriptions(db, 0, NOW + 11 * HOUR)) {
      ending++;
      if (ending % 1000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    const expiryMs = performance.now() - t1;
    db.close();
    lines.push(
      `| reminder decisions, 100,000 subscriptions, ${due.toLocaleString('en')} due | ${fmt(reminderMs, 0)} ms (target < 200 ms) | heap +${fmt((peak - heapBefore) / 1e6)} MB at peak |`,
      `| expiry decisions, ${ending.toLocaleString('en')} ending | ${fmt(expiryMs, 0)} ms (target < 200 ms) | |`,
    );

    // 2 000 reminders through the outbox, Telegram's limits enforced by the emulator.
    const N = 2000;
    const clock = new ManualClock(NOW);
    const tg = await startTelegramEmulator({ token: TOKEN, enforceRateLimits: true });
    tg.addChat({ id: CHAT, type: 'supergroup', title: 'Main' });
    tg.setBotMember(CHAT, 'administrator');
    for (let i = 0; i < N; i++) await tg.addUser({ id: 40_000_000 + i, first_name: 'R' }).sendText('/help');
    // The bot has seen them already: drop those updates before it starts.
    const api = new Api(TOKEN, { apiRoot: tg.apiRoot });
    const last = await api.getUpdates({ offset: -1, timeout: 0 });
    await api.getUpdates({ offset: (last[0]?.update_id ?? 0) + 1, timeout: 0 });
    const aipay = await startAipayFake({ apiKey: 'k', webhookSecret: 's' });
    const databasePath = join(dir.path, 'bot.db');
    const seedDb = openDatabase(databasePath);
    seed(seedDb, N, N, 40_000_000);
    seedDb.close();
    const app = await startApp({
      botToken: TOKEN,
      telegramApiRoot: tg.apiRoot,
      aipayApiKey: 'k',
      aipayWebhookSecret: 's',
      aipayBaseUrl: aipay.baseUrl,
      catalogPath,
      databasePath,
      port: 0,
      host: '127.0.0.1',
      clock,
      log: silentLogger(),
    });
    await app.scheduler.stop();
    await app.worker.drain(30_000);
    const sentBefore = tg.stats.sent;
    const limitedBefore = tg.stats.tooManyRequests;
    const t2 = performance.now();
    await runReminders({ db: app.db, outbox: new Outbox(app.db, clock), catalog: app.catalog.current(), checkout: undefined as never, log: silentLogger() }, clock.now());
    app.worker.wake();
    while (tg.stats.sent - sentBefore < N && performance.now() - t2 < 300_000) await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - t2) / 1000;
    const rate = (tg.stats.sent - sentBefore) / seconds;
    await app.stop();
    await aipay.close();
    await tg.close();
    lines.push(
      `| ${N.toLocaleString('en')} reminders through the outbox, emulator enforcing 30/s | ${fmt(rate)} messages/s, ${tg.stats.tooManyRequests - limitedBefore} × 429 | ${fmt((100 * rate) / 30, 0)} % of 30/s (target ≥ 95 %, zero 429) |`,
    );
    void systemClock;
    return lines;
  } finally {
    dir.cleanup();
  }
}
