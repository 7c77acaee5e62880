import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api } from 'grammy';
import type { Update } from 'grammy/types';
import { projectRoot } from '../../src/project-root.js';
import { startTelegramEmulator, type TelegramEmulator } from '../../src/sandbox/telegram/emulator.js';
import type { Prompter } from '../../src/setup/prompter.js';
import { runSetup, type SetupDeps, type SetupPm2 } from '../../src/setup/setup-wizard.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = '123456789:TEST-token_abcdefghijklmnopqrstuvwxyz';
const WRONG = '987654321:WRONG-token_abcdefghijklmnopqrstuvwxyz';
const SECRET = 'aipay-webhook-secret-0123456789';
const CHANNEL = -1001000000777;

type Answer = unknown | (() => unknown | Promise<unknown>);

/** Answers questions by id, in order; an unscripted question takes its default, like Enter. */
function scripted(answers: Record<string, Answer[]>): Prompter & { said: string[]; asked: string[] } {
  const said: string[] = [];
  const asked: string[] = [];
  const next = async (id: string, fallback: unknown, validate?: (v: string) => string | undefined) => {
    asked.push(id);
    const queue = answers[id];
    const a = queue && queue.length > 0 ? queue.shift() : fallback;
    const value = typeof a === 'function' ? await (a as () => unknown)() : a;
    if (validate && typeof value === 'string') {
      const problem = validate(value);
      if (problem) {
        said.push(`refused: ${problem}`);
        return next(id, fallback, validate);
      }
    }
    return value;
  };
  return {
    said,
    asked,
    say: (text) => void said.push(text),
    text: async (q) => (await next(q.id, q.initial ?? '', q.validate)) as string,
    password: async (q) => (await next(q.id, '', (v) => (v ? q.validate?.(v) : undefined))) as string,
    confirm: async (q) => (await next(q.id, q.initial)) as boolean,
    select: async (q) => (await next(q.id, q.initial ?? q.options[0]!.value)) as never,
  };
}

function fakePm2(running: boolean): SetupPm2 & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    botRunning: async () => running,
    stopBot: async () => void log.push('stop'),
    startBot: async () => void log.push('start'),
    startupLine: async () => 'sudo env PATH=$PATH:/usr/bin pm2 startup systemd -u bot --hp /home/bot',
  };
}

describe('npm run setup, driven with scripted answers against the Telegram emulator', () => {
  let tg: TelegramEmulator;
  let dir: { path: string; cleanup: () => void };
  let stored: Update[];
  const deps = (prompt: Prompter, pm2?: SetupPm2): SetupDeps => ({
    prompt,
    dir: dir.path,
    env: { TELEGRAM_API_ROOT: tg.apiRoot },
    pm2,
    storeUpdates: (_path, updates) => void stored.push(...updates),
    publicIp: async () => '203.0.113.5',
    doctor: async () => ['✅ doctor ran'],
    pollSeconds: 1,
  });

  beforeEach(async () => {
    tg = await startTelegramEmulator({ token: TOKEN, bot: { username: 'python_academy_bot', first_name: 'Python Academy' } });
    dir = tempDir();
    stored = [];
    copyFileSync(join(projectRoot, 'catalog.example.yaml'), join(dir.path, 'catalog.example.yaml'));
    copyFileSync(join(projectRoot, '.env.example'), join(dir.path, '.env.example'));
  });
  afterEach(async () => {
    await tg.close();
    dir.cleanup();
  });

  it('checks the token, captures the admin and a channel (missing rights first), writes .env and catalog.yaml, and a re-run with defaults changes nothing', async () => {
    const me = tg.addUser({ id: 5550001, first_name: 'Aigerim', username: 'aigerim' });
    const stranger = tg.addUser({ id: 5550002, first_name: 'Customer' });
    tg.addChat({ id: CHANNEL, type: 'channel', title: 'Python Academy VIP' });
    await stranger.sendText('hello, is the course open?'); // not the wizard's: kept for the bot
    await me.sendText('/start');
    tg.setBotMember(CHANNEL, 'administrator', { can_invite_users: false });
    await new Api(TOKEN, { apiRoot: tg.apiRoot }).setWebhook('http://127.0.0.1:9/webhook/telegram');
    const pm2 = fakePm2(true);
    const prompt = scripted({
      language: ['en'],
      token: ['not a token', WRONG, TOKEN],
      aipayKey: ['aipay-key-123'],
      aipaySecret: ['short', SECRET],
      adminIsYou: [false, true], // the customer wrote first
      channelRights: [
        () => {
          tg.setBotMember(CHANNEL, 'administrator', { can_invite_users: true });
          return 'wait';
        },
      ],
      channelWhich: ['main'],
      planTitle: ['Python for a month'],
      planPrice: ['4 900 тг', '5900'],
      planPeriod: ['1m'],
    });
    const started = performance.now();
    const outcome = await runSetup(deps(prompt, pm2));
    const ms = performance.now() - started;
    console.log(`scripted wizard, first run: ${ms.toFixed(0)} ms`);

    const said = prompt.said.join('\n');
    expect(said).toContain('BOT_TOKEN does not look like a bot token');
    expect(said).toContain('Telegram says this token is invalid: it was not saved.');
    expect(said).toContain('AIPAY_WEBHOOK_SECRET is too short');
    expect(said).toContain('Saved in .env: the bot is @python_academy_bot.');
    expect(said).toContain('Telegram was sending this bot\'s updates to http://127.0.0.1:9/webhook/telegram');
    expect(said).toContain('The bot is running under pm2: it is stopped now');
    expect(said).toContain('The bot was added to "Python Academy VIP" (chat id -1001000000777).');
    expect(said).toContain('Missing rights: Invite users via link.');
    expect(said).toContain('It has every right it needs.');
    expect(said).toContain('catalog.yaml is valid');
    expect(said).toContain('https://203.0.113.5.sslip.io/webhook/aipay');
    expect(said).toContain('sudo env PATH=');
    expect(said).toContain('Now buy something yourself: https://t.me/python_academy_bot?start=monthly');
    expect(outcome.admins).toEqual([5550001]);

    const env = readFileSync(join(dir.path, '.env'), 'utf8');
    expect(env).toContain(`BOT_TOKEN=${TOKEN}\n`);
    expect(env).toContain('AIPAY_API_KEY=aipay-key-123\n');
    expect(env).toContain(`AIPAY_WEBHOOK_SECRET=${SECRET}\n`);
    expect(env).not.toContain(WRONG);
    expect(env).toContain('# '); // .env.example's comments stay
    expect(statSync(join(dir.path, '.env')).mode & 0o777).toBe(0o600);

    const catalog = readFileSync(join(dir.path, 'catalog.yaml'), 'utf8');
    expect(catalog).toContain('admins: [ 5550001 ]');
    expect(catalog).toContain('# your numeric Telegram id');
    expect(catalog).toContain(`chat_id: ${CHANNEL}`);
    expect(catalog).toContain('price: 5900 # whole tenge, no spaces');
    expect(catalog).toContain('# yaml-language-server: $schema=./schemas/catalog.schema.json');
    expect(catalog).toContain('en: "Python for a month"');
    expect(readFileSync(join(dir.path, 'Caddyfile'), 'utf8')).toContain('203.0.113.5.sslip.io {\n    @bot path /webhook/aipay /webhook/telegram /healthz');

    // The customer's message is kept for the bot; the wizard's own /start and the channel are not.
    expect(stored.map((u) => u.message?.text ?? (u.my_chat_member ? 'my_chat_member' : '?'))).toEqual(['hello, is the course open?', 'my_chat_member']);
    expect(prompt.asked.filter((id) => id === 'adminIsYou')).toHaveLength(2);
    expect(pm2.log).toEqual(['stop', 'start', 'start']);
    expect(tg.pendingUpdates()).toEqual([]);

    // Run again, pressing Enter everywhere: nothing changes.
    const files = ['.env', 'catalog.yaml', 'Caddyfile'].map((f) => readFileSync(join(dir.path, f), 'utf8'));
    const again = scripted({});
    const started2 = performance.now();
    await runSetup(deps(again));
    console.log(`scripted wizard, re-run with defaults: ${(performance.now() - started2).toFixed(0)} ms`);
    expect(['.env', 'catalog.yaml', 'Caddyfile'].map((f) => readFileSync(join(dir.path, f), 'utf8'))).toEqual(files);
    expect(again.said.join('\n')).toContain('Бот в .env — @python_academy_bot.');
    expect(again.said.join('\n')).toContain('pm2 не установлен');
    expect(again.asked).not.toContain('token');
  });

  it('says in Russian when the token in .env no longer works, and asks for a new one', async () => {
    writeFileSync(join(dir.path, '.env'), `# my settings\nBOT_TOKEN=${WRONG}\nPORT=3000\n`);
    const prompt = scripted({ token: [TOKEN], addAdmin: [false], addChannel: [false] });
    await runSetup(deps(prompt));
    const said = prompt.said.join('\n');
    expect(said).toContain('Токен в .env больше не работает.');
    expect(said).toContain('Telegram говорит, что этот токен неверный');
    expect(readFileSync(join(dir.path, '.env'), 'utf8')).toBe(`# my settings\nBOT_TOKEN=${TOKEN}\nPORT=3000\n`);
  });
});
