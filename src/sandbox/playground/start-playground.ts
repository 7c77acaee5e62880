import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { basename, join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { startApp, StartupError, type RunningApp } from '../../app.js';
import { loadCatalog } from '../../catalog/load-catalog.js';
import { formatProblem, type CatalogProblem } from '../../catalog/problem.js';
import { localize } from '../../catalog/texts.js';
import type { Catalog } from '../../catalog/types.js';
import { OffsetClock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { projectRoot } from '../../project-root.js';
import { JUMPS, jumpTargets, type JumpTarget, type JumpTo } from './jump-targets.js';
import { startAipayFake, type AipayFake, type FakeInvoice } from '../aipay-fake.js';
import { startTelegramEmulator, type BotMessage, type TelegramEmulator } from '../telegram/emulator.js';

/*
 * The local playground: the real app (startApp) against the Telegram emulator and the AiPay
 * sandbox, with a browser page to act as customers, pay invoices and move the clock. Everything
 * listens on 127.0.0.1 and the secrets are random for each run.
 */

export interface PlaygroundOptions {
  catalogPath: string;
  /**
   * The playground's own database, e.g. data/playground.db. It is emptied at each start (the
   * emulated Telegram world and the clock are new each time too), so its file name must contain
   * "playground": a production database is never touched.
   */
  databasePath: string;
  /** Port of the page; 0 = any free port. */
  port: number;
  host?: string;
  log: Logger;
  /**
   * The instant the playground's clock starts at (ms since the epoch), from where it runs with real
   * time (default: the real time). Tests pin it so what they see does not depend on today's date.
   */
  startAt?: number;
}

export interface RunningPlayground {
  /** The page, e.g. http://127.0.0.1:3100/ */
  url: string;
  stop(): Promise<void>;
  /** For tests: the pieces inside. */
  app: RunningApp;
  tg: TelegramEmulator;
  aipay: AipayFake;
  clock: OffsetClock;
}

/** The clock advances in steps of at most this, running every job after each step (reminders go out at their local time). */
const CLOCK_STEP_MS = 60 * 60 * 1000;
const MAX_JUMP_MS = 400 * 24 * CLOCK_STEP_MS;
/**
 * How far past a reminder, an end or a removal the clock stops, so the jobs see it due: only just,
 * like the minute cron at hh:mm:00 (a reminder at 10:00 for a subscription ending at 10:00:05 goes
 * out only before the end).
 */
const PAST_TARGET_MS = 1;
const JOBS = ['stale-invoices', 'paid-checks', 'reminders', 'expiry'] as const;

interface PlayUser {
  id: number;
  label: string;
  phone: string;
  creator: boolean;
}

/** What a simulated user did, shown in their chat after the bot message it followed. */
interface UserAction {
  seq: number;
  /** The newest bot message id in the chat when the user acted. */
  afterId: number;
  at: number;
  text: string;
}

interface CatalogStatus {
  ok: boolean;
  summary?: string;
  /** When ok, its warnings; else its errors and warnings (`severity` tells them apart). */
  problems: Array<CatalogProblem & { text: string }>;
  checkedAt: number;
}

const CUSTOMERS = [
  { first_name: 'Aigerim', language_code: 'kk' },
  { first_name: 'Dmitry', language_code: 'ru' },
  { first_name: 'Emma', language_code: 'en' },
] as const;

/** Starts the emulated world, the real app and the page. Throws StartupError when the catalog is invalid. */
export async function startPlayground(o: PlaygroundOptions): Promise<RunningPlayground> {
  const first = loadCatalog(o.catalogPath);
  if (!first.ok) {
    throw new StartupError(`The catalog has problems:\n${first.problems.map(formatProblem).join('\n')}`, first.problems);
  }
  const catalog = first.catalog;
  if (!basename(o.databasePath).includes('playground')) {
    throw new StartupError(`The playground empties its database at each start, so it only uses a file named like playground.db, not ${o.databasePath}.`);
  }
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(o.databasePath + suffix)) rmSync(o.databasePath + suffix);
  }
  const clock = new OffsetClock();
  if (o.startAt !== undefined) {
    if (!Number.isFinite(o.startAt)) throw new StartupError('The playground start must be a valid instant.');
    clock.offsetMs = o.startAt - clock.now();
  }
  /** Where the clock started relative to real time: the page shows how far it was moved from there. */
  const startOffsetMs = clock.offsetMs;
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        o.log.warn({ err: error }, 'playground: error while stopping');
      }
    }
  };

  try {
    const token = `${randomInt(100_000_000, 999_999_999)}:${randomBytes(24).toString('base64url')}`;
    const username = `${catalog.settings.botName.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 28) || 'my'}_bot`;
    const tg = await startTelegramEmulator({ token, clock, host: '127.0.0.1', bot: { username, first_name: catalog.settings.botName } });
    stops.push(() => tg.close());
    const knownChats = new Set<number>();
    const addChats = (c: Catalog) => {
      for (const channel of c.channels.values()) {
        if (knownChats.has(channel.chatId)) continue;
        knownChats.add(channel.chatId);
        tg.addChat({ id: channel.chatId, type: 'supergroup', title: localize(channel.title, c.settings.defaultLanguage, c.settings.defaultLanguage) || channel.id });
        tg.setBotMember(channel.chatId, 'administrator');
      }
    };
    addChats(catalog);

    const users: PlayUser[] = [];
    const creatorId = catalog.settings.admins[0];
    if (creatorId !== undefined) {
      tg.addUser({ id: creatorId, first_name: 'Creator', language_code: catalog.settings.defaultLanguage, phone_number: '+77010000000' });
      users.push({ id: creatorId, label: 'You (creator, admin)', phone: '+77010000000', creator: true });
    }
    let nextId = 7_000_001;
    CUSTOMERS.forEach((c, i) => {
      while (catalog.settings.admins.includes(nextId)) nextId++;
      const phone = `+7701${1_000_001 + i}`;
      tg.addUser({ id: nextId, first_name: c.first_name, language_code: c.language_code, phone_number: phone });
      users.push({ id: nextId, label: `${c.first_name} (${c.language_code})`, phone, creator: false });
      nextId++;
    });

    const apiKey = randomBytes(24).toString('hex');
    const webhookSecret = randomBytes(32).toString('hex');
    const aipay = await startAipayFake({ apiKey, webhookSecret, clock, host: '127.0.0.1' });
    stops.push(() => aipay.close());

    // The status line follows the app's own catalog reloads.
    const shown = (problems: CatalogProblem[]) => problems.map((p) => ({ ...p, text: formatProblem(p) }));
    let status: CatalogStatus = { ok: true, summary: first.summary, problems: shown(first.warnings), checkedAt: Date.now() };
    const app = await startApp({
      botToken: token,
      telegramApiRoot: tg.apiRoot,
      aipayApiKey: apiKey,
      aipayWebhookSecret: webhookSecret,
      aipayBaseUrl: aipay.baseUrl,
      catalogPath: o.catalogPath,
      databasePath: o.databasePath,
      port: 0,
      host: '127.0.0.1',
      clock,
      log: o.log,
      aipay: { timeoutMs: 5000, attempts: 2, backoffMs: 100 },
      outbox: { pollMs: 100 },
      initTimeoutMs: 5000,
      onCatalogChange: (change) => {
        if (change.ok) {
          status = { ok: true, summary: change.summary, problems: shown(change.warnings), checkedAt: Date.now() };
          addChats(change.catalog);
        } else {
          status = { ok: false, problems: shown(change.problems), checkedAt: Date.now() };
        }
      },
    });
    stops.push(() => app.stop());
    aipay.setWebhookUrl(`${app.url}/webhook/aipay`);
    // The creator has talked to the bot, so admin messages (e.g. a refused catalog edit) reach them.
    if (creatorId !== undefined) await tg.user(creatorId).sendText('/start');

    const actions = new Map<number, UserAction[]>();
    let seq = 0;
    const record = (userId: number, text: string) => {
      const messages = tg.user(userId).messages();
      const list = actions.get(userId) ?? [];
      list.push({ seq: ++seq, afterId: messages.at(-1)?.message_id ?? 0, at: clock.now(), text });
      actions.set(userId, list);
    };

    const userIds = users.map((u) => u.id);
    const targets = () => jumpTargets(app.db, app.catalog.current(), userIds, clock.now());
    const describeTarget = (t: JumpTarget | null) => t && { at: t.at, customer: users.find((u) => u.id === t.userId)?.label ?? `User ${t.userId}`, planId: t.planId };
    const NOTHING: Record<JumpTo, string> = {
      reminder: 'No reminder is coming: no simulated customer has an active subscription with a reminder still to send. Buy a plan first.',
      end: 'No subscription ends later: no simulated customer has an active subscription that is still running. Buy a plan first.',
      removal: 'Nobody is due for removal: no simulated customer has an active subscription. Buy a plan first.',
    };
    /** Milliseconds from now to just past the soonest target; HttpProblem 409 when there is none or it is too far. */
    const distanceTo = (to: JumpTo): number => {
      if (to === 'reminder' && app.catalog.current().settings.reminders.daysBeforeEnd.length === 0) {
        throw new HttpProblem(409, 'The catalog sends no reminders: settings.reminders.days_before_end is empty.');
      }
      const target = targets()[to];
      if (!target) throw new HttpProblem(409, NOTHING[to]);
      const ms = target.at + PAST_TARGET_MS - clock.now();
      if (ms > MAX_JUMP_MS) throw new HttpProblem(409, `That is more than 400 days away; move the clock with the +31 days button instead.`);
      return Math.max(ms, 1);
    };

    /** Milliseconds to just past the soonest reminder, end or removal still ahead (Infinity when none). */
    const nextEventIn = () => {
      const now = clock.now();
      const ahead = Object.values(targets()).flatMap((t) => (t && t.at > now ? [t.at + PAST_TARGET_MS - now] : []));
      return Math.min(Infinity, ...ahead);
    };

    // Clock jumps run one at a time, in steps, each step followed by every job and the outbox. A
    // step stops just past each reminder, end and removal on the way (one due for a few seconds
    // only is not skipped). A jump to a target measures its distance only when its turn comes.
    let clockQueue: Promise<unknown> = Promise.resolve();
    const advance = (ms: number | (() => number)) => {
      const run = clockQueue.then(async () => {
        let left = typeof ms === 'function' ? ms() : ms;
        while (left > 0) {
          const step = Math.min(CLOCK_STEP_MS, left, nextEventIn());
          clock.offsetMs += step;
          left -= step;
          for (const job of JOBS) await app.scheduler.runNow(job);
          await app.worker.drain();
        }
      });
      clockQueue = run.catch(() => undefined);
      return run;
    };

    const userOf = (req: Request): PlayUser => {
      const id = Number(req.params.id);
      const user = users.find((u) => u.id === id);
      if (!user) throw new HttpProblem(404, `no simulated user ${String(req.params.id)}`);
      return user;
    };
    const bodyString = (req: Request, field: string, max = 4096): string => {
      const value = (req.body as Record<string, unknown> | undefined)?.[field];
      if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new HttpProblem(400, `${field} must be a non-empty string`);
      return value;
    };
    const invoiceOf = (req: Request): FakeInvoice => {
      const invoice = aipay.invoices.find((i) => i.invoice_id === req.params.id);
      if (!invoice) throw new HttpProblem(404, 'no such invoice');
      if (invoice.status !== 'pending') throw new HttpProblem(409, `this invoice is already ${invoice.status}`);
      return invoice;
    };

    const web = express();
    web.disable('x-powered-by');
    const pageHost = o.host ?? '127.0.0.1';
    let allowedHosts = new Set<string>();
    // Only this machine's own page may drive the playground (no DNS rebinding, no cross-site forms).
    web.use((req, res, next) => {
      if (allowedHosts.size > 0 && !allowedHosts.has(req.headers.host ?? '')) {
        res.status(403).type('text/plain').send('The playground answers only on its own address.');
        return;
      }
      if (req.method === 'POST' && !req.is('application/json')) {
        res.status(415).json({ error: 'send JSON' });
        return;
      }
      next();
    });
    web.use(express.json({ limit: '16kb' }));
    web.use(express.static(join(projectRoot, 'src', 'sandbox', 'playground', 'public'), { index: 'index.html' }));

    web.get('/api/state', (_req, res) => {
      const current = app.catalog.current();
      const name = (id: number) => {
        const u = users.find((x) => x.id === id);
        if (u) return u.label;
        try {
          return tg.user(id).info.first_name;
        } catch {
          return `User ${id}`;
        }
      };
      const removals = tg.calls.filter((c) => c.method === 'banChatMember' && c.status === 200);
      res.json({
        bot: { username: tg.bot.username, name: current.settings.botName },
        users: users.map((u) => ({ id: u.id, label: u.label, phone: u.phone, creator: u.creator })),
        chats: [...current.channels.values()].map((ch) => ({
          key: ch.id,
          chatId: ch.chatId,
          title: localize(ch.title, current.settings.defaultLanguage, current.settings.defaultLanguage) || ch.id,
          members: knownChats.has(ch.chatId) ? tg.members(ch.chatId).map((id) => ({ id, name: name(id), status: tg.memberStatus(ch.chatId, id) })) : [],
          joinRequests: knownChats.has(ch.chatId)
            ? tg.joinRequests(ch.chatId).map((r) => ({ userId: r.user_id, name: name(r.user_id), status: r.status, date: r.date * 1000 }))
            : [],
          removals: removals
            .filter((c) => Number(c.params.chat_id) === ch.chatId)
            .map((c) => ({ userId: Number(c.params.user_id), name: name(Number(c.params.user_id)), at: c.at })),
        })),
        invoices: aipay.invoices.map((i) => ({
          id: i.invoice_id,
          amount: i.amount,
          description: i.description,
          phone: i.phone,
          status: i.status,
          createdAt: i.created_at,
          customer: users.find((u) => u.phone.replace(/\D/g, '') === i.phone)?.label ?? null,
        })),
        clock: {
          now: clock.now(),
          offsetMs: clock.offsetMs,
          movedMs: clock.offsetMs - startOffsetMs,
          pinnedStart: o.startAt ?? null,
          timezone: current.settings.timezone,
          jumps: Object.fromEntries(Object.entries(targets()).map(([k, t]) => [k, describeTarget(t)])),
        },
        catalog: { path: o.catalogPath, ...status, running: current.path },
      });
    });

    web.get('/api/users/:id/chat', (req, res) => {
      const user = userOf(req);
      const messages = tg.user(user.id).messages().map(publicMessage);
      res.json({ user, messages, actions: actions.get(user.id) ?? [] });
    });

    web.post('/api/users/:id/text', async (req, res) => {
      const user = userOf(req);
      const text = bodyString(req, 'text');
      record(user.id, text);
      await tg.user(user.id).sendText(text);
      res.json({ ok: true });
    });

    web.post('/api/users/:id/press', async (req, res) => {
      const user = userOf(req);
      const label = bodyString(req, 'label', 256);
      const messageId = Number((req.body as Record<string, unknown>).messageId);
      if (!Number.isSafeInteger(messageId)) throw new HttpProblem(400, 'messageId must be a number');
      await tg.user(user.id).pressButton(label, { messageId });
      record(user.id, `[${label}]`);
      res.json({ ok: true });
    });

    web.post('/api/users/:id/contact', async (req, res) => {
      const user = userOf(req);
      record(user.id, `📞 Shared contact ${user.phone}`);
      await tg.user(user.id).shareContact({ phone: user.phone });
      res.json({ ok: true });
    });

    web.post('/api/users/:id/invite', async (req, res) => {
      const user = userOf(req);
      const link = bodyString(req, 'link', 512);
      const result = await tg.user(user.id).openInviteLink(link);
      const explained = { joined: 'joined the chat', requested: 'asked to join (the bot decides)', refused: 'Telegram refused the link' }[result];
      record(user.id, `🔗 Opened ${link} → ${explained}`);
      res.json({ ok: true, result });
    });

    web.get('/api/files/:fileId', (req, res) => {
      const content = tg.fileContent(String(req.params.fileId));
      if (!content) throw new HttpProblem(404, 'no such file');
      res.type('application/octet-stream').send(content);
    });

    for (const action of ['pay', 'expire', 'fail'] as const) {
      web.post(`/api/invoices/:id/${action}`, async (req, res) => {
        const invoice = invoiceOf(req);
        const result = await aipay[action](invoice.invoice_id);
        await app.worker.drain(5000);
        res.json({ ok: result.status === 200, status: result.status, body: result.body });
      });
    }

    web.post('/api/clock', async (req, res) => {
      const hours = Number((req.body as Record<string, unknown>).hours);
      const ms = hours * CLOCK_STEP_MS;
      if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_JUMP_MS) throw new HttpProblem(400, 'hours must be a positive number up to 400 days');
      await advance(ms);
      res.json({ ok: true, now: clock.now(), offsetMs: clock.offsetMs });
    });

    web.post('/api/clock/jump', async (req, res) => {
      const to = (req.body as Record<string, unknown>).to;
      if (!JUMPS.includes(to as JumpTo)) throw new HttpProblem(400, `to must be one of ${JUMPS.join(', ')}`);
      await advance(() => distanceTo(to as JumpTo));
      res.json({ ok: true, now: clock.now(), offsetMs: clock.offsetMs });
    });

    web.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      // Our own problems carry their status; express's (bad JSON, too large) too; anything else is
      // an action the emulated world refused (e.g. a button that is not there): the user's mistake.
      const given = error instanceof HttpProblem ? error.status : Number((error as { status?: unknown })?.status);
      const status = Number.isInteger(given) && given >= 400 && given < 500 ? given : 400;
      res.status(status).json({ error: (error as Error)?.message ?? String(error) });
    });

    const server = await new Promise<Server>((resolve, reject) => {
      const s = web.listen(o.port, pageHost, () => resolve(s));
      s.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new StartupError(`Port ${o.port} is already in use: set PORT to a free one (in .env, or PORT=3001 npm start).`) : error),
      );
    });
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : o.port;
    const urlHost = pageHost === '0.0.0.0' || pageHost === '::' ? '127.0.0.1' : pageHost.includes(':') ? `[${pageHost}]` : pageHost;
    if (pageHost === '127.0.0.1' || pageHost === 'localhost' || pageHost === '::1') {
      allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    }
    const url = `http://${urlHost}:${port}/`;
    o.log.info({ url, bot: tg.bot.username }, 'playground started');
    return { url, stop: stopAll, app, tg, aipay, clock };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A bot message as the page needs it: text and entities, buttons, the reply keyboard, a document. */
function publicMessage(m: BotMessage) {
  const markup = m.reply_markup as Record<string, unknown> | undefined;
  const inline = markup && Array.isArray(markup.inline_keyboard) ? (markup.inline_keyboard as Array<Array<{ text: string; url?: string; callback_data?: string }>>) : undefined;
  const keyboard = markup && Array.isArray(markup.keyboard) ? (markup.keyboard as unknown[][]) : undefined;
  return {
    id: m.message_id,
    date: m.date * 1000,
    edited: m.edit_date !== undefined,
    text: m.text ?? m.caption ?? '',
    entities: m.text !== undefined ? (m.entities ?? []) : (m.caption_entities ?? []),
    buttons: inline?.map((row) => row.map((b) => ({ text: b.text, url: b.url, callback: b.callback_data !== undefined }))),
    keyboard: keyboard?.map((row) =>
      row.map((b) => (typeof b === 'string' ? { text: b, contact: false } : { text: String((b as { text?: unknown }).text ?? ''), contact: (b as { request_contact?: unknown }).request_contact === true })),
    ),
    removeKeyboard: markup?.remove_keyboard === true,
    document: m.document ? { fileId: m.document.file_id, name: m.document.file_name ?? 'file', size: m.document.file_size ?? 0 } : undefined,
  };
}
