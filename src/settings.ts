import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseEnv } from 'node:util';
import { readReplicaSettings, type ReplicaSettings } from './ops/replica-settings.js';

/** Every deployment setting, read once from the environment (and `.env`). */
export interface Settings {
  /** BOT_TOKEN from @BotFather. Unset: `npm start` runs the local playground instead of a real bot. */
  botToken?: string;
  /** TELEGRAM_API_ROOT (default https://api.telegram.org): another Bot API server or the emulator. */
  telegramApiRoot: string;
  /** AIPAY_API_KEY: Bearer key for creating invoices. Required by the live bot. */
  aipayApiKey?: string;
  /** AIPAY_WEBHOOK_SECRET: HMAC key of AiPay webhooks. Required by the live bot. */
  aipayWebhookSecret?: string;
  /** AIPAY_BASE_URL (default https://api.aipay.kz/v1). */
  aipayBaseUrl: string;
  /** CATALOG_PATH (default catalog.yaml). */
  catalogPath: string;
  /** DATABASE_PATH (default data/bot.db). */
  databasePath: string;
  /** PORT of the HTTP server (default 3000). */
  port: number;
  /**
   * HOST: the address the HTTP server listens on (default 127.0.0.1: only the reverse proxy on this
   * machine reaches it). 0.0.0.0 listens on every address.
   */
  host: string;
  /** METRICS_TOKEN: Bearer token that GET /metrics requires. Unset: /metrics answers 404. */
  metricsToken?: string;
  /** PUBLIC_URL: https address of this server; set = Telegram updates by webhook, unset = long polling. */
  publicUrl?: string;
  /** LOG_LEVEL (default info). */
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * PLAYGROUND_START: the instant (ms) the playground's clock starts at, from an ISO date like
   * 2027-01-30T10:00+05:00 (a date alone is midnight UTC). Unset: the real time.
   */
  playgroundStart?: number;
  /**
   * TELEGRAM_SEND_RATE: messages per second the bot starts at and recovers to after Telegram
   * answers 429 (default 30, Telegram's overall limit; 1 to 30).
   */
  sendRate: number;
  /**
   * SUBSCRIPTION_BOT_LIVE=1 (set by ecosystem.config.cjs; also true under any pm2): this is the
   * real bot, so a missing BOT_TOKEN is an error, never the playground.
   */
  live: boolean;
  /**
   * LITESTREAM_REPLICA_URL (+ LITESTREAM_ACCESS_KEY_ID, LITESTREAM_SECRET_ACCESS_KEY, LITESTREAM_ENDPOINT,
   * LITESTREAM_REGION, LITESTREAM_SFTP_KEY_PATH, LITESTREAM_SYNC_INTERVAL): where Litestream keeps a
   * continuous copy of the database. Unset: no copy but the nightly backup.
   */
  replica?: ReplicaSettings;
}

/** A setting that is missing or malformed; the message says how to fix it. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads `.env` (if present) under the real environment: variables already set win.
 * Returns the merged view; does not modify `process.env`.
 */
export function withDotEnv(env: Env = process.env, path = '.env'): Env {
  if (!existsSync(path)) return env;
  const text = readFileSync(path, 'utf8');
  checkDotEnvLines(text, path);
  const fromFile = parseEnv(text);
  return { ...fromFile, ...env };
}

/**
 * Throws {@link SettingsError} naming the first line of a .env file that is not `NAME=value`
 * (`BOT_TOKEN: 123`, a stray word), which would otherwise be skipped without a word. Never
 * repeats the line's value, which may be a secret.
 */
export function checkDotEnvLines(text: string, path = '.env'): void {
  let quote: string | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    if (quote !== undefined) {
      // Inside a quoted value that goes on over several lines.
      if (line.includes(quote)) quote = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*(["'`]?)(.*)$/.exec(trimmed);
    if (match) {
      const [, open, rest] = match;
      if (open && !rest!.includes(open)) quote = open;
      return;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(trimmed)?.[0];
    const fix = name ? `write it as ${name}=<value>, with = and no spaces around it` : 'write settings as NAME=value, or start a comment with #';
    throw new SettingsError(`Line ${i + 1} of ${path} is not NAME=value${name ? ` (it starts with ${name})` : ''}: ${fix}.`);
  });
}

/** An environment value, or undefined when it is missing or blank (`CATALOG_PATH=` in .env). */
export const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

function url(env: Env, name: string, fallback: string | undefined, hint: string): string | undefined {
  const value = nonEmpty(env[name]) ?? fallback;
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new SettingsError(`${name} is not a valid URL. ${hint}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SettingsError(`${name} must start with https:// (or http:// for a server on this machine). ${hint}`);
  return value.replace(/\/+$/, '');
}

/** A date, or a date and time with its offset (without one, Date.parse would use this machine's zone). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** The shortest webhook secret or token accepted. */
export const MIN_SECRET_LENGTH = 16;

/**
 * Why `value` cannot serve as AIPAY_WEBHOOK_SECRET or METRICS_TOKEN, in one sentence naming
 * `name` and saying what to paste (`paste`), or undefined when it can: at least
 * {@link MIN_SECRET_LENGTH} characters and no whitespace anywhere, since a space trimmed in one
 * place and kept in another makes every signature fail. Never includes the value.
 */
export function secretProblem(name: string, value: string, paste: string): string | undefined {
  if (/\s/.test(value)) return `${name} contains a space or a line break: ${paste}, with nothing around it (no spaces, no quotes).`;
  if (value.length < MIN_SECRET_LENGTH) return `${name} is too short (${value.length} character${value.length === 1 ? '' : 's'}; at least ${MIN_SECRET_LENGTH}): ${paste}.`;
  return undefined;
}

/** What to paste into AIPAY_WEBHOOK_SECRET, for {@link secretProblem}. */
export const PASTE_WEBHOOK_SECRET = 'paste the whole webhook secret from your AiPay dashboard into .env';
/** What to paste into METRICS_TOKEN, for {@link secretProblem}. */
export const PASTE_METRICS_TOKEN = 'paste a random one into .env, such as the output of openssl rand -hex 32';

/** A secret as written (blank = unset), refused with {@link secretProblem}'s sentence. */
function secret(env: Env, name: string, paste: string): string | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  const problem = secretProblem(name, value, paste);
  if (problem) throw new SettingsError(problem);
  return value;
}

/**
 * Reads and checks every environment variable once. Throws {@link SettingsError} with one
 * sentence naming the variable and the fix; never includes a secret's value.
 */
export function readSettings(env: Env = process.env): Settings {
  const botToken = nonEmpty(env.BOT_TOKEN);
  if (botToken !== undefined && !/^\d+:[A-Za-z0-9_-]{30,}$/.test(botToken)) {
    throw new SettingsError('BOT_TOKEN does not look like a bot token (digits, a colon, then letters). Copy it again from @BotFather into .env.');
  }
  const portText = nonEmpty(env.PORT) ?? '3000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SettingsError(`PORT must be a number from 1 to 65535, like 3000 (it is "${portText}"). Fix it in .env.`);
  }
  const logLevel = (nonEmpty(env.LOG_LEVEL) ?? 'info').toLowerCase();
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new SettingsError(`LOG_LEVEL must be one of debug, info, warn, error (it is "${logLevel}"). Fix it in .env.`);
  }
  const publicUrl = url(env, 'PUBLIC_URL', undefined, 'Write the https address of this server, like https://bot.example.kz, or remove it to use long polling.');
  if (publicUrl !== undefined && !publicUrl.startsWith('https://')) {
    throw new SettingsError('PUBLIC_URL must start with https:// (Telegram sends webhooks only over HTTPS). Put a reverse proxy with a certificate in front, or remove PUBLIC_URL to use long polling.');
  }
  const host = nonEmpty(env.HOST) ?? '127.0.0.1';
  if (isIP(host) === 0 && host !== 'localhost') {
    throw new SettingsError(`HOST must be an IP address of this server (it is "${host}"). Remove it to use 127.0.0.1, where the reverse proxy reaches the bot, or write 0.0.0.0 for every address.`);
  }
  const rateText = nonEmpty(env.TELEGRAM_SEND_RATE) ?? '30';
  const sendRate = Number(rateText);
  if (!Number.isFinite(sendRate) || sendRate < 1 || sendRate > 30) {
    throw new SettingsError(`TELEGRAM_SEND_RATE must be a number of messages per second from 1 to 30, like 30 (it is "${rateText}"). Fix it in .env, or remove it to use 30.`);
  }
  const startText = nonEmpty(env.PLAYGROUND_START);
  const playgroundStart = startText === undefined ? undefined : Date.parse(startText);
  // Date.parse rolls 2027-02-30 over into March; a real calendar day reads back the same.
  const realDay = (text: string) => new Date(Date.parse(text.slice(0, 10))).toISOString().startsWith(text.slice(0, 10));
  if (startText !== undefined && (!ISO_INSTANT.test(startText) || !Number.isFinite(playgroundStart) || !realDay(startText))) {
    throw new SettingsError(`PLAYGROUND_START must be an ISO date, like 2027-01-30 or 2027-01-30T10:00+05:00 (it is "${startText}"). Fix it in .env, or remove it to start at the real time.`);
  }
  return {
    botToken,
    telegramApiRoot: url(env, 'TELEGRAM_API_ROOT', 'https://api.telegram.org', 'Remove it to use Telegram, or write the address of your Bot API server.')!,
    aipayApiKey: nonEmpty(env.AIPAY_API_KEY),
    aipayWebhookSecret: secret(env, 'AIPAY_WEBHOOK_SECRET', PASTE_WEBHOOK_SECRET),
    aipayBaseUrl: url(env, 'AIPAY_BASE_URL', 'https://api.aipay.kz/v1', 'Remove it to use https://api.aipay.kz/v1.')!,
    catalogPath: nonEmpty(env.CATALOG_PATH) ?? 'catalog.yaml',
    databasePath: nonEmpty(env.DATABASE_PATH) ?? 'data/bot.db',
    port,
    host,
    metricsToken: secret(env, 'METRICS_TOKEN', PASTE_METRICS_TOKEN),
    publicUrl,
    logLevel: logLevel as Settings['logLevel'],
    playgroundStart,
    sendRate,
    live: env.SUBSCRIPTION_BOT_LIVE === '1' || env.pm_id !== undefined,
    replica: readReplicaSettings(env, (message) => new SettingsError(message)),
  };
}

/** Checks the secrets the live bot cannot run without. Throws {@link SettingsError}. */
export function requireLiveSecrets(s: Settings): asserts s is Settings & { botToken: string; aipayApiKey: string; aipayWebhookSecret: string } {
  if (!s.botToken) throw new SettingsError('BOT_TOKEN is not set. Create a bot with @BotFather and put its token in .env.');
  if (!s.aipayApiKey) throw new SettingsError('AIPAY_API_KEY is not set. Copy the API key from your AiPay dashboard into .env.');
  if (!s.aipayWebhookSecret) {
    throw new SettingsError('AIPAY_WEBHOOK_SECRET is not set. Copy the webhook secret from your AiPay dashboard into .env.');
  }
}
