/**
 * The checks of `npm run doctor`, one function per thing that can be wrong. Each gets what it
 * looks at (a Telegram client, a database connection, the catalog, fetch) and returns results
 * to print: what was found and, for every problem, what to fix and where. Nothing here prints,
 * exits or reads the environment; nothing returned contains a secret.
 */
import type { ChatMember, WebhookInfo } from 'grammy/types';
import { NEEDED_RIGHTS } from '../access/membership.js';
import type { LoadResult } from '../catalog/load-catalog.js';
import { formatProblem } from '../catalog/problem.js';
import { localize } from '../catalog/texts.js';
import type { Catalog } from '../catalog/types.js';
import { PASTE_WEBHOOK_SECRET, secretProblem, type Settings } from '../settings.js';
import type { Db } from '../storage/open-database.js';
import { TELEGRAM_WEBHOOK_PATH } from '../http/telegram-webhook-route.js';
import { ALMATY, checkAlmatyOffset, utcOffset, type OffsetOf } from '../timezone-data.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  status: CheckStatus;
  /** What was found, in one line. */
  title: string;
  /** For a problem: what to do and where (the file, the setting, the Telegram screen). */
  fix?: string;
  /** Lines listed under the title (e.g. every catalog problem with its line). */
  details?: string[];
}

/** The part of the Bot API the checks use (grammY's `Api` fits). */
export interface TelegramChecksApi {
  getMe(): Promise<{ id: number; username: string }>;
  getChatMember(chatId: number, userId: number): Promise<ChatMember>;
  getWebhookInfo(): Promise<WebhookInfo>;
}

export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

const MARK: Record<CheckStatus, string> = { ok: '✅', warn: '⚠️ ', fail: '❌' };

/** `✅ title`, then its details indented, then `→ fix`. */
export function formatCheck(r: CheckResult): string {
  const lines = [`${MARK[r.status]} ${r.title}`];
  for (const d of r.details ?? []) lines.push(`     ${d}`);
  if (r.fix) lines.push(`   → ${r.fix}`);
  return lines.join('\n');
}

const RIGHTS_TEXT = NEEDED_RIGHTS.map(([, name]) => `'${name}'`).join(' and ');

// ---- settings -------------------------------------------------------------------------------

/**
 * The AiPay secrets are set, the webhook secret by the rule readSettings applies (at least 16
 * characters, no whitespace). Their values are never shown.
 */
export function checkAipaySecrets(s: Pick<Settings, 'aipayApiKey' | 'aipayWebhookSecret'>): CheckResult[] {
  const secretRefused = s.aipayWebhookSecret === undefined ? undefined : secretProblem('AIPAY_WEBHOOK_SECRET', s.aipayWebhookSecret, PASTE_WEBHOOK_SECRET);
  return [
    s.aipayApiKey
      ? { status: 'ok', title: 'AIPAY_API_KEY is set' }
      : { status: 'fail', title: 'AIPAY_API_KEY is not set', fix: 'Copy the API key from your AiPay dashboard into AIPAY_API_KEY in .env.' },
    !s.aipayWebhookSecret
      ? { status: 'fail', title: 'AIPAY_WEBHOOK_SECRET is not set', fix: 'Copy the webhook secret from your AiPay dashboard into AIPAY_WEBHOOK_SECRET in .env.' }
      : secretRefused
        ? { status: 'fail', title: 'AIPAY_WEBHOOK_SECRET cannot be right', fix: secretRefused }
        : { status: 'ok', title: 'AIPAY_WEBHOOK_SECRET is set' },
  ];
}

// ---- Node.js --------------------------------------------------------------------------------

/** This Node.js knows Kazakhstan's clock: Asia/Almaty at UTC+05:00 since 1 March 2024. */
export function checkTimezoneData(offsetOf: OffsetOf = utcOffset): CheckResult {
  const { ok, offset } = checkAlmatyOffset(offsetOf);
  if (ok) return { status: 'ok', title: `Time-zone data: ${ALMATY.zone} is UTC${ALMATY.offset}` };
  return {
    status: 'fail',
    title: `This Node.js has old time-zone data: ${ALMATY.zone} is UTC${offset}, not UTC${ALMATY.offset} (Kazakhstan's clock since 1 March 2024)`,
    fix: 'Update Node.js to 20.12 or newer (README, step 1), then run npm ci and pm2 reload subscription-bot.',
  };
}

// ---- Telegram -------------------------------------------------------------------------------

/** BOT_TOKEN is set and Telegram accepts it (getMe). Returns the bot for the channel checks. */
export async function checkBotToken(
  api: TelegramChecksApi | undefined,
  s: Pick<Settings, 'botToken' | 'telegramApiRoot'>,
): Promise<{ result: CheckResult; bot?: { id: number; username: string } }> {
  if (!s.botToken || !api) {
    return { result: { status: 'fail', title: 'BOT_TOKEN is not set', fix: 'Create a bot with @BotFather (/newbot) and put its token in BOT_TOKEN in .env.' } };
  }
  try {
    const me = await api.getMe();
    return { result: { status: 'ok', title: `BOT_TOKEN works: the bot is @${me.username}` }, bot: { id: me.id, username: me.username } };
  } catch (error) {
    const code = telegramErrorCode(error);
    if (code === 401 || code === 404) {
      return { result: { status: 'fail', title: 'Telegram says BOT_TOKEN is invalid', fix: 'Copy the token again from @BotFather (/mybots → your bot → API Token) into BOT_TOKEN in .env.' } };
    }
    return { result: unreachableTelegram(error, s.telegramApiRoot) };
  }
}

/**
 * For every catalog channel: the bot is in it, is an administrator, and has every right in
 * NEEDED_RIGHTS. One result per channel.
 */
export async function checkChannels(api: TelegramChecksApi, bot: { id: number; username: string }, catalog: Catalog): Promise<CheckResult[]> {
  const lang = catalog.settings.defaultLanguage;
  const catalogFile = catalog.path ? baseName(catalog.path) : 'catalog.yaml';
  const results: CheckResult[] = [];
  for (const channel of catalog.channels.values()) {
    const title = localize(channel.title, lang, lang);
    const what = `Channel "${title}" (${channel.id}, ${channel.chatId})`;
    const addBot =
      `Open "${title}" in Telegram → Administrators → Add Admin → @${bot.username}, and turn on ${RIGHTS_TEXT}. ` +
      `If the bot is there already, check channels.${channel.id}.chat_id in ${catalogFile}: the bot sends the right id to the admins when it is added.`;
    let member: ChatMember;
    try {
      member = await api.getChatMember(channel.chatId, bot.id);
    } catch (error) {
      const code = telegramErrorCode(error);
      if (code === 400 || code === 403) {
        const kicked = /kicked/i.test((error as { description?: string }).description ?? '');
        results.push({ status: 'fail', title: `${what}: ${kicked ? 'the bot was removed from this chat' : 'the bot is not in this chat'}`, fix: addBot });
      } else {
        results.push({ ...unreachableTelegram(error, undefined), title: `${what}: could not be checked — Telegram did not answer` });
      }
      continue;
    }
    switch (member.status) {
      case 'creator':
        results.push({ status: 'ok', title: `${what}: the bot is its owner` });
        break;
      case 'administrator': {
        const missing = NEEDED_RIGHTS.filter(([key]) => !member[key]).map(([, name]) => `'${name}'`);
        results.push(
          missing.length === 0
            ? { status: 'ok', title: `${what}: the bot is an administrator with every right it needs` }
            : {
                status: 'fail',
                title: `${what}: the bot is an administrator without the right ${missing.join(' and ')}`,
                fix: `Open "${title}" in Telegram → Administrators → @${bot.username} → turn on ${missing.join(' and ')}.`,
              },
        );
        break;
      }
      case 'member':
      case 'restricted':
        results.push({
          status: 'fail',
          title: `${what}: the bot is a member but not an administrator`,
          fix: `Open "${title}" in Telegram → Administrators → Add Admin → @${bot.username}, and turn on ${RIGHTS_TEXT}.`,
        });
        break;
      case 'left':
      case 'kicked':
        results.push({ status: 'fail', title: `${what}: ${member.status === 'kicked' ? 'the bot was removed from this chat' : 'the bot is not in this chat'}`, fix: addBot });
        break;
    }
  }
  return results;
}

// ---- catalog --------------------------------------------------------------------------------

/** The catalog loads without problems (⚠️ with its warnings); otherwise every problem with its line. */
export function checkCatalog(load: LoadResult, path: string): CheckResult {
  const file = baseName(path);
  if (load.ok && load.warnings.length === 0) return { status: 'ok', title: `Catalog: ${load.summary}` };
  if (load.ok) {
    const w = load.warnings.length;
    return {
      status: 'warn',
      title: `Catalog: ${load.summary} It has ${w} warning${w === 1 ? '' : 's'}`,
      details: load.warnings.map(formatProblem),
      fix: `The bot runs with ${w === 1 ? 'it' : 'them'}; change ${file} where ${w === 1 ? 'it says' : 'they say'} if that is not what you meant.`,
    };
  }
  const n = load.problems.filter((p) => p.severity === 'error').length;
  return {
    status: 'fail',
    title: `Catalog ${file} has ${n} problem${n === 1 ? '' : 's'}`,
    details: load.problems.map(formatProblem),
    fix: `Fix ${n === 1 ? 'it' : 'each line above'} in ${file} (npm run validate checks the file again).`,
  };
}

// ---- database -------------------------------------------------------------------------------

/**
 * `PRAGMA quick_check` and the migrations version. `knownVersion` is how many migrations this
 * code has; `newestBackup` is named in the fix for a damaged database.
 */
export function checkDatabase(db: Db, path: string, knownVersion: number, newestBackup?: string): CheckResult {
  const restore = newestBackup
    ? `Stop the bot (pm2 stop subscription-bot) and restore the newest backup: npm run restore -- ${newestBackup}`
    : 'Stop the bot (pm2 stop subscription-bot) and restore a backup: npm run restore -- <backup file>';
  let problems: string[];
  try {
    problems = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check);
  } catch (error) {
    return { status: 'fail', title: `Database ${path} cannot be read (${(error as Error).message})`, fix: `${restore}.` };
  }
  if (problems.length !== 1 || problems[0] !== 'ok') {
    return { status: 'fail', title: `Database ${path} is damaged`, details: problems.slice(0, 5), fix: `${restore}.` };
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === knownVersion) return { status: 'ok', title: `Database ${path}: intact, version ${version} (up to date)` };
  if (version < knownVersion) {
    return {
      status: 'warn',
      title: `Database ${path}: intact, version ${version} of ${knownVersion}`,
      fix: 'Restart the bot (pm2 reload subscription-bot): it upgrades the database when it starts.',
    };
  }
  return {
    status: 'fail',
    title: `Database ${path} is version ${version}, newer than this bot knows (${knownVersion})`,
    fix: 'Update the bot (git pull, then npm ci), or restore a backup made by this version.',
  };
}

/** Thresholds for how long a due outbox job may wait. */
export const OUTBOX_WARN_MS = 5 * 60_000;
export const OUTBOX_FAIL_MS = 60 * 60_000;
/** How far back jobs in state 'attention' are reported. */
export const ATTENTION_WINDOW_MS = 7 * 24 * 60 * 60_000;

/**
 * The outbox (Telegram actions waiting to be done): how many are due and since when, and which
 * failed for good ('attention') in the last 7 days. Jobs for customers who blocked the bot are
 * not reported: nobody can fix those. A message to an admin that failed gets its own line (the
 * bot cannot alert anyone about it): usually that admin never pressed Start in the bot.
 */
export function checkOutbox(db: Db, now: number, context: { admins?: readonly number[]; botUsername?: string } = {}): CheckResult[] {
  const exists = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").pluck().get() === 1;
  if (!exists) return [];
  const due = db
    .prepare<[number], { n: number; since: number | null }>(
      "SELECT count(*) AS n, min(run_after) AS since FROM outbox WHERE (state = 'pending' AND run_after <= ?) OR state = 'running'",
    )
    .get(now)!;
  const later = db.prepare("SELECT count(*) FROM outbox WHERE state = 'pending' AND run_after > ?").pluck().get(now) as number;
  const laterText = later > 0 ? `; ${later} scheduled for later` : '';
  const results: CheckResult[] = [];
  if (due.n === 0) {
    results.push({ status: 'ok', title: `Outbox: no Telegram action waiting${laterText}` });
  } else {
    const waited = Math.max(0, now - (due.since ?? now));
    const title = `Outbox: ${due.n} Telegram action${due.n === 1 ? '' : 's'} waiting, the oldest for ${formatDuration(waited)}${laterText}`;
    if (waited < OUTBOX_WARN_MS) {
      results.push({ status: 'ok', title });
    } else {
      const last = db
        .prepare<[number], { id: number; kind: string; last_error: string | null }>(
          "SELECT id, kind, last_error FROM outbox WHERE (state = 'pending' AND run_after <= ?) OR state = 'running' ORDER BY run_after LIMIT 1",
        )
        .get(now);
      results.push({
        status: waited < OUTBOX_FAIL_MS ? 'warn' : 'fail',
        title,
        details: last?.last_error ? [`#${last.id} ${last.kind}: ${last.last_error}`] : undefined,
        fix: 'Customers may be waiting for their access: check that the bot is running (pm2 status) and read why with pm2 logs subscription-bot (often Telegram is unreachable from the server).',
      });
    }
  }

  const failed = db
    .prepare<[number], { id: number; kind: string; chat_id: number | null; last_error: string | null }>(
      "SELECT id, kind, chat_id, last_error FROM outbox WHERE state = 'attention' AND updated_at >= ? ORDER BY updated_at DESC",
    )
    .all(now - ATTENTION_WINDOW_MS);
  const admins = new Set(context.admins ?? []);
  const toAdmin = (a: (typeof failed)[number]) => a.kind === 'message' && a.chat_id !== null && admins.has(a.chat_id);
  const adminErrors = new Map<number, string>();
  for (const a of failed.filter(toAdmin)) if (!adminErrors.has(a.chat_id!)) adminErrors.set(a.chat_id!, a.last_error ?? 'no error recorded');
  for (const [admin, error] of adminErrors) {
    results.push({
      status: 'warn',
      title: `Admin ${admin} gets no messages from the bot (${error})`,
      fix:
        `${admin} must open ${context.botUsername ? `@${context.botUsername}` : 'the bot'} in Telegram and press Start (or unblock it). ` +
        'If the id is wrong, fix settings.admins in the catalog: the bot answers /whoami with anyone’s id.',
    });
  }
  const attention = failed.filter((a) => !toAdmin(a) && !/blocked by the user|user is deactivated/.test(a.last_error ?? ''));
  if (attention.length === 0) {
    results.push({ status: 'ok', title: 'Outbox: no Telegram action failed in the last 7 days' });
  } else {
    results.push({
      status: 'warn',
      title: `Outbox: ${attention.length} Telegram action${attention.length === 1 ? '' : 's'} failed for good in the last 7 days`,
      details: attention.slice(0, 3).map((a) => `#${a.id} ${a.kind}${a.chat_id !== null ? ` (chat ${a.chat_id})` : ''}: ${a.last_error ?? 'no error recorded'}`),
      fix: 'The admins were told about each in Telegram. Fix the cause (often a right the bot is missing in a channel, see above), then help the customers concerned by hand.',
    });
  }
  return results;
}

// ---- HTTP -----------------------------------------------------------------------------------

/** Whether the bot answers on this server: GET http://HOST:PORT/healthz (HOST 0.0.0.0 or :: is asked on 127.0.0.1). */
export async function checkBotRunning(fetchFn: FetchLike, port: number, timeoutMs = 5000, host = '127.0.0.1'): Promise<{ result: CheckResult; running: boolean }> {
  const where = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${where}:${port}/healthz`;
  let status: number;
  let body: string;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    body = await res.text();
  } catch (error) {
    return {
      running: false,
      result: {
        status: 'warn',
        title: `The bot is not running on this server (${describeFetchError(error, timeoutMs)} on port ${port})`,
        fix: 'Start it: pm2 start ecosystem.config.cjs (or npm start to watch it in this terminal).',
      },
    };
  }
  const health = parseHealth(body);
  if (!health) {
    return { running: false, result: { status: 'warn', title: `Something that is not the bot answers on port ${port}`, fix: 'Stop that program, or set PORT in .env to a free port.' } };
  }
  if (status === 200 && health.ok) return { running: true, result: { status: 'ok', title: `The bot is running: ${url} answers OK` } };
  return {
    running: true,
    result: {
      status: 'fail',
      title: `The bot runs but is not healthy (database ${health.database ?? '?'}, bot ${health.bot ?? '?'})`,
      fix: 'Read why with pm2 logs subscription-bot, then restart it: pm2 restart subscription-bot.',
    },
  };
}

/**
 * PUBLIC_URL reaches the bot from outside: GET `${PUBLIC_URL}/healthz`. `botRunning` (from
 * {@link checkBotRunning}) tells whether to blame the bot or the way to it.
 */
export async function checkPublicUrl(fetchFn: FetchLike, publicUrl: string | undefined, botRunning: boolean, port: number, timeoutMs = 10_000): Promise<CheckResult> {
  if (!publicUrl) {
    return {
      status: 'warn',
      title: 'PUBLIC_URL is not set, so whether AiPay can reach the bot was not checked',
      fix: "To check it, run PUBLIC_URL=https://bot.example.kz npm run doctor with your address (AiPay's webhook URL is that address followed by /webhook/aipay). Setting PUBLIC_URL in .env also switches Telegram updates to webhook mode (README, step 12).",
    };
  }
  const url = `${publicUrl}/healthz`;
  const notRunning = 'Start the bot first (pm2 start ecosystem.config.cjs), then run npm run doctor again.';
  const proxy = `The bot answers on this server but not at PUBLIC_URL: check that the domain points to this server and that the reverse proxy (Caddy, nginx) forwards https to 127.0.0.1:${port}.`;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs) });
    const health = parseHealth(await res.text());
    if (res.status === 200 && health?.ok) return { status: 'ok', title: `PUBLIC_URL works: ${url} answers OK` };
    if (health) return { status: 'fail', title: `${url} reaches the bot, but it is not healthy (database ${health.database ?? '?'}, bot ${health.bot ?? '?'})`, fix: 'Read why with pm2 logs subscription-bot.' };
    return { status: 'fail', title: `${url} answers ${res.status}, not the bot's health check`, fix: botRunning ? proxy : notRunning };
  } catch (error) {
    return { status: 'fail', title: `${url} cannot be reached (${describeFetchError(error, timeoutMs)})`, fix: botRunning ? proxy : notRunning };
  }
}

/**
 * How Telegram delivers the bot's updates (getWebhookInfo), against what the settings ask for:
 * with PUBLIC_URL a webhook to `${PUBLIC_URL}/webhook/telegram` that works (Telegram's own last
 * error is shown), without it none (long polling). A webhook pointing elsewhere means another
 * server uses the same token, or the bot was not restarted after PUBLIC_URL changed.
 */
export async function checkTelegramDelivery(api: TelegramChecksApi, publicUrl: string | undefined, botRunning: boolean, port: number, now: number): Promise<CheckResult> {
  let info: WebhookInfo;
  try {
    info = await api.getWebhookInfo();
  } catch (error) {
    return { ...unreachableTelegram(error, undefined), title: 'How Telegram delivers updates could not be checked — Telegram did not answer' };
  }
  const expected = publicUrl ? `${publicUrl}${TELEGRAM_WEBHOOK_PATH}` : '';
  const waiting = info.pending_update_count > 0 ? ` (${info.pending_update_count} update${info.pending_update_count === 1 ? '' : 's'} waiting)` : '';
  const recentError = info.last_error_date !== undefined && now / 1000 - info.last_error_date < 3600 ? info.last_error_message : undefined;
  const otherServer = 'Another server or program may use the same BOT_TOKEN: stop it (one token serves one bot; @BotFather makes another), then pm2 reload subscription-bot.';
  const url = info.url ?? '';
  if (url === expected) {
    if (!expected) return { status: 'ok', title: `Telegram updates: long polling (PUBLIC_URL is not set)${waiting}` };
    if (recentError) {
      return {
        status: 'fail',
        title: `Telegram cannot deliver updates to ${expected}: "${recentError}"${waiting}`,
        fix: botRunning
          ? `Check that the domain points to this server, that its HTTPS certificate is valid, and that the reverse proxy (Caddy, nginx) forwards https to 127.0.0.1:${port}.`
          : 'Start the bot (pm2 start ecosystem.config.cjs), then run npm run doctor again.',
      };
    }
    return { status: 'ok', title: `Telegram delivers updates to ${expected}${waiting}` };
  }
  if (expected) {
    if (!url) {
      return botRunning
        ? { status: 'fail', title: 'PUBLIC_URL is set but Telegram has no webhook for the bot', fix: 'Restart the bot (pm2 reload subscription-bot): it sets the webhook when it starts.' }
        : { status: 'ok', title: `Telegram updates: the bot sets its webhook (${expected}) when it starts` };
    }
    return {
      status: 'fail',
      title: `Telegram sends this bot's updates to ${url}, not to ${expected}`,
      fix: `If you changed PUBLIC_URL, restart the bot (pm2 reload subscription-bot). ${otherServer}`,
    };
  }
  return botRunning
    ? { status: 'fail', title: `Telegram sends this bot's updates to ${url}, so this server gets none`, fix: otherServer }
    : { status: 'warn', title: `A Telegram webhook is set (${url}); the bot removes it when it starts without PUBLIC_URL`, fix: otherServer };
}

// ---- helpers --------------------------------------------------------------------------------

/** The exit code of doctor: 1 when any check failed. */
export function exitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** `12 s`, `7 min`, `3 h 5 min`, `2 days`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
  return `${Math.floor(h / 24)} days`;
}

function telegramErrorCode(error: unknown): number | undefined {
  const code = (error as { error_code?: unknown })?.error_code;
  return typeof code === 'number' ? code : undefined;
}

function unreachableTelegram(error: unknown, apiRoot: string | undefined): CheckResult {
  const custom = apiRoot !== undefined && apiRoot !== 'https://api.telegram.org';
  const code = telegramErrorCode(error);
  // grammY wraps a network failure in an HttpError whose `error` is fetch's.
  const why = code !== undefined ? `it answered ${code}: ${(error as { description?: string }).description ?? ''}` : describeFetchError((error as { error?: unknown }).error ?? error, 10_000);
  return {
    status: 'fail',
    title: `Telegram${custom ? ` (${apiRoot})` : ''} could not be reached (${why})`,
    fix: `Check the server's internet connection${custom ? ' and TELEGRAM_API_ROOT in .env' : ''}, then run npm run doctor again.`,
  };
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = (error as Error)?.name;
  const seconds = /timed out after (\d+) seconds/.exec((error as Error)?.message ?? '')?.[1]; // grammY's own timeout
  if (seconds) return `no answer within ${seconds} s`;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  // Node's fetch puts the system error in `cause`; node-fetch (grammY's client) on the error itself.
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (error as { code?: string })?.code ?? '';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the domain name does not resolve';
  if (/CERT|SSL|TLS/i.test(code) || /certificate/i.test(cause?.message ?? '')) return 'its HTTPS certificate is not valid';
  if (code === 'ECONNRESET') return 'the connection was cut';
  // A Bot API URL holds the token: never show one.
  return (cause?.message ?? (error as Error)?.message ?? String(error)).replace(/\/bot[^/\s]+\//g, '/bot…/');
}

function parseHealth(body: string): { ok: boolean; database?: string; bot?: string } | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    if (value && typeof value === 'object' && 'ok' in value && typeof value.ok === 'boolean') return value as { ok: boolean; database?: string; bot?: string };
  } catch {
    // not JSON
  }
  return undefined;
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}
