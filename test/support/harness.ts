import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type AppOptions, type RunningApp } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startAipayFake, type AipayFake } from '../../src/sandbox/aipay-fake.js';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/sandbox/telegram/emulator.js';
import { tempDir } from './temp-dir.js';

export const TOKEN = '123456789:TEST-token_abcdefghijklmnopqrstuvwxyz';
export const API_KEY = 'test-api-key';
export const WEBHOOK_SECRET = 'test-webhook-secret';
export const ADMIN_ID = 900;
export const MAIN_CHAT = -1001000000001;
export const CHAT_CHAT = -1001000000002;

/** A small catalog every bot test starts from: two channels, three plans (one hidden), a product. */
export const TEST_CATALOG = `
settings:
  bot_name: "Test Academy"
  languages: [ru, en]
  default_language: ru
  admins: [${ADMIN_ID}]
  support: "@help_desk"
  invoice_lifetime: 1h
channels:
  main: { chat_id: ${MAIN_CHAT}, title: { ru: "Канал", en: "Channel" } }
  chat: { chat_id: ${CHAT_CHAT}, title: { ru: "Чат", en: "Chat" } }
plans:
  monthly:
    title: { ru: "Месяц", en: "Monthly" }
    description: { ru: "Доступ к каналу", en: "Access to the channel" }
    price: 4900
    period: 1m
    channels: [main]
  bundle:
    title: { ru: "Канал + чат", en: "Channel + chat" }
    price: 12000
    period: 30d
    channels: [main, chat]
  vip:
    title: "VIP"
    price: 99000
    period: 12m
    channels: [main, chat]
    hidden: true
products:
  course:
    title: { ru: "Курс", en: "Course" }
    price: 15000
    deliver:
      text: "Thanks!"
      link: "https://example.com/course"
`;

export interface Harness {
  tg: TelegramEmulator;
  aipay: AipayFake;
  app: RunningApp;
  dir: string;
  catalogPath: string;
  databasePath: string;
  /** Writes a new catalog file (restart or swap to apply). */
  writeCatalog(yaml: string): void;
  /** Stops the app and starts it again on the same database and catalog file. */
  restart(overrides?: Partial<AppOptions>): Promise<void>;
  /** Stops the app, the emulator and the fake, and removes the folder; safe to call twice. */
  stop(): Promise<void>;
}

export interface HarnessOptions {
  catalog?: string;
  clock?: Clock;
  app?: Partial<AppOptions>;
  /** Bot rights in the catalog's chats (default: can invite and restrict). */
  botRights?: { can_invite_users?: boolean; can_restrict_members?: boolean };
  enforceRateLimits?: boolean;
}

/**
 * The real app in this process, talking HTTP to a Telegram emulator and an AiPay fake on
 * 127.0.0.1, with a real SQLite file in a fresh temporary folder.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = tempDir();
  // What is started so far, stopped in reverse if a later step throws (or by stop()).
  const undo: Array<() => Promise<unknown> | unknown> = [dir.cleanup];
  const undoAll = async () => {
    for (const step of undo.splice(0).reverse()) await Promise.resolve().then(step).catch(() => undefined);
  };
  try {
    const catalogPath = join(dir.path, 'catalog.yaml');
    const databasePath = join(dir.path, 'data', 'bot.db');
    writeFileSync(catalogPath, options.catalog ?? TEST_CATALOG);
    const tg = await startTelegramEmulator({ token: TOKEN, clock: options.clock, bot: { username: 'test_academy_bot' }, enforceRateLimits: options.enforceRateLimits });
    undo.push(() => tg.close());
    for (const [id, title] of [
      [MAIN_CHAT, 'Channel'],
      [CHAT_CHAT, 'Chat'],
    ] as const) {
      tg.addChat({ id, type: 'supergroup', title });
      tg.setBotMember(id, 'administrator', { can_invite_users: true, can_restrict_members: true, ...options.botRights });
    }
    tg.addUser({ id: ADMIN_ID, first_name: 'Admin', language_code: 'en' });
    await tg.user(ADMIN_ID).sendText('/help');
    const aipay = await startAipayFake({ apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET, clock: options.clock });
    undo.push(() => aipay.close());
    const appOptions = (): AppOptions => ({
      botToken: TOKEN,
      telegramApiRoot: tg.apiRoot,
      aipayApiKey: API_KEY,
      aipayWebhookSecret: WEBHOOK_SECRET,
      aipayBaseUrl: aipay.baseUrl,
      catalogPath,
      databasePath,
      port: 0,
      host: '127.0.0.1',
      clock: options.clock ?? { now: () => Date.now() },
      log: process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
      aipay: { timeoutMs: 1000, attempts: 3, backoffMs: 20 },
      outbox: { pollMs: 100 },
      initTimeoutMs: 5000,
      ...options.app,
    });
    let app: RunningApp | undefined = await startApp(appOptions());
    undo.push(() => app?.stop());
    aipay.setWebhookUrl(`${app.url}/webhook/aipay`);
    const h: Harness = {
      tg,
      aipay,
      get app() {
        if (!app) throw new Error('the harness app is stopped (a restart failed, or stop() was called)');
        return app;
      },
      dir: dir.path,
      catalogPath,
      databasePath,
      writeCatalog: (yaml) => writeFileSync(catalogPath, yaml),
      async restart(overrides = {}) {
        const old = app;
        app = undefined;
        await old?.stop();
        app = await startApp({ ...appOptions(), ...overrides });
        aipay.setWebhookUrl(`${app.url}/webhook/aipay`);
      },
      // Safe to call twice, and after a failed restart: every part is stopped even if another fails.
      stop: undoAll,
    };
    return h;
  } catch (error) {
    await undoAll();
    throw error;
  }
}
