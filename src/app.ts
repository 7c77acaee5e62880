import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { RunnerHandle } from '@grammyjs/runner';
import { Api, BotError, GrammyError, HttpError } from 'grammy';
import type { BotCommand, Update } from 'grammy/types';
import { CatalogStore } from './catalog/catalog-store.js';
import { loadCatalog } from './catalog/load-catalog.js';
import { releaseCatalogValidator } from './catalog/schema-validator.js';
import { CatalogReloader } from './catalog/watch-catalog.js';
import { escapeHtml } from './bot/html.js';
import { formatProblem, type CatalogProblem } from './catalog/problem.js';
import { text } from './catalog/texts.js';
import type { Catalog } from './catalog/types.js';
import type { Clock } from './clock.js';
import { Customers } from './customers/customers.js';
import { createBot } from './bot/create-bot.js';
import { InFlight } from './bot/in-flight.js';
import { isEntitled } from './access/entitlement.js';
import { describeChannelChanges } from './access/describe-channel-changes.js';
import { resolveChannelKeys } from './access/resolve-channel-keys.js';
import { joinRequests } from './access/join-requests.js';
import { AccessQueries } from './access/access-queries.js';
import { adminPayments } from './admin/admin-payments.js';
import { adminCommands } from './admin/admin-commands.js';
import { membership } from './access/membership.js';
import { runPaidChecks } from './lifecycle/paid-checks.js';
import { runExpiry, runStaleInvoices } from './lifecycle/expiry-job.js';
import { runReminders } from './lifecycle/reminders-job.js';
import { Scheduler } from './lifecycle/scheduler.js';
import { backupDatabase, defaultBackupDir } from './ops/backup-database.js';
import { aipayWebhookRouter } from './http/aipay-webhook-route.js';
import { TELEGRAM_WEBHOOK_PATH, telegramWebhookRouter } from './http/telegram-webhook-route.js';
import { createApp } from './http/create-app.js';
import { startServer, type ServerLimits } from './http/start-server.js';
import { Metrics } from './http/metrics.js';
import type { Logger } from './logger.js';
import { Outbox } from './outbox/outbox.js';
import { OutboxWorker } from './outbox/worker.js';
import { AipayClient } from './payments/aipay-client.js';
import { Checkout } from './payments/checkout.js';
import { Orders } from './payments/orders.js';
import { decidePreCheckout } from './payments/stars.js';
import { starsFeature } from './bot/stars-feature.js';
import { openDatabase, type Db } from './storage/open-database.js';
import { StoreError } from './storage/errors.js';
import { databaseHealth } from './storage/write-health.js';
import { resolveLanguage } from './bot/flavor.js';
import { InboxDispatcher } from './inbox/dispatcher.js';
import { Inbox } from './inbox/inbox.js';
import { pollIntoInbox } from './inbox/poll-into-inbox.js';
import { pacedFetch } from './telegram/paced-api.js';
import { SendPace } from './telegram/send-pace.js';

/** A button press that would wait longer than this for its reply is answered "one moment" at once. */
const ONE_MOMENT_AFTER_MS = 3000;

/** Updates the bot asks Telegram for (chat_member must be asked for explicitly). */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'chat_join_request', 'chat_member', 'my_chat_member', 'pre_checkout_query'] as const;

/** Something the operator must fix before the bot can start; the message says what and how. */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly problems: CatalogProblem[] = [],
  ) {
    super(message);
  }
}

export interface AppOptions {
  botToken: string;
  telegramApiRoot?: string;
  aipayApiKey: string;
  aipayWebhookSecret: string;
  aipayBaseUrl: string;
  catalogPath: string;
  databasePath: string;
  /** HTTP port; 0 = any free port (tests). */
  port: number;
  /** Interface the HTTP server listens on (default: '127.0.0.1', where the reverse proxy reaches it). */
  host?: string;
  /** Timeouts and the connection limit of the HTTP server (tests lower them; defaults in ServerLimits). */
  http?: ServerLimits;
  /** Bearer token GET /metrics requires; unset = /metrics answers 404. */
  metricsToken?: string;
  clock: Clock;
  log: Logger;
  /** AiPay client tuning (tests shorten the timeouts). */
  aipay?: { timeoutMs?: number; attempts?: number; backoffMs?: number };
  /** Outbox worker tuning. */
  outbox?: { pollMs?: number; concurrency?: number };
  /** Messages per second the bot starts at and recovers to (default: 30, Telegram's limit). */
  sendRate?: number;
  /** Updates handled at once (default: 64). */
  inboxConcurrency?: number;
  /** https address of this server: set = Telegram updates by webhook, unset = long polling. */
  publicUrl?: string;
  /**
   * Called when receiving updates stopped for good while the app was meant to run (Telegram
   * unreachable for hours, or another copy of the bot polling with the same token). main exits so
   * pm2 restarts the bot, rather than leave it alive but deaf.
   */
  onFatal?: (message: string) => void;
  /** How long start-up waits for Telegram's getMe (default: 15 000 ms). */
  initTimeoutMs?: number;
  /** Told of each catalog edit the app sees: applied, or refused with its problems (the playground's status line). */
  onCatalogChange?: (change: { ok: true; catalog: Catalog; summary: string; warnings: CatalogProblem[] } | { ok: false; problems: CatalogProblem[] }) => void;
}

export interface RunningApp {
  db: Db;
  catalog: CatalogStore;
  outbox: Outbox;
  worker: OutboxWorker;
  scheduler: Scheduler;
  /** Re-reads catalog.yaml now (SIGHUP); the file is also watched. */
  reloadCatalog(): boolean;
  /** The HTTP server's base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  botUsername: string;
  stop(): Promise<void>;
}

/** Loads the catalog or throws StartupError listing every problem; warnings do not stop it, they go to `log`. */
export function loadCatalogOrThrow(path: string, log?: Logger): Catalog {
  const result = loadCatalog(path);
  if (!result.ok) {
    throw new StartupError(`The catalog has problems:\n${result.problems.map(formatProblem).join('\n')}\nFix them (npm run validate checks the file) and start again.`, result.problems);
  }
  if (result.warnings.length > 0) log?.warn({ warnings: result.warnings.map(formatProblem) }, 'the catalog has warnings: it works, but npm run validate explains what to check');
  return result.catalog;
}

/**
 * openDatabase, with what the operator can do about a file the bot cannot open: a folder it may
 * not write to, or a file that is not a database, becomes one sentence naming DATABASE_PATH.
 */
export function openDatabaseOrExplain(path: string): Db {
  try {
    return openDatabase(path);
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    const where = `The database ${resolve(path)} (DATABASE_PATH)`;
    if (/^(EACCES|EPERM|EROFS|ENOTDIR|EEXIST|SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_PERM)/.test(code)) {
      throw new StartupError(`${where} cannot be created or written there (${code}). Point DATABASE_PATH at a folder the bot's user owns — the default, data/bot.db in the bot's folder, works — and start again.`);
    }
    if (/^(SQLITE_NOTADB|SQLITE_CORRUPT)/.test(code)) {
      throw new StartupError(`${where} is not a readable SQLite database (${code}). Check DATABASE_PATH, or put back a backup with npm run restore.`);
    }
    if (error instanceof StoreError) throw new StartupError(`${where}: ${error.message}`);
    throw error;
  }
}

/**
 * Starts the whole product in this process: catalog → database → bot (long polling) → HTTP
 * server (AiPay webhook, health) → outbox worker. Throws StartupError for anything the operator
 * must fix; `stop()` undoes it all in reverse.
 */
export async function startApp(o: AppOptions): Promise<RunningApp> {
  const catalog = new CatalogStore(loadCatalogOrThrow(o.catalogPath, o.log));
  releaseCatalogValidator();
  const db = openDatabaseOrExplain(o.databasePath);
  const stops: Array<() => Promise<void> | void> = [
    () => {
      db.close();
    },
  ];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const outbox = new Outbox(db, o.clock);
    // Rows from before chats were frozen get theirs, from the catalog they were sold under.
    resolveChannelKeys({ db, outbox, catalog: catalog.current(), log: o.log });
    const orders = new Orders(db);
    const customers = new Customers(db);
    const aipay = new AipayClient({ baseUrl: o.aipayBaseUrl, apiKey: o.aipayApiKey, ...o.aipay });
    const checkout = new Checkout({ db, orders, outbox, aipay, catalog, clock: o.clock, log: o.log });
    const deps = { catalog, db, customers, clock: o.clock, log: o.log, checkout, access: new AccessQueries(db), outbox, orders };

    const inFlight = new InFlight();
    // One pace for everything the bot sends (replies, outbox jobs, notices, broadcasts).
    const pace = new SendPace({ perSecond: o.sendRate ?? 30 });
    const inbox = new Inbox(db, o.clock);
    const preAnswered = new Set<string>();
    const bot = createBot({
      token: o.botToken,
      apiRoot: o.telegramApiRoot,
      deps,
      inFlight,
      pace,
      journal: inbox.journal,
      preAnswered,
      features: [adminPayments(), adminCommands(), joinRequests(outbox), membership(), starsFeature()],
    });
    try {
      // grammY types its signal with the abort-controller polyfill; the platform one is what it uses at run time.
      await bot.init(AbortSignal.timeout(o.initTimeoutMs ?? 15_000) as unknown as Parameters<typeof bot.init>[0]);
    } catch (error) {
      throw new StartupError(explainInitError(error, o.telegramApiRoot));
    }
    await registerCommands(bot.api, catalog.current(), o.log);
    let polling: RunnerHandle | undefined;

    const workerApi = new Api(o.botToken, { apiRoot: o.telegramApiRoot, timeoutSeconds: 1800, fetch: pacedFetch(pace, { defaultClass: 'access', requestTimeoutMs: 20_000 }) });
    const worker = new OutboxWorker({
      db,
      api: workerApi,
      clock: o.clock,
      log: o.log,
      admins: () => catalog.current().settings.admins,
      isEntitled: (userId, chatId) => isEntitled(db, catalog.current(), userId, chatId, o.clock.now()),
      ...o.outbox,
    });
    outbox.onEnqueue = () => worker.wake();
    worker.start();

    // Every update is stored in the inbox before Telegram is told it arrived, then handled from there.
    // grammY's handleUpdate rethrows a handler's error; bot.catch (the error handler) is ours to call,
    // as the runner's sink does. It rethrows what should be tried again (a locked database).
    const handleUpdate = async (update: Update) => {
      try {
        await bot.handleUpdate(update);
      } catch (error) {
        if (!(error instanceof BotError)) throw error;
        await bot.errorHandler(error);
      }
    };
    const dispatcher = new InboxDispatcher({ inbox, handle: handleUpdate, log: o.log, concurrency: o.inboxConcurrency });
    const answerPreCheckout = (q: NonNullable<Update['pre_checkout_query']>) => {
      const current = catalog.current();
      const decision = decidePreCheckout(orders, current, { userId: q.from.id, currency: q.currency, totalAmount: q.total_amount, payload: q.invoice_payload }, o.clock.now());
      const language = resolveLanguage(current, customers.get(q.from.id)?.language, q.from.language_code).lang;
      const answer = decision.ok ? { ok: true as const } : { ok: false as const, error_message: text(current, language, decision.reason) };
      o.log.info({ payload: q.invoice_payload, userId: q.from.id, ok: decision.ok, reason: decision.ok ? undefined : decision.reason }, 'pre-checkout answered');
      bot.api.raw.answerPreCheckoutQuery({ pre_checkout_query_id: q.id, ...answer }).catch((error: unknown) => o.log.warn({ err: error, payload: q.invoice_payload }, 'pre-checkout answer failed'));
    };
    // A button pressed in a crowd is answered at once ("one moment"), not left spinning.
    const onStored = (updates: Update[]) => {
      dispatcher.wake();
      // Telegram cancels a Stars payment unanswered after 10 s: answered here, whatever the queue.
      for (const u of updates) if (u.pre_checkout_query) answerPreCheckout(u.pre_checkout_query);
      // The wait a new reply faces: the queue at the pace, plus the updates still waiting their turn
      // in the inbox (at most 64 are handled at once, so the pace's queue alone never shows a crowd).
      const waiting = Math.max(0, inbox.backlog() - dispatcher.inFlight);
      if (pace.expectedWait('reply') + (waiting * 1000) / pace.rate < ONE_MOMENT_AFTER_MS) return;
      for (const u of updates) {
        const q = u.callback_query;
        if (!q || preAnswered.has(q.id)) continue;
        preAnswered.add(q.id);
        const current = catalog.current();
        const language = resolveLanguage(current, customers.get(q.from.id)?.language, q.from.language_code).lang;
        bot.api.raw.answerCallbackQuery({ callback_query_id: q.id, text: text(current, language, 'one_moment') }).catch(() => preAnswered.delete(q.id));
      }
      if (preAnswered.size > 10_000) preAnswered.clear();
    };

    const scheduler = new Scheduler(
      [
        { name: 'stale-invoices', cron: '*/5 * * * *', run: () => void runStaleInvoices({ db, outbox, catalog: catalog.current(), log: o.log }, o.clock.now()) },
        { name: 'expiry', cron: '* * * * *', run: () => void runExpiry({ db, outbox, catalog: catalog.current(), log: o.log }, o.clock.now()) },
        { name: 'reminders', cron: '* * * * *', run: () => runReminders({ db, outbox, catalog: catalog.current(), checkout, log: o.log }, o.clock.now()).then(() => undefined) },
        { name: 'paid-checks', cron: '* * * * *', run: () => void runPaidChecks({ db, outbox, catalog: catalog.current() }, o.clock.now()) },
        // Handled updates are kept a day, so that a redelivered one is recognised; then forgotten.
        { name: 'inbox-prune', cron: '17 * * * *', run: () => void inbox.prune() },
        {
          // Every night at 03:30 local time: an online backup, the last 14 kept; optionally also
          // sent to the admins, so a copy lives off the server.
          name: 'backup',
          cron: '30 3 * * *',
          run: async () => {
            const result = await backupDatabase(db, defaultBackupDir(o.databasePath));
            o.log.info({ file: result.file, bytes: result.bytes }, 'daily backup written');
            const settings = catalog.current().settings;
            if (settings.backupToAdmins) {
              for (const admin of settings.admins) {
                outbox.enqueue({ kind: 'send_document', chatId: admin, userId: admin, path: result.file, caption: 'Daily database backup' }, { dedupeKey: `backup:${result.file}:${admin}`, sendClass: 'admin' });
              }
            }
          },
        },
      ],
      o.log,
      catalog.current().settings.timezone,
    );
    scheduler.start();
    stops.push(() => scheduler.stop());
    // Updates left in the inbox by the last stop (a crash, kill -9, pm2 reload) are handled first.
    dispatcher.start();
    // On stop: what is being sent gets 3 s to go out; then the pace closes, and updates and jobs
    // still waiting for their turn stay stored for the next start.
    stops.push(async () => {
      const settled = Promise.all([dispatcher.stop(6000), worker.stop()]);
      const timer = setTimeout(() => pace.close(), 3000);
      await settled;
      clearTimeout(timer);
      pace.close();
      await inFlight.idle(2000);
    });

    let previous = catalog.current();
    const reloader = new CatalogReloader({
      path: o.catalogPath,
      store: catalog,
      log: o.log,
      // The nightly backup keeps to 03:30 in the catalog's zone, also when the zone changes.
      onReloaded: (summary, warnings) => {
        void scheduler.setTimezone(catalog.current().settings.timezone);
        // Paid access follows the chats themselves: say what a renamed or removed channel means for it.
        const changes = describeChannelChanges(db, previous, catalog.current());
        previous = catalog.current();
        if (changes.length > 0) {
          o.log.info({ changes }, 'catalog edit renamed or removed channels that customers paid for');
          outbox.notifyAdmins(
            previous.settings.admins,
            escapeHtml(`ℹ️ catalog.yaml reloaded. Channels that customers paid for changed:\n${changes.map((c) => `• ${c}`).join('\n')}`.slice(0, 4000)),
          );
        }
        if (warnings.length > 0) {
          const shown = warnings.slice(0, 30).map(formatProblem);
          const more = warnings.length > shown.length ? `\n… and ${warnings.length - shown.length} more (npm run validate lists them all).` : '';
          outbox.notifyAdmins(
            catalog.current().settings.admins,
            escapeHtml(`ℹ️ catalog.yaml reloaded: it works, but check ${warnings.length === 1 ? 'this warning' : `these ${warnings.length} warnings`}:\n${shown.join('\n')}${more}`.slice(0, 4000)),
          );
        }
        o.onCatalogChange?.({ ok: true, catalog: catalog.current(), summary, warnings });
      },
      onInvalid: (problems) => {
        o.onCatalogChange?.({ ok: false, problems });
        const shown = problems.slice(0, 30).map((p) => formatProblem(p));
        const more = problems.length > shown.length ? `\n… and ${problems.length - shown.length} more (npm run validate lists them all).` : '';
        outbox.notifyAdmins(
          catalog.current().settings.admins,
          escapeHtml(`⚠️ Your catalog edit was not applied: the bot keeps running with the previous version. Fix these and save again:\n${shown.join('\n')}${more}`.slice(0, 4000)),
        );
      },
    });
    reloader.start();
    stops.push(() => reloader.stop());

    // Webhook mode: a fresh random secret each start, so an old or guessed URL gets 401.
    const telegramSecret = o.publicUrl ? randomBytes(32).toString('hex') : undefined;
    const metrics = new Metrics(db, { pace, inbox });
    const routers = [
      aipayWebhookRouter({
        db,
        orders,
        outbox,
        catalog,
        clock: o.clock,
        log: o.log,
        webhookSecret: o.aipayWebhookSecret,
        onRecorded: (outcome) => metrics.inc('subscription_bot_webhook_events_total', { outcome }),
        onRejected: (reason) => metrics.inc('subscription_bot_webhook_rejects_total', { reason }),
      }),
    ];
    if (telegramSecret) routers.push(telegramWebhookRouter({ inbox, onStored, secretToken: telegramSecret, log: o.log }));
    const app = createApp({
      routers,
      metrics: () => metrics.render(),
      metricsToken: o.metricsToken,
      onTooLarge: () => metrics.inc('subscription_bot_webhook_rejects_total', { reason: 'too_large' }),
      health: () => {
        // Reads alone would pass on a full disk: a storage failure of the last writes counts too.
        const database = databaseHealth(db);
        const running = telegramSecret !== undefined || (polling?.isRunning() ?? false);
        return { ok: database === 'ok' && running, database, bot: telegramSecret ? 'webhook' : running ? 'polling' : 'stopped' };
      },
    });
    const server = await startServer(app, { port: o.port, host: o.host, limits: o.http }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new StartupError(`Port ${o.port} is already in use. Stop the other program, or set PORT to a free port in .env.`);
      if (error.code === 'EADDRNOTAVAIL') throw new StartupError(`HOST ${o.host} is not an address of this server. Remove HOST from .env to use 127.0.0.1, or write 0.0.0.0 for every address.`);
      throw error;
    });
    // Closing the server stops Telegram's webhook updates; then the updates still running finish.
    stops.push(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await inFlight.idle();
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : o.port;

    if (telegramSecret) {
      await bot.api.setWebhook(`${o.publicUrl}${TELEGRAM_WEBHOOK_PATH}`, { secret_token: telegramSecret, allowed_updates: [...ALLOWED_UPDATES] });
    } else {
      // Back to long polling: a webhook left from an earlier PUBLIC_URL would make getUpdates fail.
      await bot.api.deleteWebhook();
      // grammY's runner fetches; each batch is stored in the inbox before the next getUpdates confirms it.
      const runner = pollIntoInbox(bot as never, { inbox, allowedUpdates: ALLOWED_UPDATES, log: o.log, onStored });
      let stopping = false;
      const deaf = (error?: unknown) => {
        if (stopping) return;
        const conflict = error instanceof GrammyError && error.error_code === 409;
        const message = conflict
          ? 'Another copy of this bot is receiving its updates (Telegram answered 409 Conflict). Stop the other copy: run exactly one.'
          : `The bot stopped receiving updates from Telegram (${(error as Error | undefined)?.message ?? 'polling ended'}).`;
        o.log.fatal({ err: error }, message);
        o.onFatal?.(message);
      };
      runner.task()?.then(() => deaf(), deaf);
      // On stop: no more fetching, then wait for the updates in flight, before the database closes.
      stops.push(async () => {
        stopping = true;
        await runner.stop();
      });
      polling = runner;
    }

    o.log.info({ bot: bot.botInfo.username, port, catalog: o.catalogPath, mode: telegramSecret ? 'webhook' : 'polling' }, 'bot started');
    return { db, catalog, outbox, worker, scheduler, reloadCatalog: () => reloader.reload('SIGHUP'), url: `http://127.0.0.1:${port}`, port, botUsername: bot.botInfo.username, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function explainInitError(error: unknown, apiRoot: string | undefined): string {
  if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) {
    return 'Telegram says this token is invalid — copy it again from @BotFather into BOT_TOKEN in .env.';
  }
  const where = apiRoot ?? 'https://api.telegram.org';
  if (error instanceof HttpError || (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError') {
    return `Telegram (${where}) did not answer. Check the server's internet connection${apiRoot ? ' and TELEGRAM_API_ROOT' : ''}, then start again.`;
  }
  return `Could not reach Telegram at ${where}: ${(error as Error)?.message ?? String(error)}`;
}

/** The command menu, in each enabled language (the default language also without a code). */
async function registerCommands(api: Api, catalog: Catalog, log: Logger): Promise<void> {
  const commands = (lang: (typeof catalog.settings.languages)[number]): BotCommand[] =>
    (['start', 'my', 'help', 'support', 'language', ...(catalog.settings.payments.includes('stars') ? (['paysupport'] as const) : [])] as const).map((c) => ({ command: c, description: text(catalog, lang, `command_${c}`).slice(0, 256) }));
  try {
    await api.setMyCommands(commands(catalog.settings.defaultLanguage));
    for (const lang of catalog.settings.languages) await api.setMyCommands(commands(lang), { language_code: lang });
  } catch (error) {
    log.warn({ err: error }, 'could not register the command menu');
  }
}
