import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load-catalog.js';
import type { Catalog } from '../../src/catalog/types.js';
import { backupDatabase, defaultBackupDir } from '../../src/ops/backup-database.js';
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
  exitCode,
  formatCheck,
  type CheckResult,
  type FetchLike,
} from '../../src/ops/doctor-checks.js';
import { runDoctor } from '../../src/ops/doctor.js';
import { projectRoot } from '../../src/project-root.js';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/sandbox/telegram/emulator.js';
import { readSettings, type Settings } from '../../src/settings.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { API_KEY, CHAT_CHAT, MAIN_CHAT, startHarness, TEST_CATALOG, TOKEN, WEBHOOK_SECRET, type Harness } from '../support/harness.js';
import { covers, currentWalPosition, fileReplica, startLitestream } from '../support/litestream.js';
import { eventually } from '../support/payments-helpers.js';
import { freePort, spawnForTest, stopSpawned } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

const WRONG_TOKEN = '987654321:WRONG-token_abcdefghijklmnopqrstuvwxyz';
const api = (tg: TelegramEmulator, token = TOKEN) => new Api(token, { apiRoot: tg.apiRoot, timeoutSeconds: 5 });
const statuses = (results: CheckResult[]) => results.map((r) => `${r.status} ${r.title}`);

describe('doctor checks against the Telegram emulator', () => {
  let tg: TelegramEmulator;
  let dir: { path: string; cleanup: () => void };
  let catalog: Catalog;
  beforeEach(async () => {
    tg = await startTelegramEmulator({ token: TOKEN, bot: { username: 'test_academy_bot' } });
    dir = tempDir();
    writeFileSync(join(dir.path, 'catalog.yaml'), TEST_CATALOG);
    const load = loadCatalog(join(dir.path, 'catalog.yaml'));
    if (!load.ok) throw new Error('test catalog invalid');
    catalog = load.catalog;
  });
  afterEach(async () => {
    await tg.close();
    dir.cleanup();
  });

  it('accepts the right token and names the bot', async () => {
    const { result, bot } = await checkBotToken(api(tg), { botToken: TOKEN, telegramApiRoot: tg.apiRoot });
    expect(result).toEqual({ status: 'ok', title: 'BOT_TOKEN works: the bot is @test_academy_bot' });
    expect(bot).toEqual({ id: 123456789, username: 'test_academy_bot' });
  });

  it('reports a wrong token, and a missing one, with where to fix it', async () => {
    const wrong = await checkBotToken(api(tg, WRONG_TOKEN), { botToken: WRONG_TOKEN, telegramApiRoot: tg.apiRoot });
    expect(wrong.bot).toBeUndefined();
    expect(wrong.result).toEqual({
      status: 'fail',
      title: 'Telegram says BOT_TOKEN is invalid',
      fix: 'Copy the token again from @BotFather (/mybots → your bot → API Token) into BOT_TOKEN in .env.',
    });
    const missing = await checkBotToken(undefined, { botToken: undefined, telegramApiRoot: tg.apiRoot });
    expect(missing.result).toMatchObject({ status: 'fail', title: 'BOT_TOKEN is not set' });
  });

  it('says Telegram did not answer when the Bot API server is down', async () => {
    const port = await freePort();
    const down = new Api(TOKEN, { apiRoot: `http://127.0.0.1:${port}`, timeoutSeconds: 2 });
    const { result } = await checkBotToken(down, { botToken: TOKEN, telegramApiRoot: `http://127.0.0.1:${port}` });
    expect(result.status).toBe('fail');
    expect(result.title).toBe(`Telegram (http://127.0.0.1:${port}) could not be reached (connection refused)`);
    expect(result.fix).toContain('TELEGRAM_API_ROOT in .env');
  });

  it('gives up on a Telegram that does not answer, after the timeout', async () => {
    tg.injectFault({ method: 'getMe', fault: { hang: true } });
    const slow = new Api(TOKEN, { apiRoot: tg.apiRoot, timeoutSeconds: 1 });
    const started = Date.now();
    const { result } = await checkBotToken(slow, { botToken: TOKEN, telegramApiRoot: tg.apiRoot });
    expect(result.title).toBe(`Telegram (${tg.apiRoot}) could not be reached (no answer within 1 s)`);
    // The hang lasts until the emulator closes; this only says the doctor gave up on its own, not
    // after retrying for long. Wide, as a loaded machine adds seconds to a 1 s timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a channel where the bot lacks a right, naming the right and where to switch it on', async () => {
    tg.addChat({ id: MAIN_CHAT, type: 'supergroup', title: 'Channel' });
    tg.setBotMember(MAIN_CHAT, 'administrator', { can_invite_users: false });
    tg.addChat({ id: CHAT_CHAT, type: 'supergroup', title: 'Chat' });
    tg.setBotMember(CHAT_CHAT, 'administrator', { can_invite_users: false, can_restrict_members: false });
    const results = await checkChannels(api(tg), { id: 123456789, username: 'test_academy_bot' }, catalog);
    expect(results).toEqual([
      {
        status: 'fail',
        title: `Channel "Канал" (main, ${MAIN_CHAT}): the bot is an administrator without the right 'Invite users via link'`,
        fix: `Open "Канал" in Telegram → Administrators → @test_academy_bot → turn on 'Invite users via link'.`,
      },
      {
        status: 'fail',
        title: `Channel "Чат" (chat, ${CHAT_CHAT}): the bot is an administrator without the right 'Invite users via link' and 'Ban users'`,
        fix: `Open "Чат" in Telegram → Administrators → @test_academy_bot → turn on 'Invite users via link' and 'Ban users'.`,
      },
    ]);
  });

  it('reports a channel the bot is not in, one it was removed from, one where it is no admin, and an unknown chat id', async () => {
    tg.addChat({ id: MAIN_CHAT, type: 'supergroup', title: 'Channel' }); // the bot was never added
    const bot = { id: 123456789, username: 'test_academy_bot' };
    let [main, chat] = await checkChannels(api(tg), bot, catalog);
    expect(main).toMatchObject({ status: 'fail', title: `Channel "Канал" (main, ${MAIN_CHAT}): the bot is not in this chat` });
    expect(main!.fix).toContain(`Open "Канал" in Telegram → Administrators → Add Admin → @test_academy_bot, and turn on 'Invite users via link' and 'Ban users'.`);
    expect(main!.fix).toContain('check channels.main.chat_id in catalog.yaml');
    expect(chat).toMatchObject({ status: 'fail', title: `Channel "Чат" (chat, ${CHAT_CHAT}): the bot is not in this chat` }); // chat not found

    tg.setBotMember(MAIN_CHAT, 'kicked');
    tg.addChat({ id: CHAT_CHAT, type: 'supergroup', title: 'Chat' });
    tg.setBotMember(CHAT_CHAT, 'member');
    [main, chat] = await checkChannels(api(tg), bot, catalog);
    expect(main).toMatchObject({ status: 'fail', title: `Channel "Канал" (main, ${MAIN_CHAT}): the bot was removed from this chat` });
    expect(chat).toEqual({
      status: 'fail',
      title: `Channel "Чат" (chat, ${CHAT_CHAT}): the bot is a member but not an administrator`,
      fix: `Open "Чат" in Telegram → Administrators → Add Admin → @test_academy_bot, and turn on 'Invite users via link' and 'Ban users'.`,
    });
  });

  it('checks how Telegram delivers updates against PUBLIC_URL', async () => {
    const now = () => Date.now();
    const deadPort = await freePort();
    const dead = `http://127.0.0.1:${deadPort}`;
    expect(await checkTelegramDelivery(api(tg), undefined, true, 3000, now())).toEqual({ status: 'ok', title: 'Telegram updates: long polling (PUBLIC_URL is not set)' });
    expect(await checkTelegramDelivery(api(tg), dead, true, 3000, now())).toMatchObject({
      status: 'fail',
      title: 'PUBLIC_URL is set but Telegram has no webhook for the bot',
      fix: expect.stringContaining('pm2 reload subscription-bot'),
    });
    expect((await checkTelegramDelivery(api(tg), dead, false, 3000, now())).status).toBe('ok'); // set when it starts

    // Another server took the token: its webhook gets the updates.
    await api(tg).setWebhook(`${dead}/elsewhere`);
    expect(await checkTelegramDelivery(api(tg), undefined, true, 3000, now())).toMatchObject({
      status: 'fail',
      title: `Telegram sends this bot's updates to ${dead}/elsewhere, so this server gets none`,
      fix: expect.stringContaining('same BOT_TOKEN'),
    });
    expect((await checkTelegramDelivery(api(tg), undefined, false, 3000, now())).status).toBe('warn');

    // The webhook is right, but nothing answers there: Telegram's own error is shown.
    await api(tg).setWebhook(`${dead}/webhook/telegram`);
    await tg.addUser({ id: 55, first_name: 'A' }).sendText('/start');
    for (let i = 0; i < 50 && (await api(tg).getWebhookInfo()).last_error_date === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    const failing = await checkTelegramDelivery(api(tg), dead, true, 3000, now());
    expect(failing.status).toBe('fail');
    expect(failing.title).toMatch(new RegExp(`^Telegram cannot deliver updates to ${dead}/webhook/telegram: ".+" \\(1 update waiting\\)$`));
    expect(failing.fix).toContain('forwards https to 127.0.0.1:3000');
  });

  it('passes channels where the bot is an administrator with every right', async () => {
    for (const id of [MAIN_CHAT, CHAT_CHAT]) {
      tg.addChat({ id, type: 'channel', title: 'C' });
      tg.setBotMember(id, 'administrator', { can_invite_users: true, can_restrict_members: true });
    }
    const results = await checkChannels(api(tg), { id: 123456789, username: 'test_academy_bot' }, catalog);
    expect(statuses(results)).toEqual([
      `ok Channel "Канал" (main, ${MAIN_CHAT}): the bot is an administrator with every right it needs`,
      `ok Channel "Чат" (chat, ${CHAT_CHAT}): the bot is an administrator with every right it needs`,
    ]);
  });
});

describe('doctor checks of files and the database', () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('lists every catalog problem with its line', () => {
    const path = join(dir.path, 'catalog.yaml');
    writeFileSync(path, TEST_CATALOG.replace('price: 4900', 'price: "4 900 тг"').replace('period: 30d', 'period: 30 days'));
    const result = checkCatalog(loadCatalog(path), path);
    expect(result.status).toBe('fail');
    expect(result.title).toBe('Catalog catalog.yaml has 2 problems');
    expect(result.details).toHaveLength(2);
    expect(result.details![0]).toMatch(/^catalog\.yaml:\d+:\d+ {2}plans\.monthly\.price {2}"4 900 тг" must be a plain number — write 4900/);
    expect(result.details![1]).toMatch(/^catalog\.yaml:\d+:\d+ {2}plans\.bundle\.period/);
    expect(result.fix).toBe('Fix each line above in catalog.yaml (npm run validate checks the file again).');
    const missing = checkCatalog(loadCatalog(join(dir.path, 'none.yaml')), join(dir.path, 'none.yaml'));
    expect(missing.details![0]).toContain('copy catalog.example.yaml to none.yaml and edit it');
  });

  it('checks the database: intact and current, not yet upgraded, newer than the code, damaged', async () => {
    const path = join(dir.path, 'data', 'bot.db');
    const db = openDatabase(path);
    expect(checkDatabase(db, 'data/bot.db', MIGRATIONS.length)).toEqual({ status: 'ok', title: `Database data/bot.db: intact, version ${MIGRATIONS.length} (up to date)` });
    expect(checkDatabase(db, 'data/bot.db', MIGRATIONS.length + 1)).toMatchObject({ status: 'warn', fix: expect.stringContaining('pm2 reload subscription-bot') });
    expect(checkDatabase(db, 'data/bot.db', MIGRATIONS.length - 1)).toMatchObject({ status: 'fail', title: expect.stringContaining('newer than this bot knows') });
    db.close();

    await backupDatabase(path, defaultBackupDir(path), 14, { now: new Date('2026-03-14T10:15:00Z') });
    const bytes = readFileSync(path);
    bytes.fill(0x55, 4096, bytes.length);
    writeFileSync(path, bytes);
    const settings = { ...readSettings({}), databasePath: path, catalogPath: join(dir.path, 'none.yaml'), port: await freePort() };
    const results = await runDoctor({ settings, telegram: () => unreachable, fetch: refused, now: () => Date.now() });
    const database = results.find((r) => r.title.includes('Database'))!;
    expect(database.status).toBe('fail');
    expect(database.title).toMatch(/is damaged|cannot be read/);
    expect(database.fix).toMatch(/Stop the bot \(pm2 stop subscription-bot\) and restore the newest backup: npm run restore -- .*bot-20260314-101500\.db\./);
  });

  it('reports an outbox backlog by how long the oldest action has waited, and recent failures', () => {
    const db = openDatabase(join(dir.path, 'bot.db'));
    const now = 1_800_000_000_000;
    const job = db.prepare(
      "INSERT INTO outbox (kind, payload, chat_id, state, run_after, last_error, created_at, updated_at) VALUES (?, '{}', ?, ?, ?, ?, ?, ?)",
    );
    expect(statuses(checkOutbox(db, now))).toEqual(['ok Outbox: no Telegram action waiting', 'ok Outbox: no Telegram action failed in the last 7 days']);

    job.run('message', 1, 'pending', now - 20_000, null, now - 20_000, now - 20_000);
    job.run('message', 1, 'pending', now + 3_600_000, null, now, now); // a reminder for later
    expect(statuses(checkOutbox(db, now))[0]).toBe('ok Outbox: 1 Telegram action waiting, the oldest for 20 s; 1 scheduled for later');

    job.run('grant_access', 2, 'pending', now - 12 * 60_000, '502: Bad Gateway', now - 12 * 60_000, now);
    const warn = checkOutbox(db, now)[0]!;
    expect(warn).toMatchObject({ status: 'warn', title: 'Outbox: 2 Telegram actions waiting, the oldest for 12 min; 1 scheduled for later' });
    expect(warn.details).toEqual([expect.stringMatching(/^#\d+ grant_access: 502: Bad Gateway$/)]);
    expect(warn.fix).toContain('pm2 logs subscription-bot');

    job.run('grant_access', 3, 'pending', now - 3 * 3_600_000, null, now - 3 * 3_600_000, now);
    expect(checkOutbox(db, now)[0]).toMatchObject({ status: 'fail', title: expect.stringContaining('the oldest for 3 h') });

    job.run('message', 5, 'attention', now, '403: Forbidden: bot was blocked by the user', now - 1000, now - 1000); // nobody can fix it
    job.run('grant_access', MAIN_CHAT, 'attention', now, '400: Bad Request: not enough rights to invite users', now - 1000, now - 1000);
    job.run('grant_access', MAIN_CHAT, 'attention', now, '400: old', now - 30 * 86_400_000, now - 30 * 86_400_000); // a month ago
    const attention = checkOutbox(db, now)[1]!;
    expect(attention).toMatchObject({ status: 'warn', title: 'Outbox: 1 Telegram action failed for good in the last 7 days' });
    expect(attention.details).toEqual([expect.stringMatching(/^#\d+ grant_access \(chat -1001000000001\): 400: Bad Request: not enough rights to invite users$/)]);

    // An admin who never pressed Start gets no alerts at all: said on its own line.
    job.run('message', 900, 'attention', now, '400: Bad Request: chat not found', now - 500, now - 500);
    const withAdmin = checkOutbox(db, now, { admins: [900], botUsername: 'test_academy_bot' });
    expect(withAdmin[1]).toEqual({
      status: 'warn',
      title: 'Admin 900 gets no messages from the bot (400: Bad Request: chat not found)',
      fix: '900 must open @test_academy_bot in Telegram and press Start (or unblock it). If the id is wrong, fix settings.admins in the catalog: the bot answers /whoami with anyone’s id.',
    });
    expect(withAdmin[2]!.title).toBe('Outbox: 1 Telegram action failed for good in the last 7 days');
    db.close();
  });
});

describe('doctor checks of Node.js and the settings', () => {
  it('confirms that Asia/Almaty is UTC+05:00, and fails on the older time-zone data of Node.js before 20.12', () => {
    expect(checkTimezoneData()).toEqual({ status: 'ok', title: 'Time-zone data: Asia/Almaty is UTC+05:00' });
    expect(checkTimezoneData(() => '+06:00')).toEqual({
      status: 'fail',
      title: "This Node.js has old time-zone data: Asia/Almaty is UTC+06:00, not UTC+05:00 (Kazakhstan's clock since 1 March 2024)",
      fix: 'Update Node.js to 20.12 or newer (README, step 1), then run npm ci and pm2 reload subscription-bot.',
    });
  });

  it('holds AIPAY_WEBHOOK_SECRET to the rule readSettings applies, without showing it', () => {
    const short = checkAipaySecrets({ aipayApiKey: 'k', aipayWebhookSecret: 'x' })[1]!;
    expect(short).toEqual({
      status: 'fail',
      title: 'AIPAY_WEBHOOK_SECRET cannot be right',
      fix: 'AIPAY_WEBHOOK_SECRET is too short (1 character; at least 16): paste the whole webhook secret from your AiPay dashboard into .env.',
    });
    const spaced = checkAipaySecrets({ aipayApiKey: 'k', aipayWebhookSecret: `${WEBHOOK_SECRET} ` })[1]!;
    expect(spaced.status).toBe('fail');
    expect(spaced.fix).toContain('contains a space or a line break');
    expect(checkAipaySecrets({ aipayApiKey: 'k', aipayWebhookSecret: WEBHOOK_SECRET })[1]).toEqual({ status: 'ok', title: 'AIPAY_WEBHOOK_SECRET is set' });
  });
});

describe('doctor checks over HTTP', () => {
  const answer =
    (status: number, body: string): FetchLike =>
    async () => ({ status, text: async () => body });

  it('tells a stopped bot from an unreachable PUBLIC_URL', async () => {
    const port = await freePort();
    const local = await checkBotRunning((url, init) => fetch(url, init), port);
    expect(local).toEqual({
      running: false,
      result: {
        status: 'warn',
        title: `The bot is not running on this server (connection refused on port ${port})`,
        fix: 'Start it: pm2 start ecosystem.config.cjs (or npm start to watch it in this terminal).',
      },
    });
    const stopped = await checkPublicUrl(refused, 'https://bot.example.kz', false, 3000);
    expect(stopped).toMatchObject({ status: 'fail', title: 'https://bot.example.kz/healthz cannot be reached (connection refused)', fix: expect.stringContaining('Start the bot first') });
    const proxy = await checkPublicUrl(answer(502, '<html>Bad Gateway</html>'), 'https://bot.example.kz', true, 3000);
    expect(proxy).toMatchObject({ status: 'fail', title: "https://bot.example.kz/healthz answers 502, not the bot's health check" });
    expect(proxy.fix).toContain('forwards https to 127.0.0.1:3000');
    const unhealthy = await checkPublicUrl(answer(503, '{"ok":false,"database":"ok","bot":"stopped"}'), 'https://bot.example.kz', true, 3000);
    expect(unhealthy.title).toBe('https://bot.example.kz/healthz reaches the bot, but it is not healthy (database ok, bot stopped)');
    expect((await checkPublicUrl(refused, undefined, true, 3000)).status).toBe('warn');
  });
});

describe('runDoctor on the running bot (webhook mode)', () => {
  let h: Harness;
  beforeEach(async () => {
    const port = await freePort();
    // Plain http to the app itself stands in for the https address behind a reverse proxy.
    h = await startHarness({ app: { port, publicUrl: `http://127.0.0.1:${port}` } });
  });
  afterEach(async () => {
    await stopSpawned();
    await h.stop();
  });
  const settings = (): Settings => ({
    ...readSettings({}),
    botToken: TOKEN,
    telegramApiRoot: h.tg.apiRoot,
    aipayApiKey: API_KEY,
    aipayWebhookSecret: WEBHOOK_SECRET,
    catalogPath: h.catalogPath,
    databasePath: h.databasePath,
    port: h.app.port,
    publicUrl: h.app.url,
  });
  const deps = (s: Settings) => ({ settings: s, telegram: (token: string) => new Api(token, { apiRoot: h.tg.apiRoot, timeoutSeconds: 5 }), fetch, now: () => Date.now() });

  it('passes when everything is right', async () => {
    // The continuous copy too: Litestream replicating to a folder, holding the database as it is.
    const replica = fileReplica(join(h.dir, 'replica'));
    const litestream = startLitestream(h.databasePath, replica);
    const target = await eventually(() => currentWalPosition(h.databasePath), 10_000, 'Litestream reading the -wal file');
    await eventually(() => covers(litestream.uploaded(), target), 10_000, 'the replica holding the database');
    const results = await runDoctor(deps({ ...settings(), replica }));
    expect(statuses(results)).toEqual([
      'ok Time-zone data: Asia/Almaty is UTC+05:00',
      'ok BOT_TOKEN works: the bot is @test_academy_bot',
      'ok AIPAY_API_KEY is set',
      'ok AIPAY_WEBHOOK_SECRET is set',
      'ok Catalog: catalog.yaml is valid: 3 plans, 1 product, 2 channels, 0 promo codes; languages ru, en.',
      `ok Channel "Канал" (main, ${MAIN_CHAT}): the bot is an administrator with every right it needs`,
      `ok Channel "Чат" (chat, ${CHAT_CHAT}): the bot is an administrator with every right it needs`,
      expect.stringMatching(/^ok Database .*bot\.db: intact, version \d+ \(up to date\)$/),
      expect.stringMatching(/^ok Outbox: (no Telegram action waiting|\d+ Telegram actions? waiting, the oldest for \d+ s)/),
      'ok Outbox: no Telegram action failed in the last 7 days',
      expect.stringMatching(/^ok Continuous copy to file:\/\/.*: (up to date with|\d+ s behind) the database’s last change; newest piece written \d+ s ago \(generation [0-9a-f]{16}, index \d+, offset \d+\)$/),
      `ok The bot is running: http://127.0.0.1:${h.app.port}/healthz answers OK`,
      `ok PUBLIC_URL works: ${h.app.url}/healthz answers OK`,
      `ok Telegram delivers updates to ${h.app.url}/webhook/telegram`,
    ]);
    expect(exitCode(results)).toBe(0);
  });

  it('fails on a lost right, and never shows a secret', async () => {
    h.tg.setBotMember(CHAT_CHAT, 'administrator', { can_restrict_members: false });
    const s = { ...settings(), aipayApiKey: undefined };
    const results = await runDoctor(deps(s));
    expect(results.filter((r) => r.status === 'fail').map((r) => r.title)).toEqual([
      'AIPAY_API_KEY is not set',
      `Channel "Чат" (chat, ${CHAT_CHAT}): the bot is an administrator without the right 'Ban users'`,
    ]);
    expect(exitCode(results)).toBe(1);
    const printed = results.map(formatCheck).join('\n');
    expect(printed).toContain("   → Open \"Чат\" in Telegram → Administrators → @test_academy_bot → turn on 'Ban users'.");
    for (const secret of [TOKEN, WEBHOOK_SECRET]) expect(printed).not.toContain(secret);
  });

  it('fails on old time-zone data even when everything else is right', async () => {
    const results = await runDoctor({ ...deps(settings()), offsetOf: () => '+06:00' });
    expect(statuses(results)[0]).toBe("fail This Node.js has old time-zone data: Asia/Almaty is UTC+06:00, not UTC+05:00 (Kazakhstan's clock since 1 March 2024)");
    expect(exitCode(results)).toBe(1);
  });

  it('skips the channels, saying why, when the token is wrong', async () => {
    const results = await runDoctor(deps({ ...settings(), botToken: WRONG_TOKEN }));
    expect(statuses(results).slice(0, 2)).toEqual(['ok Time-zone data: Asia/Almaty is UTC+05:00', 'fail Telegram says BOT_TOKEN is invalid']);
    expect(results.find((r) => r.title.startsWith('Channels'))).toMatchObject({ status: 'warn', title: 'Channels were not checked: that needs a working BOT_TOKEN' });
    expect(results.map(formatCheck).join('\n')).not.toContain(WRONG_TOKEN);
  });
});

const DOCTOR = join(projectRoot, 'dist', 'src', 'cli', 'doctor.js');
const noBuild = !existsSync(DOCTOR);
describe(`npm run doctor (the compiled command)${noBuild ? ' — SKIPPED: dist/src/cli/doctor.js is missing; run npm run build (npm test builds first)' : ''}`, () => {
  let tg: TelegramEmulator;
  let dir: { path: string; cleanup: () => void };
  beforeEach(async () => {
    tg = await startTelegramEmulator({ token: TOKEN, bot: { username: 'test_academy_bot' } });
    for (const id of [MAIN_CHAT, CHAT_CHAT]) {
      tg.addChat({ id, type: 'supergroup', title: 'C' });
      tg.setBotMember(id, 'administrator');
    }
    dir = tempDir();
    writeFileSync(join(dir.path, 'catalog.yaml'), TEST_CATALOG);
  });
  afterEach(async () => {
    await stopSpawned();
    await tg.close();
    dir.cleanup();
  });
  const run = async (env: Record<string, string>) => {
    const child = spawnForTest(process.execPath, [DOCTOR], { cwd: dir.path, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, out };
  };
  const env = async (extra: Record<string, string> = {}) => ({
    BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: tg.apiRoot,
    AIPAY_API_KEY: API_KEY,
    AIPAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CATALOG_PATH: join(dir.path, 'catalog.yaml'),
    DATABASE_PATH: join(dir.path, 'data', 'bot.db'),
    PORT: String(await freePort()),
    ...extra,
  });

  it.skipIf(noBuild)('exits 1 on a wrong token, with the line saying so', async () => {
    const { code, out } = await run(await env({ BOT_TOKEN: WRONG_TOKEN }));
    expect(code).toBe(1);
    expect(out).toContain('❌ Telegram says BOT_TOKEN is invalid\n   → Copy the token again from @BotFather');
    expect(out).toMatch(/1 problem \(❌\) to fix/);
    expect(out).not.toContain(WRONG_TOKEN);
    expect(out).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it.skipIf(noBuild)('exits 0 when nothing must be fixed (warnings only)', async () => {
    const { code, out } = await run(await env());
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toContain('✅ BOT_TOKEN works: the bot is @test_academy_bot');
    expect(out).toContain(`✅ Channel "Канал" (main, ${MAIN_CHAT}): the bot is an administrator with every right it needs`);
    expect(out).toContain('⚠️  No database yet at');
    expect(out).not.toContain('❌');
    for (const secret of [TOKEN, API_KEY, WEBHOOK_SECRET]) expect(out).not.toContain(secret);
  });

  it.skipIf(noBuild)('explains a malformed setting in one sentence', async () => {
    const { code, out } = await run(await env({ PORT: 'eighty' }));
    expect(code).toBe(1);
    expect(out.trim()).toBe('❌ The settings have a mistake\n   → PORT must be a number from 1 to 65535, like 3000 (it is "eighty"). Fix it in .env.');
  });
});

/** A Telegram client that is never reached in these tests. */
const unreachable = {
  getMe: () => Promise.reject(new Error('not reached')),
  getChatMember: () => Promise.reject(new Error('not reached')),
  getWebhookInfo: () => Promise.reject(new Error('not reached')),
};
/** fetch to a port where nothing listens. */
const refused: FetchLike = () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
