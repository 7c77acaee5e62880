import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api, GrammyError, HttpError } from 'grammy';
import type { ChatMemberAdministrator, Update, User } from 'grammy/types';
import { NEEDED_RIGHTS } from '../access/membership.js';
import { ALLOWED_UPDATES } from '../app.js';
import { loadCatalog } from '../catalog/load-catalog.js';
import { formatProblem } from '../catalog/problem.js';
import { readSettings, secretProblem, PASTE_WEBHOOK_SECRET, SettingsError } from '../settings.js';
import { readEnvFile, writeEnvValues } from './env-file.js';
import { CatalogDocument } from './catalog-document.js';
import type { Prompter } from './prompter.js';
import { setupTexts, type SetupLanguage, type SetupTexts } from './setup-texts.js';

/** pm2 as the wizard uses it; absent when pm2 is not installed. */
export interface SetupPm2 {
  /** Whether the bot (subscription-bot) runs under pm2 now. */
  botRunning(): Promise<boolean>;
  stopBot(): Promise<void>;
  /** `pm2 startOrReload ecosystem.config.cjs`, then `pm2 save`. */
  startBot(): Promise<void>;
  /** The `sudo env PATH=…` line `pm2 startup` asks to run, or undefined when nothing is left to do. */
  startupLine(): Promise<string | undefined>;
}

export interface SetupDeps {
  prompt: Prompter;
  /** The bot's folder: .env, .env.example, catalog.yaml, catalog.example.yaml, the Caddyfile. */
  dir: string;
  /** The environment (TELEGRAM_API_ROOT, CATALOG_PATH, DATABASE_PATH win over .env as at start-up). */
  env: Readonly<Record<string, string | undefined>>;
  /** undefined: pm2 is not installed. */
  pm2?: SetupPm2;
  /** Keeps updates that are not the wizard's in the bot's inbox (DATABASE_PATH), for the bot to handle. */
  storeUpdates(databasePath: string, updates: readonly Update[]): void;
  /** This server's public IPv4 address, for the `<ip>.sslip.io` offer (undefined: unknown). */
  publicIp(): Promise<string | undefined>;
  /** npm run doctor's lines. */
  doctor(): Promise<string[]>;
  /** Long-poll length per getUpdates call (default: 25 s). */
  pollSeconds?: number;
}

/** What the wizard did, for tests and the closing line. */
export interface SetupOutcome {
  bot?: string;
  admins: number[];
  keptUpdates: number;
}

const EXAMPLE_ADMIN = 123456789;
const EXAMPLE_CHAT_IDS = new Set([-1001234567890, -1009876543210]);
const BOT_NAME = 'subscription-bot';

/** The Caddyfile for `domain`: only the three addresses the outside needs reach the bot. */
export function caddyfile(domain: string, port: number): string {
  return `${domain} {\n    @bot path /webhook/aipay /webhook/telegram /healthz\n    handle @bot {\n        reverse_proxy 127.0.0.1:${port}\n    }\n    handle {\n        respond 404\n    }\n}\n`;
}

/** The nginx server block for `domain` (README, step 10). */
export function nginxBlock(domain: string, port: number): string {
  return `server {\n    listen 80;\n    server_name ${domain};\n\n    location ~ ^/(webhook/aipay|webhook/telegram|healthz)$ {\n        proxy_pass http://127.0.0.1:${port};\n        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n        proxy_set_header X-Forwarded-Proto $scheme;\n    }\n\n    location / {\n        return 404;\n    }\n}\n`;
}

/** Reads updates for the wizard; those it does not use are kept for the bot. */
class UpdateReader {
  private offset: number | undefined;
  private buffer: Update[] = [];
  readonly kept: Update[] = [];
  constructor(
    private readonly api: Api,
    private readonly pollSeconds: number,
  ) {}

  /** The first update `pick` accepts, or undefined after one long poll with nothing accepted. */
  async next<T>(pick: (u: Update) => T | undefined): Promise<[T, Update] | undefined> {
    if (this.buffer.length === 0) {
      const got = await this.api.getUpdates({ offset: this.offset, timeout: this.pollSeconds, allowed_updates: [...ALLOWED_UPDATES] });
      this.buffer.push(...got);
      if (got.length > 0) this.offset = got[got.length - 1]!.update_id + 1;
    }
    while (this.buffer.length > 0) {
      const u = this.buffer.shift()!;
      const picked = pick(u);
      if (picked !== undefined) return [picked, u];
      this.kept.push(u);
    }
    return undefined;
  }

  /** Confirms what was read, keeping whatever else has arrived meanwhile. */
  async finish(): Promise<Update[]> {
    this.kept.push(...this.buffer.splice(0));
    if (this.offset === undefined) return this.kept;
    for (;;) {
      const got = await this.api.getUpdates({ offset: this.offset, timeout: 0, allowed_updates: [...ALLOWED_UPDATES] });
      if (got.length === 0) return this.kept;
      this.kept.push(...got);
      this.offset = got[got.length - 1]!.update_id + 1;
    }
  }
}

const fullName = (u: Pick<User, 'first_name' | 'last_name' | 'username'>) => `${[u.first_name, u.last_name].filter(Boolean).join(' ')}${u.username ? ` (@${u.username})` : ''}`;

/**
 * `npm run setup`: a guided set-up from an empty server to a running bot — token (checked with
 * getMe), AiPay keys, admin and channels captured from Telegram, the first plan, the HTTPS proxy
 * configuration, pm2 — writing .env (mode 600) and catalog.yaml (comments kept), and changing
 * only what the person changes. Throws SetupCancelled on Ctrl+C; the bot is started again then too.
 */
export async function runSetup(d: SetupDeps): Promise<SetupOutcome> {
  const p = d.prompt;
  const lang = await p.select<SetupLanguage>({
    id: 'language',
    message: 'Язык / Тіл / Language',
    options: [
      { value: 'ru', label: 'Русский' },
      { value: 'kk', label: 'Қазақша' },
      { value: 'en', label: 'English' },
    ],
    initial: 'ru',
  });
  const t = setupTexts(lang);
  p.say(t.intro);
  const envPath = join(d.dir, '.env');
  const envNow = () => ({ ...readEnvFile(envPath), ...d.env });
  const apiRoot = readSettings({ TELEGRAM_API_ROOT: envNow().TELEGRAM_API_ROOT }).telegramApiRoot;
  const writeEnv = (values: Record<string, string>) => writeEnvValues(envPath, values, join(d.dir, '.env.example'));

  // 1. The token, checked with getMe before it is stored.
  p.say(t.tokenStep, 'step');
  const { api, bot } = await askToken(p, t, apiRoot, envNow().BOT_TOKEN, writeEnv);

  // 2. AiPay.
  p.say(t.aipayStep, 'step');
  const had = envNow();
  const key = await p.password({ id: 'aipayKey', message: t.aipayKeyAsk(!!had.AIPAY_API_KEY?.trim()), validate: (v) => (/\s/.test(v.trim()) ? t.aipaySkipped : undefined) });
  const secret = await p.password({ id: 'aipaySecret', message: t.aipaySecretAsk(!!had.AIPAY_WEBHOOK_SECRET?.trim()), validate: (v) => secretProblem('AIPAY_WEBHOOK_SECRET', v, PASTE_WEBHOOK_SECRET) });
  const aipay: Record<string, string> = {};
  if (key.trim()) aipay.AIPAY_API_KEY = key.trim();
  if (secret) aipay.AIPAY_WEBHOOK_SECRET = secret;
  if (Object.keys(aipay).length > 0) {
    writeEnv(aipay);
    p.say(t.aipaySaved, 'ok');
  }
  if (!envNow().AIPAY_API_KEY?.trim() || !envNow().AIPAY_WEBHOOK_SECRET?.trim()) p.say(t.aipaySkipped, 'warn');

  // 3. Updates are read here from now on: the bot must not read them at the same time.
  p.say(t.stopStep, 'step');
  const hook = await api.getWebhookInfo();
  if (hook.url) {
    await api.deleteWebhook();
    p.say(t.webhookRemoved(hook.url), 'warn');
  }
  let restart = false;
  if (d.pm2 && (await d.pm2.botRunning())) {
    p.say(t.pm2Stopping, 'warn');
    await d.pm2.stopBot();
    restart = true;
  }
  const reader = new UpdateReader(api, d.pollSeconds ?? 25);
  const settings = readSettings({ CATALOG_PATH: envNow().CATALOG_PATH, DATABASE_PATH: envNow().DATABASE_PATH, PORT: envNow().PORT });
  const catalogPath = join(d.dir, settings.catalogPath);
  const databasePath = join(d.dir, settings.databasePath);
  let admins: number[] = [];
  try {
    const { catalog, created } = CatalogDocument.open(catalogPath, join(d.dir, 'catalog.example.yaml'));
    if (created) p.say(t.catalogCreated, 'ok');

    // 4. The admin: whoever sends /start now.
    p.say(t.adminStep, 'step');
    admins = ((catalog.get(['settings', 'admins']) as number[] | undefined) ?? []).filter((id) => id !== EXAMPLE_ADMIN);
    if (admins.length > 0) p.say(t.adminCurrent(admins.join(', ')));
    if (await p.confirm({ id: 'addAdmin', message: t.adminAdd, initial: admins.length === 0 })) {
      p.say(t.adminSend(bot.username));
      const who = await waitFor(p, t, reader, (u) => (u.message?.chat.type === 'private' && u.message.from && !u.message.from.is_bot ? u.message.from : undefined), async (from) =>
        (await p.confirm({ id: 'adminIsYou', message: t.adminIsIt(fullName(from), from.id), initial: true })) ? from : undefined,
      );
      if (who) {
        if (admins.includes(who.id)) p.say(t.adminAlready(who.id), 'ok');
        else {
          admins = [...admins, who.id];
          catalog.setAdmins(admins);
          catalog.save();
          p.say(t.adminSaved(who.id), 'ok');
        }
      }
    }

    // 5. Channels: the bot sees itself added (my_chat_member) and reports its rights.
    p.say(t.channelStep, 'step');
    const channelIds = () => catalog.keys('channels');
    const chatIdOf = (id: string) => catalog.get(['channels', id, 'chat_id']) as number | undefined;
    const real = channelIds().filter((id) => !EXAMPLE_CHAT_IDS.has(chatIdOf(id) ?? 0));
    if (real.length > 0) p.say(t.channelCurrent(real.map((id) => `${id} (${chatIdOf(id)})`).join(', ')));
    let more = await p.confirm({ id: 'addChannel', message: t.channelAdd, initial: real.length === 0 });
    while (more) {
      p.say(t.channelSend(bot.username));
      const chat = await waitFor(p, t, reader, (u) => {
        const m = u.my_chat_member;
        return m && m.chat.type !== 'private' && ['administrator', 'member', 'creator'].includes(m.new_chat_member.status) ? m : undefined;
      }, async (m) => {
        p.say(t.channelSeen(m.chat.title ?? String(m.chat.id), m.chat.id));
        if (m.new_chat_member.status === 'member') {
          p.say(t.channelNotAdmin(m.chat.title ?? String(m.chat.id)), 'warn');
          return undefined;
        }
        const rights = m.new_chat_member as ChatMemberAdministrator;
        const missing = NEEDED_RIGHTS.filter(([k]) => m.new_chat_member.status !== 'creator' && !rights[k] && !(k === 'can_restrict_members' && m.chat.type === 'channel')).map(([, name]) => name);
        if (missing.length === 0) {
          p.say(t.channelRightsOk, 'ok');
          return m;
        }
        p.say(t.channelMissing(missing.join(', ')), 'warn');
        const what = await p.select({
          id: 'channelRights',
          message: t.channelMissingWhat,
          options: [
            { value: 'wait', label: t.channelWaitRights },
            { value: 'add', label: t.channelAddAnyway },
            { value: 'skip', label: t.channelSkip },
          ],
          initial: 'wait',
        });
        return what === 'add' ? m : what === 'skip' ? null : undefined;
      });
      if (chat) {
        const example = channelIds().find((id) => EXAMPLE_CHAT_IDS.has(chatIdOf(id) ?? 0));
        const same = channelIds().find((id) => chatIdOf(id) === chat.chat.id);
        const which = same ?? (await p.select({
          id: 'channelWhich',
          message: t.channelWhich,
          options: [...channelIds().map((id) => ({ value: id, label: id, hint: EXAMPLE_CHAT_IDS.has(chatIdOf(id) ?? 0) ? t.channelExample : String(chatIdOf(id)) })), { value: '', label: t.channelNew }],
          initial: example ?? '',
        }));
        const id = which || (await p.text({ id: 'channelId', message: t.channelIdAsk, initial: `chat${channelIds().length + 1}`, validate: (v) => (/^[a-z][a-z0-9_]*$/i.test(v) ? undefined : t.channelIdBad) }));
        catalog.set(['channels', id, 'chat_id'], chat.chat.id);
        if (!which) catalog.set(['channels', id, 'title'], chat.chat.title ?? id);
        catalog.save();
        p.say(t.channelSaved(id, chat.chat.id), 'ok');
      }
      more = await p.confirm({ id: 'anotherChannel', message: t.channelAnother, initial: false });
    }

    // 6. The first plan, then the validator's verdict.
    p.say(t.catalogStep, 'step');
    const plan = catalog.keys('plans')[0];
    if (plan) {
      const defaultLanguage = String(catalog.get(['settings', 'default_language']) ?? 'ru');
      const titleValue = catalog.get(['plans', plan, 'title']);
      const titlePath = typeof titleValue === 'object' && titleValue !== null ? ['plans', plan, 'title', lang in titleValue ? lang : defaultLanguage] : ['plans', plan, 'title'];
      const title = await p.text({ id: 'planTitle', message: t.planTitle(plan), initial: String(catalog.get(titlePath) ?? '') });
      if (title.trim()) catalog.set(titlePath, title.trim());
      const price = await p.text({ id: 'planPrice', message: t.planPrice, initial: String(catalog.get(['plans', plan, 'price']) ?? ''), validate: (v) => (/^\d+$/.test(v.trim()) ? undefined : t.planPriceBad) });
      catalog.set(['plans', plan, 'price'], Number(price.trim()));
      const period = await p.text({ id: 'planPeriod', message: t.planPeriod, initial: String(catalog.get(['plans', plan, 'period']) ?? '1m'), validate: (v) => (/^[0-9]+(d|w|m|y)$/.test(v.trim()) ? undefined : t.planPeriodBad) });
      catalog.set(['plans', plan, 'period'], period.trim());
      catalog.save();
    }
    const loaded = loadCatalog(catalogPath);
    if (loaded.ok) {
      p.say(t.catalogOk(loaded.summary), 'ok');
      for (const w of loaded.warnings) p.say(formatProblem(w), 'warn');
    } else {
      p.say(t.catalogProblems(loaded.problems.filter((x) => x.severity === 'error').length), 'error');
      p.say(loaded.problems.map(formatProblem).join('\n'));
    }
  } finally {
    const kept = await reader.finish();
    if (kept.length > 0) {
      d.storeUpdates(databasePath, kept);
      p.say(t.keptUpdates(kept.length));
    }
    if (restart && d.pm2) await d.pm2.startBot().catch(() => undefined);
  }

  // 7. HTTPS in front of the bot.
  p.say(t.httpsStep, 'step');
  const caddyPath = join(d.dir, 'Caddyfile');
  const previous = existsSync(caddyPath) ? /^(\S+)\s*\{/.exec(readFileSync(caddyPath, 'utf8'))?.[1] : undefined;
  const ip = previous ? undefined : await d.publicIp();
  if (ip) p.say(t.domainSslip(ip));
  const domain = (
    await p.text({ id: 'domain', message: t.domainAsk, initial: previous ?? (ip ? `${ip}.sslip.io` : ''), validate: (v) => (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(v.trim()) ? undefined : t.domainBad) })
  ).trim().toLowerCase();
  const caddy = caddyfile(domain, settings.port);
  const same = existsSync(caddyPath) && readFileSync(caddyPath, 'utf8') === caddy;
  if (!same) writeFileSync(caddyPath, caddy);
  p.say(`${same ? t.caddyKept(caddyPath) : t.caddyWritten(caddyPath)}\n  sudo cp ${caddyPath} /etc/caddy/Caddyfile && sudo systemctl reload caddy`, 'ok');
  p.say(`${t.nginxAlt.replace('DOMAIN', domain).replace('ДОМЕН', domain)}\n${nginxBlock(domain, settings.port)}`);
  p.say(t.aipayUrl(`https://${domain}/webhook/aipay`), 'ok');

  // 8. pm2.
  p.say(t.pm2Step, 'step');
  if (!d.pm2) p.say(t.pm2Missing, 'warn');
  else if (await p.confirm({ id: 'pm2Start', message: t.pm2Ask, initial: true })) {
    try {
      await d.pm2.startBot();
      p.say(t.pm2Started, 'ok');
      const line = await d.pm2.startupLine();
      p.say(line ? t.pm2Startup(line) : t.pm2StartupRoot, line ? 'warn' : 'ok');
    } catch (error) {
      p.say(t.pm2Failed((error as Error).message), 'error');
    }
  } else p.say(t.pm2NotStarted, 'warn');

  // 9. The doctor, and the first purchase.
  p.say(t.doctorStep, 'step');
  p.say((await d.doctor()).join('\n'));
  const first = CatalogDocument.open(catalogPath, join(d.dir, 'catalog.example.yaml')).catalog.keys('plans')[0];
  p.say(t.done(`https://t.me/${bot.username}${first ? `?start=${first}` : ''}`), 'ok');
  return { bot: bot.username, admins, keptUpdates: reader.kept.length };
}

/** Asks for the token until getMe accepts it and the person recognises the bot; stores it. */
async function askToken(p: Prompter, t: SetupTexts, apiRoot: string, current: string | undefined, writeEnv: (v: Record<string, string>) => boolean): Promise<{ api: Api; bot: { username: string } }> {
  const check = async (token: string) => {
    const api = new Api(token, { apiRoot, timeoutSeconds: 15 } as never);
    try {
      return { api, me: await api.getMe() };
    } catch (error) {
      if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) p.say(t.tokenInvalid, 'error');
      else p.say(t.tokenCheckFailed(error instanceof HttpError ? String((error.error as Error)?.message ?? error.message) : (error as Error).message), 'error');
      return undefined;
    }
  };
  if (current?.trim()) {
    const ok = await check(current.trim());
    if (ok) {
      p.say(t.tokenCurrent(ok.me.username));
      if (await p.confirm({ id: 'keepToken', message: t.tokenKeep(ok.me.username), initial: true })) return { api: ok.api, bot: ok.me };
    } else p.say(t.tokenOldBroken, 'warn');
  }
  for (;;) {
    const token = (
      await p.password({
        id: 'token',
        message: t.tokenAsk,
        validate: (v) => {
          try {
            readSettings({ BOT_TOKEN: v.trim() });
            return v.trim() ? undefined : t.tokenAsk;
          } catch (error) {
            return (error as SettingsError).message;
          }
        },
      })
    ).trim();
    if (!token) continue;
    const ok = await check(token);
    if (!ok) continue;
    if (!(await p.confirm({ id: 'tokenIsIt', message: t.tokenIsIt(ok.me.username, ok.me.first_name), initial: true }))) continue;
    writeEnv({ BOT_TOKEN: token });
    p.say(t.tokenSaved(ok.me.username), 'ok');
    return { api: ok.api, bot: ok.me };
  }
}

/**
 * Long-polls until `pick` finds an update and `accept` takes it (undefined: keep waiting, null:
 * give up). After each empty poll the person is asked whether to keep waiting.
 */
async function waitFor<T, R>(p: Prompter, t: SetupTexts, reader: UpdateReader, pick: (u: Update) => T | undefined, accept: (found: T) => Promise<R | undefined | null>): Promise<R | undefined> {
  for (;;) {
    const next = await reader.next(pick);
    if (next === undefined) {
      if (!(await p.confirm({ id: 'keepWaiting', message: t.stillWaiting, initial: true }))) return undefined;
      continue;
    }
    const [found, update] = next;
    const accepted = await accept(found);
    // Not the wizard's after all (someone else's /start, a chat skipped): the bot gets it.
    if (accepted === undefined || accepted === null) reader.kept.push(update);
    if (accepted === null) return undefined;
    if (accepted !== undefined) return accepted;
  }
}
