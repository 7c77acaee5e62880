import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { loadCatalog } from '../catalog/load-catalog.js';
import type { Settings } from '../settings.js';
import { MIGRATIONS } from '../storage/migrations.js';
import type { Db } from '../storage/open-database.js';
import { BACKUP_PREFIX, defaultBackupDir, listBackups } from './backup-database.js';
import {
  checkAipaySecrets,
  checkBotRunning,
  checkBotToken,
  checkCatalog,
  checkChannels,
  checkDatabase,
  checkOutbox,
  checkPublicUrl,
  checkTelegramDelivery,
  checkTimezoneData,
  type CheckResult,
  type FetchLike,
  type TelegramChecksApi,
} from './doctor-checks.js';
import { replicaSecrets } from './litestream.js';
import { displayPath } from './paths.js';
import { checkReplication } from './replication-checks.js';
import type { OffsetOf } from '../timezone-data.js';

export interface DoctorDeps {
  settings: Settings;
  /** A Telegram client for the token (the CLI: grammY's Api with a timeout; tests: the emulator). */
  telegram: (token: string) => TelegramChecksApi;
  fetch: FetchLike;
  now: () => number;
  /** Per HTTP request (default: 10 000 ms). */
  timeoutMs?: number;
  /** Time-zone offsets (default: this Node.js's data; tests pretend an old one). */
  offsetOf?: OffsetOf;
}

/**
 * Runs every check in the order an operator fixes things: Node.js's time-zone data, secrets and token, catalog, the bot's
 * place in each channel, the database, its outbox and its continuous copy (Litestream), then
 * whether the bot answers locally and at PUBLIC_URL. Secrets never appear in the results, even inside an error message.
 */
export async function runDoctor(d: DoctorDeps): Promise<CheckResult[]> {
  const s = d.settings;
  const timeoutMs = d.timeoutMs ?? 10_000;
  const results: CheckResult[] = [checkTimezoneData(d.offsetOf)];

  const api = s.botToken ? d.telegram(s.botToken) : undefined;
  const token = await checkBotToken(api, s);
  results.push(token.result);
  results.push(...checkAipaySecrets(s));

  const load = loadCatalog(s.catalogPath);
  results.push(checkCatalog(load, s.catalogPath));
  if (api && token.bot && load.ok) {
    results.push(...(await checkChannels(api, token.bot, load.catalog)));
  } else {
    const why = [!token.bot && 'a working BOT_TOKEN', !load.ok && 'a valid catalog'].filter(Boolean).join(' and ');
    results.push({ status: 'warn', title: `Channels were not checked: that needs ${why}`, fix: 'Fix the problems above, then run npm run doctor again.' });
  }

  results.push(...checkDatabaseFile(s.databasePath, d.now(), { admins: load.ok ? load.catalog.settings.admins : undefined, botUsername: token.bot?.username }));
  results.push(...(await checkReplication(s, d.now(), Math.max(timeoutMs, 20_000))));

  const local = await checkBotRunning(d.fetch, s.port, Math.min(timeoutMs, 5000), s.host);
  results.push(local.result);
  results.push(await checkPublicUrl(d.fetch, s.publicUrl, local.running, s.port, timeoutMs));
  if (api && token.bot) results.push(await checkTelegramDelivery(api, s.publicUrl, local.running, s.port, d.now()));

  return results.map((r) => scrub(r, [s.botToken, s.aipayApiKey, s.aipayWebhookSecret, s.metricsToken, ...replicaSecrets(s.replica)]));
}

function checkDatabaseFile(path: string, now: number, context: Parameters<typeof checkOutbox>[2]): CheckResult[] {
  const shown = displayPath(path);
  if (!existsSync(path)) {
    return [{ status: 'warn', title: `No database yet at ${shown}`, fix: 'The bot creates it when it first starts; if it has run before, check DATABASE_PATH in .env.' }];
  }
  let db: Db;
  try {
    // No migrations and nothing written: the running bot may have it open too.
    db = new Database(path, { fileMustExist: true, timeout: 2000 });
  } catch (error) {
    return [{ status: 'fail', title: `Database ${shown} cannot be opened (${(error as Error).message})`, fix: "Check the file's permissions and DATABASE_PATH in .env." }];
  }
  try {
    const newest = listBackups(defaultBackupDir(path), BACKUP_PREFIX).at(-1);
    const result = checkDatabase(db, shown, MIGRATIONS.length, newest && displayPath(newest.file));
    if (result.status === 'fail') return [result];
    return [result, ...checkOutbox(db, now, context)];
  } finally {
    db.close();
  }
}

function scrub(r: CheckResult, secrets: ReadonlyArray<string | undefined>): CheckResult {
  const clean = (text: string) => secrets.reduce<string>((t, secret) => (secret && secret.length >= 6 ? t.split(secret).join('[hidden]') : t), text);
  return { ...r, title: clean(r.title), fix: r.fix && clean(r.fix), details: r.details?.map(clean) };
}
