import { sshTunnelHint } from './ops/ssh-tunnel-hint.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { startPlayground as StartPlayground } from './sandbox/playground/start-playground.js';
import { loadCatalog, type LoadResult } from './catalog/load-catalog.js';
import { formatProblem } from './catalog/problem.js';
import { systemClock } from './clock.js';
import { createLogger, redactBotTokens } from './logger.js';
import { prepareLitestreamConfig } from './ops/litestream.js';
import { readSettings, requireLiveSecrets, SettingsError, withDotEnv, type Settings } from './settings.js';
import type { RunningApp } from './app.js';
import { outdatedTimezoneData } from './timezone-data.js';

/**
 * The composition root and the only place that exits the process. Every failure an operator
 * can fix ends in one or a few plain sentences, never a stack trace.
 */
async function main(): Promise<number> {
  // Reminders, expiry and the nightly backup keep to the catalog's zone: old data puts Almaty an hour off.
  const oldTimezoneData = outdatedTimezoneData();
  if (oldTimezoneData) return fail(oldTimezoneData);
  let settings: Settings;
  try {
    settings = readSettings(withDotEnv());
  } catch (error) {
    if (error instanceof SettingsError) return fail(error.message);
    throw error;
  }

  if (!settings.botToken) {
    // The real bot (under pm2) never pretends: no token is an error, not a playground that looks online.
    if (settings.live) return fail('BOT_TOKEN is not set in .env, so the bot cannot start. Put the token from @BotFather into .env (or run npm run setup), then: pm2 reload subscription-bot.');
    return playground(settings);
  }

  try {
    requireLiveSecrets(settings);
  } catch (error) {
    return fail((error as SettingsError).message);
  }
  const log = createLogger({ level: settings.logLevel });
  // Signals are caught from here on, so one that arrives during start-up is not the default kill.
  let stopSignal: string | undefined;
  let fatal = false;
  let onSignal: ((signal: string) => void) | undefined;
  const handler = (signal: string) => {
    stopSignal ??= signal;
    onSignal?.(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // kill -HUP re-reads catalog.yaml (the file is watched too); before start-up ends it does nothing.
  let reload: (() => void) | undefined;
  process.on('SIGHUP', () => reload?.());
  // Loaded here, not at the top: without a token, the catalog's summary comes first, at once.
  const { startApp, StartupError } = await import('./app.js');
  let app: RunningApp;
  try {
    app = await startApp({
      botToken: settings.botToken,
      telegramApiRoot: settings.telegramApiRoot,
      aipayApiKey: settings.aipayApiKey,
      aipayWebhookSecret: settings.aipayWebhookSecret,
      aipayBaseUrl: settings.aipayBaseUrl,
      catalogPath: settings.catalogPath,
      databasePath: settings.databasePath,
      port: settings.port,
      host: settings.host,
      metricsToken: settings.metricsToken,
      sendRate: settings.sendRate,
      publicUrl: settings.publicUrl,
      clock: systemClock,
      log,
      onFatal: (message) => {
        // Exit so pm2 starts a fresh process; the outbox and the database lose nothing.
        console.error(redactBotTokens(`${message} Exiting so the process manager restarts the bot.`));
        fatal = true;
        handler('fatal');
      },
    });
  } catch (error) {
    if (error instanceof StartupError) return fail(error.message);
    log.fatal({ err: error }, 'start-up failed');
    return fail(`Start-up failed: ${(error as Error).message}. The log line above has the details.`);
  }
  reload = () => app.reloadCatalog();
  // Litestream beside the bot runs under pm2, which does not read .env: its configuration is
  // written from .env here (and by its own start). A failure never stops the bot taking payments.
  try {
    prepareLitestreamConfig(settings.databasePath, settings.replica);
  } catch (error) {
    log.warn({ err: error }, 'litestream configuration not written');
  }
  console.error(`@${app.botUsername} is running. AiPay webhooks: POST ${settings.publicUrl ?? 'https://<your domain>'}/webhook/aipay, through the reverse proxy to ${settings.host}:${app.port}. Stop with Ctrl+C.`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      const force = setTimeout(() => {
        log.error('shutdown took too long; exiting');
        process.exit(1);
      }, 10_000);
      force.unref();
      app.stop().then(resolve, (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        resolve();
      });
    };
    if (stopSignal) onSignal(stopSignal);
  });
  log.info('stopped');
  return fatal ? 1 : 0;
}

/**
 * No BOT_TOKEN: the playground — the catalog as a working bot in the browser, with simulated
 * customers, Kaspi and a clock. An invalid catalog gets the preview's list of problems instead.
 */
async function playground(settings: Settings): Promise<number> {
  const path = existsSync(settings.catalogPath) ? settings.catalogPath : 'catalog.example.yaml';
  // Said first, while the playground starts: the creator learns at once what the catalog is like.
  const loaded = loadCatalog(path);
  const code = preview(settings, path, loaded);
  if (!loaded.ok) return code;
  const log = createLogger({ level: settings.logLevel === 'debug' ? 'debug' : 'warn' });
  let running: Awaited<ReturnType<typeof StartPlayground>>;
  try {
    // Loaded only here: the live bot never carries the emulator and the sandbox in memory.
    const { startPlayground } = await import('./sandbox/playground/start-playground.js');
    running = await startPlayground({
      catalogPath: path,
      databasePath: join(dirname(settings.databasePath), 'playground.db'),
      port: settings.port,
      log,
      startAt: settings.playgroundStart,
      // 127.0.0.1 unless HOST asks for another address: the playground is for its creator only.
      host: settings.host,
    });
  } catch (error) {
    if (error instanceof (await import('./app.js')).StartupError) return fail(error.message);
    throw error;
  }
  console.log(
    `Meanwhile, try it without Telegram: open ${running.url} — your catalog as a working bot, with test customers, a Kaspi phone and a clock. Nothing there is real. Stop with Ctrl+C.`,
  );
  const tunnel = sshTunnelHint(process.env, new URL(running.url).port);
  if (tunnel) console.log(tunnel);
  await new Promise<void>((resolve) => {
    const stop = () => void running.stop().then(resolve, resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** No BOT_TOKEN: the catalog's problems, or in one paragraph what is ready and what is missing. */
function preview(settings: Settings, path: string, result: LoadResult): number {
  if (!result.ok) {
    console.error(result.problems.map(formatProblem).join('\n'));
    const errors = result.problems.filter((p) => p.severity === 'error').length;
    return fail(`${path} has ${errors} problem(s), listed above. Fix them and run npm start again.`);
  }
  if (result.warnings.length > 0) console.error(result.warnings.map(formatProblem).join('\n'));
  const missing = [
    ['BOT_TOKEN', settings.botToken],
    ['AIPAY_API_KEY', settings.aipayApiKey],
    ['AIPAY_WEBHOOK_SECRET', settings.aipayWebhookSecret],
  ]
    .filter(([, value]) => !value)
    .map(([name]) => name);
  console.log(
    `${result.summary}${path === 'catalog.example.yaml' ? ' (This is the example: copy catalog.example.yaml to catalog.yaml, make it yours, and run npm start again — from then on the playground follows every save.)' : ''} ` +
      `The bot is not running because ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: copy .env.example to .env, ` +
      'put in the token from @BotFather and the keys from your AiPay dashboard, and run npm start again.',
  );
  return 0;
}

function fail(message: string): number {
  console.error(redactBotTokens(message));
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(redactBotTokens(`The bot stopped on an unexpected error: ${(error as Error)?.message ?? String(error)}. Please report it with the log.`));
    process.exitCode = 1;
  },
);
