import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { projectRoot } from '../src/project-root.js';
import { startAipayFake, type AipayFake } from '../src/sandbox/aipay-fake.js';
import { callsBeforeRetryAfter } from '../src/sandbox/telegram/early-calls.js';
import { startTelegramEmulator, type ScriptedUser, type TelegramEmulator } from '../src/sandbox/telegram/emulator.js';
import { fmt, summarize, tempFolder } from './support.js';

const TOKEN = '123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz';
const SECRET = 'bench-webhook-secret-0123456789';
const CHAT = -1001000000001;
const ADMIN = 1;
/** Telegram's overall limit, which the emulator enforces and the bot paces itself to. */
const PER_SECOND = 30;
const CROWD = 1500;
const CROWD_WITHIN_MS = 5000;
const BUYERS = 200;
const STEADY_SECONDS = 60;
const KILL_CROWD = 600;
const KILL_AFTER = 200;

const CATALOG = `settings:
  bot_name: Bench
  languages: [en]
  admins: [${ADMIN}]
  notify_admins_on_payment: false
channels:
  main: { chat_id: ${CHAT}, title: Main }
plans:
  monthly: { title: Monthly, price: 4900, period: 1m, channels: [main] }
`;

const ERRORS = ['Something went wrong on our side', "I couldn't create the invoice"];
const isMenu = (text: string) => text.startsWith('Hi, ');
const isError = (text: string) => ERRORS.some((e) => text.startsWith(e));

/** The bot as pm2 runs it (`node --max-semi-space-size=1 dist/src/main.js`), its output kept for a failure's explanation. */
interface BotProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
  /** Peak resident memory so far (VmHWM), MB. */
  peakRssMb(): number;
  /** Resident memory now (VmRSS), MB; NaN once it exited. */
  rssMb(): number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
    s.on('error', reject);
  });
}

async function startBot(env: Record<string, string>, cwd: string): Promise<BotProcess> {
  const child = spawn(process.execPath, ['--max-semi-space-size=1', join(projectRoot, 'dist', 'src', 'main.js')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const on = (c: Buffer) => {
      out += c.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
      if (out.includes('is running')) resolve();
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    void exited.then(() => reject(new Error(`the bot exited before it was ready:\n${out}`)));
  });
  return {
    child,
    output: () => out,
    exited,
    peakRssMb: () => procStatusMb(child.pid!, 'VmHWM'),
    rssMb: () => procStatusMb(child.pid!, 'VmRSS'),
  };
}

function procStatusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** What the bot sent to private chats (sends and edits Telegram accepted), by chat, read from the emulator's call log as it grows. */
class Sent {
  #cursor = 0;
  readonly #byChat = new Map<number, Array<{ at: number; text: string }>>();
  constructor(private readonly tg: TelegramEmulator) {}

  #update(): void {
    const calls = this.tg.calls;
    for (; this.#cursor < calls.length; this.#cursor++) {
      const c = calls[this.#cursor]!;
      if ((c.method !== 'sendMessage' && c.method !== 'editMessageText') || c.status !== 200) continue;
      const chat = c.params.chat_id;
      if (typeof chat !== 'number' || chat < 0) continue;
      let list = this.#byChat.get(chat);
      if (!list) this.#byChat.set(chat, (list = []));
      list.push({ at: c.at, text: String(c.params.text ?? '') });
    }
  }

  /** Sends to `chat` whose text matches `pred`, at or after `since`. */
  to(chat: number, pred: (text: string) => boolean, since = 0): number[] {
    this.#update();
    return (this.#byChat.get(chat) ?? []).filter((m) => m.at >= since && pred(m.text)).map((m) => m.at);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done()`; false after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Waits until the bot has sent nothing for `quietMs` (what was coming came). */
async function quiet(tg: TelegramEmulator, quietMs = 2000): Promise<void> {
  await until(() => {
    for (let i = tg.calls.length - 1; i >= 0; i--) if (tg.calls[i]!.method !== 'getUpdates') return Date.now() - tg.calls[i]!.at > quietMs;
    return true;
  }, 120_000);
}

/** Runs `act(i)` for i in [0, n), spread evenly over `withinMs` (open loop: whatever the bot does). Returns when each was started. */
async function spread(n: number, withinMs: number, act: (i: number) => Promise<void>): Promise<number[]> {
  const at: number[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; ) {
    const due = Math.min(n, Math.floor(((Date.now() - t0) * n) / withinMs) + 1);
    for (; i < due; i++) {
      at.push(Date.now());
      await act(i);
    }
    if (i < n) await sleep(5);
  }
  return at;
}

function addUsers(tg: TelegramEmulator, n: number, firstId: number): ScriptedUser[] {
  return Array.from({ length: n }, (_, i) => {
    const id = firstId + i;
    return tg.addUser({ id, first_name: `U${id}`, language_code: 'en', phone_number: `+7701${String(id).padStart(7, '0').slice(-7)}` });
  });
}

const ms = (n: number) => `${fmt(n / 1000, 1)} s`;

/**
 * Launch day against the emulator enforcing Telegram's limits (30 messages a second overall, one a
 * second per private chat after a burst of 3, 429 with retry_after and no scope), the bot running
 * as its own compiled process: a crowd of /start, a crowd buying at once, a steady stream, and a
 * kill -9 in the middle of a crowd.
 */
export async function crowdBench(): Promise<string[]> {
  const dir = tempFolder();
  const lines: string[] = [];
  let emulator: TelegramEmulator | undefined;
  let fake: AipayFake | undefined;
  let bot: BotProcess | undefined;
  try {
    const tg = (emulator = await startTelegramEmulator({ token: TOKEN, enforceRateLimits: true }));
    tg.addChat({ id: CHAT, type: 'supergroup', title: 'Main' });
    tg.setBotMember(CHAT, 'administrator');
    tg.addUser({ id: ADMIN, first_name: 'Admin', language_code: 'en' });
    await tg.user(ADMIN).sendText('/help');
    const aipay = (fake = await startAipayFake({ apiKey: 'k', webhookSecret: SECRET }));
    writeFileSync(join(dir.path, 'catalog.yaml'), CATALOG);
    const databasePath = join(dir.path, 'bot.db');
    const port = await freePort();
    const metricsToken = 'bench-metrics-token-0123456789abcdef';
    const env = {
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      AIPAY_API_KEY: 'k',
      AIPAY_WEBHOOK_SECRET: SECRET,
      AIPAY_BASE_URL: aipay.baseUrl,
      CATALOG_PATH: join(dir.path, 'catalog.yaml'),
      DATABASE_PATH: databasePath,
      PORT: String(port),
      METRICS_TOKEN: metricsToken,
      LOG_LEVEL: 'warn',
    };
    bot = await startBot(env, dir.path);
    const sent = new Sent(tg);
    const metric = async (name: string): Promise<string> => {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } }).catch(() => undefined);
      const text = r ? await r.text() : '';
      return text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .map((l) => l.slice(name.length))
        .join(', ');
    };
    await quiet(tg, 1000);
    // Resident memory of the bot, highest per phase (sampled every 250 ms), to see what drives the peak.
    const phases: Array<[string, number]> = [['idle after start', bot.rssMb()]];
    const sampler = setInterval(() => {
      const rss = bot?.rssMb() ?? NaN;
      const current = phases.at(-1)!;
      if (!Number.isNaN(rss) && !(rss <= current[1])) current[1] = rss;
    }, 250);
    const phase = (name: string) => phases.push([name, bot?.rssMb() ?? NaN]);

    // 1. 1 500 people send /start within 5 s.
    {
      const users = addUsers(tg, CROWD, 100_000);
      phase('crowd');
      const calls0 = tg.calls.length;
      const startedAt = await spread(CROWD, CROWD_WITHIN_MS, (i) => users[i]!.sendText('/start'));
      const t0 = startedAt[0]!;
      const answered = () => users.filter((u) => sent.to(u.id, isMenu).length > 0).length;
      await until(() => answered() === CROWD, 150_000);
      await quiet(tg);
      const firstMenu = users.map((u) => sent.to(u.id, isMenu)[0]);
      const got = firstMenu.filter((at) => at !== undefined).length;
      const twice = users.filter((u) => sent.to(u.id, isMenu).length > 1).length;
      const errors = users.filter((u) => sent.to(u.id, isError).length > 0).length;
      const last = Math.max(...firstMenu.map((at) => at ?? Infinity)) - t0;
      const ideal = (CROWD / PER_SECOND) * 1000;
      const waits = summarize(firstMenu.map((at, i) => (at === undefined ? NaN : at - startedAt[i]!)).filter((w) => !Number.isNaN(w)));
      const calls = tg.calls.slice(calls0);
      const tooMany = calls.filter((c) => c.status === 429).length;
      const early = callsBeforeRetryAfter(calls).length;
      const limits = await metric('subscription_bot_telegram_429_total');
      lines.push(
        `| crowd: ${CROWD} × /start within ${CROWD_WITHIN_MS / 1000} s, emulator at Telegram's limits | ${got}/${CROWD} got the menu, ${twice} twice, ${errors} errors | |`,
        `| crowd: the last menu | ${ms(last)} after the first /start | ${fmt(last / ideal, 2)} × the ideal ${ms(ideal)} (${CROWD}/${PER_SECOND}/s; target ≤ 1.1) |`,
        `| crowd: wait for the menu | p50 ${ms(waits.p50)}, p99 ${ms(waits.p99)}, max ${ms(waits.max)} | |`,
        `| crowd: 429s / calls to a chat before its retry_after ran out | ${tooMany} (pace took them for ${limits || '?'}) / ${early} (target 0) | |`,
      );
    }

    // 2. 200 of them open the plan, then press Buy and share their number at once.
    {
      const buyers = Array.from({ length: BUYERS }, (_, i) => tg.user(100_000 + i));
      const step = async (what: string, act: (u: ScriptedUser) => Promise<void>, pred: (text: string) => boolean): Promise<{ at: number[]; acted: number[]; since: number }> => {
        const since = Date.now();
        const at: number[] = [];
        for (const u of buyers) {
          at.push(Date.now());
          await act(u);
        }
        const reached = () => buyers.filter((u) => sent.to(u.id, pred, since).length > 0).length;
        if (!(await until(() => reached() === BUYERS, 120_000))) throw new Error(`${what}: only ${reached()} of ${BUYERS} within 120 s\n${bot!.output().slice(-3000)}`);
        return { at: buyers.map((u, i) => sent.to(u.id, pred, since)[0]! - at[i]!), acted: at, since };
      };
      phase('buy');
      const invoicesBefore = aipay.invoices.length;
      const oneMomentBefore = tg.callbackAnswers.filter((a) => a.text?.startsWith('One moment')).length;
      const since = Date.now();
      await step('the card', (u) => u.sendText('/start monthly'), (t) => t.includes('Monthly'));
      const pressed = await step('the phone prompt', (u) => u.pressButton(/^Buy for/), (t) => t.startsWith('Which Kaspi number'));
      // How long each Buy button kept spinning: press → answerCallbackQuery (the scripted user's query ids start with its id).
      const spinning = summarize(
        buyers.map((u, i) => {
          const answer = tg.callbackAnswers.find((a) => a.at >= pressed.since && a.callback_query_id.startsWith(String(u.id)) && a.callback_query_id.length === String(u.id).length + 6);
          return answer ? answer.at - pressed.acted[i]! : NaN;
        }),
      );
      const invoiced = await step('the invoice', (u) => u.shareContact(), (t) => t.startsWith('Invoice for'));
      await quiet(tg);
      const invoices = aipay.invoices.length - invoicesBefore;
      const messages = buyers.reduce((n, u) => n + sent.to(u.id, (t) => t.startsWith('Invoice for'), since).length, 0);
      const errors = buyers.reduce((n, u) => n + sent.to(u.id, isError, since).length, 0);
      const oneMoment = tg.callbackAnswers.filter((a) => a.text?.startsWith('One moment')).length - oneMomentBefore;
      const waits = summarize(invoiced.at);
      lines.push(
        `| buy: ${BUYERS} press Buy, then share their number, at once | ${invoices} invoices at AiPay, ${messages} invoice messages, ${errors} error messages (target ${BUYERS}, ${BUYERS}, 0); ${oneMoment} Buy presses answered "one moment" | |`,
        `| buy: number shared → invoice message | p50 ${ms(waits.p50)}, p99 ${ms(waits.p99)} | |`,
        `| buy: Buy pressed → button answered (spinner stops) | p50 ${ms(spinning.p50)}, p99 ${ms(spinning.p99)} (a wait over 3 s should get "one moment" at once) | |`,
      );
    }

    // 3. A steady 30 /start a second for a minute.
    {
      const n = PER_SECOND * STEADY_SECONDS;
      const users = addUsers(tg, n, 200_000);
      phase('steady');
      const calls0 = tg.calls.length;
      const startedAt = await spread(n, STEADY_SECONDS * 1000, (i) => users[i]!.sendText('/start'));
      await until(() => users.every((u) => sent.to(u.id, isMenu).length > 0), 120_000);
      await quiet(tg);
      const firstMenu = users.map((u) => sent.to(u.id, isMenu)[0]);
      const got = firstMenu.filter((at) => at !== undefined).length;
      const waits = summarize(firstMenu.map((at, i) => (at === undefined ? NaN : at - startedAt[i]!)).filter((w) => !Number.isNaN(w)));
      const lastAfter = Math.max(...firstMenu.map((at) => at ?? Infinity)) - startedAt.at(-1)!;
      const calls = tg.calls.slice(calls0);
      lines.push(
        `| steady: ${PER_SECOND} /start a second for ${STEADY_SECONDS} s | ${got}/${n} got the menu (target all), wait p50 ${ms(waits.p50)}, p99 ${ms(waits.p99)}, max ${ms(waits.max)}; last menu ${ms(lastAfter)} after the last /start; ${calls.filter((c) => c.status === 429).length} 429s, ${callsBeforeRetryAfter(calls).length} early calls | |`,
      );
    }

    // 4. kill -9 in the middle of a crowd, then a restart.
    {
      const users = addUsers(tg, KILL_CROWD, 300_000);
      phase('crowd until kill -9');
      const calls0 = tg.calls.length;
      await spread(KILL_CROWD, 2000, (i) => users[i]!.sendText('/start'));
      const answered = () => users.filter((u) => sent.to(u.id, isMenu).length > 0).length;
      await until(() => answered() >= KILL_AFTER, 60_000);
      const peakBefore = bot.peakRssMb();
      bot.child.kill('SIGKILL');
      const killedAt = Date.now();
      await bot.exited;
      const atKill = answered();
      const stored = new Database(databasePath, { readonly: true });
      const backlog = stored.prepare("SELECT count(*) FROM inbox WHERE state = 'pending'").pluck().get() as number;
      stored.close();
      bot = await startBot(env, dir.path);
      phase('restarted');
      const restartedIn = Date.now() - killedAt;
      await until(() => answered() === KILL_CROWD, 120_000);
      await quiet(tg);
      const counts = users.map((u) => sent.to(u.id, isMenu));
      const twice = counts.filter((c) => c.length > 1);
      const inFlight = twice.filter((c) => killedAt - c[0]! < 250).length;
      const calls = tg.calls.slice(calls0);
      lines.push(
        `| kill -9 after ${atKill} of ${KILL_CROWD} menus (${backlog} updates stored, waiting), restart (${ms(restartedIn)}) | ${answered()}/${KILL_CROWD} answered, ${counts.filter((c) => c.length === 1).length} exactly once, ${twice.length} twice (${inFlight} of them sent < 250 ms before the kill); ${tg.pendingUpdates().length} updates left at Telegram; ${callsBeforeRetryAfter(calls).length} early calls | |`,
        `| bot process peak RSS (VmHWM), scenarios 1–3 and half of 4 | ${fmt(peakBefore, 0)} MB (target < 150 MB) | |`,
      );
    }
    clearInterval(sampler);
    lines.push(`| bot process resident memory, highest per phase | ${phases.map(([name, mb]) => `${name} ${fmt(mb, 0)} MB`).join(', ')} | |`);
    const peakAfter = bot.peakRssMb();
    bot.child.kill('SIGTERM');
    await bot.exited;
    lines.push(`| restarted bot process peak RSS (VmHWM) | ${fmt(peakAfter, 0)} MB | |`);
    return lines;
  } finally {
    if (bot && bot.child.exitCode === null && bot.child.signalCode === null) {
      bot.child.kill('SIGKILL');
      await bot.exited;
    }
    await fake?.close();
    await emulator?.close();
    dir.cleanup();
  }
}
