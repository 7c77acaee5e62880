import { randomBytes } from 'node:crypto';
import { Composer, InlineKeyboard, InputFile } from 'grammy';
import type { MessageEntity } from 'grammy/types';
import type { BotContext } from '../bot/context.js';
import { escapeHtml, MESSAGE_LIMIT } from '../bot/html.js';
import { formatDate, formatDateTime } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import type { Plan } from '../catalog/types.js';
import { awaiting, drafts } from './admin-state.js';
import { audit } from './audit.js';
import { broadcastRecipients, enqueueBroadcast, entitiesToHtml } from './broadcast.js';
import { exportAll } from './export.js';
import { forgetCustomer } from './forget.js';
import { grantSubscription, revokeSubscription } from './grant-revoke.js';
import { applyImport, checkImport } from './import.js';
import { customerCard, customerLabel, findCustomers } from './lookup.js';
import { collectStats, formatStats } from './stats.js';
import { downloadTelegramFile, FileTooLarge } from './telegram-file.js';

/**
 * Callback data of the admin buttons: `adm:<code>[:<arg>]`, apart from the customers' `v1:`.
 * Plan ids fit: the catalog keeps them short enough for `v1:rt:1:<id>`, one byte longer.
 */
export type AdminCallback =
  | { type: 'broadcast_plan'; planId: string | null }
  | { type: 'broadcast_confirm'; id: string }
  | { type: 'broadcast_cancel'; id: string }
  | { type: 'forget_confirm'; userId: number }
  | { type: 'forget_cancel' }
  | { type: 'cancel' };

export function encodeAdminCallback(c: AdminCallback): string {
  switch (c.type) {
    case 'broadcast_plan':
      return `adm:bp:${c.planId ?? '*'}`;
    case 'broadcast_confirm':
      return `adm:bc:${c.id}`;
    case 'broadcast_cancel':
      return `adm:bx:${c.id}`;
    case 'forget_confirm':
      return `adm:fg:${c.userId}`;
    case 'forget_cancel':
      return 'adm:fx';
    case 'cancel':
      return 'adm:x';
  }
}

/** Undefined for anything that is not an admin button. */
export function decodeAdminCallback(data: string): AdminCallback | undefined {
  const match = /^adm:([a-z]+)(?::(.+))?$/.exec(data);
  if (!match) return undefined;
  const [, code, arg] = match;
  switch (code) {
    case 'bp':
      return arg ? { type: 'broadcast_plan', planId: arg === '*' ? null : arg } : undefined;
    case 'bc':
    case 'bx':
      return arg && /^[0-9a-f]{1,32}$/.test(arg) ? { type: code === 'bc' ? 'broadcast_confirm' : 'broadcast_cancel', id: arg } : undefined;
    case 'fg':
      return arg && /^\d{1,16}$/.test(arg) ? { type: 'forget_confirm', userId: Number(arg) } : undefined;
    case 'fx':
      return { type: 'forget_cancel' };
    case 'x':
      return { type: 'cancel' };
    default:
      return undefined;
  }
}

/** Separates a broadcast preview's head from the message itself. */
const PREVIEW_RULE = '──────────';

/** Largest CSV file /import reads. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

const HTML = { parse_mode: 'HTML' as const, link_preview_options: { is_disabled: true } };

const HELP = [
  '<b>Admin commands</b>',
  '/stats — subscribers, revenue, MRR, problems',
  '/find &lt;id | @username | phone&gt; — a customer',
  '/grant &lt;user&gt; &lt;plan&gt; [days] — give or extend a subscription for free',
  '/revoke &lt;user&gt; &lt;plan&gt; — end a subscription now and remove from its channels',
  '/export — customers, subscriptions and payments as CSV',
  '/import — adopt existing members from a CSV',
  '/broadcast — message active subscribers',
  '/forget &lt;user&gt; — delete a customer\'s personal data',
  '/cancel — stop an /import or /broadcast in progress',
].join('\n');

function isAdmin(ctx: BotContext): boolean {
  return ctx.from !== undefined && ctx.catalog.settings.admins.includes(ctx.from.id);
}

const planTitle = (ctx: BotContext, plan: Plan) => localize(plan.title, 'en', ctx.catalog.settings.defaultLanguage);
const planList = (ctx: BotContext) => [...ctx.catalog.plans.keys()].join(', ') || 'none';

/** Cuts an HTML report made of escaped lines so it fits one message. */
function fitLines(lines: string[]): string {
  const out: string[] = [];
  let length = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (length + line.length + 1 > MESSAGE_LIMIT - 40) {
      out.push(`… and ${lines.length - i} more lines`);
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join('\n');
}

type Resolved = { ok: true; userId: number } | { ok: false; html: string };

/** The one customer an admin means by `query`, or why there is not exactly one. */
function resolveOne(ctx: BotContext, query: string): Resolved {
  const { db } = ctx.deps;
  const found = findCustomers(db, query);
  if (found.by === 'invalid') return { ok: false, html: escapeHtml(`"${query}" is not a user id, a @username or a phone number.`) };
  if (found.userIds.length === 0) {
    return { ok: false, html: escapeHtml(`No customer matches "${query}". The bot knows people who wrote to it (or were imported).`) };
  }
  if (found.userIds.length > 1) {
    const list = found.userIds.slice(0, 10).map((id) => `• ${id} — ${customerLabel(db, id)}`);
    return { ok: false, html: escapeHtml([`"${query}" matches ${found.userIds.length} customers; use the id:`, ...list].join('\n')) };
  }
  return { ok: true, userId: found.userIds[0]! };
}

/** `<user…> <plan> [days]`: the plan is the last word, or the one before a trailing number of days. */
function parseUserPlanDays(ctx: BotContext, args: string, allowDays: boolean): { user: string; plan: Plan; days?: number } | { error: string } {
  const words = args.trim().split(/\s+/).filter(Boolean);
  let days: number | undefined;
  if (allowDays && words.length >= 3 && /^\d+$/.test(words.at(-1)!) && ctx.catalog.plans.has(words.at(-2)!)) days = Number(words.pop());
  const planId = words.pop();
  if (!planId || words.length === 0) return { error: 'usage' };
  const plan = ctx.catalog.plans.get(planId);
  if (!plan) return { error: `Unknown plan "${planId}". Plans: ${planList(ctx)}.` };
  if (days !== undefined && (days < 1 || days > 3660)) return { error: 'Days must be between 1 and 3660.' };
  return { user: words.join(' '), plan, days };
}

/**
 * The admin commands: /stats, /find, /grant, /revoke, /export, /import, /broadcast, /forget
 * (and /admin, /cancel). Only the catalog's admins reach them, in a private chat; for anyone else
 * every one of them passes through untouched, so the customer gets the bot's usual answer (the
 * menu) and nothing hints they exist. They are not in the command menu. Every action is audited.
 */
export function adminCommands(): Composer<BotContext> {
  const bot = new Composer<BotContext>();
  const admin = bot.chatType('private').filter(isAdmin);

  admin.command('cancel', async (ctx) => {
    const { db, clock } = ctx.deps;
    const open = awaiting.get(db, ctx.from.id, clock.now());
    awaiting.clear(db, ctx.from.id);
    await ctx.reply(open ? 'Cancelled.' : 'Nothing is waiting for an answer now.', HTML);
  });

  // Any other command closes an open prompt too (the command may open a new one).
  admin.on('message:text', async (ctx, next) => {
    if (ctx.message.text.startsWith('/')) awaiting.clear(ctx.deps.db, ctx.from.id);
    await next();
  });

  admin.command('admin', (ctx) => ctx.reply(HELP, HTML));

  admin.command('stats', async (ctx) => {
    const { db, clock } = ctx.deps;
    const now = clock.now();
    const stats = collectStats(db, ctx.catalog, now);
    audit(db, ctx.from.id, 'stats', {}, now);
    await ctx.reply(formatStats(stats, ctx.catalog), HTML);
  });

  admin.command('find', async (ctx) => {
    const { db, clock } = ctx.deps;
    const query = ctx.match.trim();
    if (!query) return ctx.reply(escapeHtml('Usage: /find <user id | @username | phone>'), HTML);
    const found = findCustomers(db, query);
    audit(db, ctx.from.id, 'find', { by: found.by, matches: found.userIds.slice(0, 20) }, clock.now());
    if (found.by === 'invalid') return ctx.reply(escapeHtml(`"${query}" is not a user id, a @username or a phone number.`), HTML);
    if (found.userIds.length === 0) return ctx.reply(escapeHtml(`No customer matches "${query}".`), HTML);
    if (found.userIds.length > 5) await ctx.reply(escapeHtml(`${found.userIds.length} customers match; the first 5:`), HTML);
    for (const userId of found.userIds.slice(0, 5)) await ctx.reply(customerCard(db, ctx.catalog, userId), HTML);
  });

  admin.command('grant', async (ctx) => {
    const parsed = parseUserPlanDays(ctx, ctx.match, true);
    if ('error' in parsed) {
      return ctx.reply(escapeHtml(parsed.error === 'usage' ? `Usage: /grant <user id | @username | phone> <plan> [days]. Plans: ${planList(ctx)}.` : parsed.error), HTML);
    }
    const who = resolveOne(ctx, parsed.user);
    if (!who.ok) return ctx.reply(who.html, HTML);
    const { db, outbox, clock } = ctx.deps;
    const tz = ctx.catalog.settings.timezone;
    const g = grantSubscription({ db, outbox, catalog: ctx.catalog }, { adminId: ctx.from.id, userId: who.userId, plan: parsed.plan, days: parsed.days, now: clock.now() });
    const how = g.extended ? `extended from ${formatDateTime(g.from, 'en', tz)}` : 'new subscription';
    await ctx.reply(
      escapeHtml(
        `✅ ${planTitle(ctx, parsed.plan)} for ${customerLabel(db, who.userId)}, id ${who.userId}: active until ${formatDateTime(g.to, 'en', tz)} (${how}). ` +
          'They are told, with a link to each channel.',
      ),
      HTML,
    );
  });

  admin.command('revoke', async (ctx) => {
    const parsed = parseUserPlanDays(ctx, ctx.match, false);
    if ('error' in parsed) {
      return ctx.reply(escapeHtml(parsed.error === 'usage' ? `Usage: /revoke <user id | @username | phone> <plan>. Plans: ${planList(ctx)}.` : parsed.error), HTML);
    }
    const who = resolveOne(ctx, parsed.user);
    if (!who.ok) return ctx.reply(who.html, HTML);
    const { db, outbox, clock } = ctx.deps;
    const r = revokeSubscription({ db, outbox, catalog: ctx.catalog }, { adminId: ctx.from.id, userId: who.userId, planId: parsed.plan.id, now: clock.now() });
    const label = `${customerLabel(db, who.userId)}, id ${who.userId}`;
    if (!r) return ctx.reply(escapeHtml(`${label} has no active ${planTitle(ctx, parsed.plan)} subscription.`), HTML);
    const removal =
      r.removedFrom.length > 0 ? `Removing them from ${r.removedFrom.length} channel(s).` : 'Their other subscriptions or purchases still cover its channels, so they stay in.';
    await ctx.reply(escapeHtml(`⛔ ${planTitle(ctx, parsed.plan)} of ${label} ended now. ${removal} They are told.`), HTML);
  });

  admin.command('export', async (ctx) => {
    const { db, clock } = ctx.deps;
    const files = exportAll(db, ctx.catalog);
    audit(db, ctx.from.id, 'export', Object.fromEntries(files.map((f) => [f.filename, f.rows])), clock.now());
    for (const f of files) {
      await ctx.replyWithDocument(new InputFile(Buffer.from(f.csv, 'utf8'), f.filename), { caption: `${f.filename}: ${f.rows} rows` });
    }
  });

  admin.command('import', async (ctx) => {
    const { db, clock } = ctx.deps;
    const inline = ctx.match.trim();
    if (inline.includes('\n')) return runImport(ctx, inline);
    awaiting.set(db, ctx.from.id, { kind: 'import' }, clock.now());
    await ctx.reply(
      escapeHtml(
        [
          'Send the members who already paid elsewhere as a CSV file, or paste it as a message:',
          'a header row telegram_id,plan,end_date then one member per row, e.g.',
          '',
          'telegram_id,plan,end_date',
          '123456789,monthly,2026-12-31',
          '',
          `Dates are YYYY-MM-DD (access lasts until 23:59 that day); , or ; separate the columns. Plans: ${planList(ctx)}.`,
          'Nobody is messaged. Sending the same file twice changes nothing. /cancel to stop.',
        ].join('\n'),
      ),
      { ...HTML, reply_markup: new InlineKeyboard().text('Cancel', encodeAdminCallback({ type: 'cancel' })) },
    );
  });

  admin.command('broadcast', async (ctx) => {
    const { db } = ctx.deps;
    const keyboard = new InlineKeyboard();
    for (const plan of ctx.catalog.plans.values()) {
      keyboard.text(`${planTitle(ctx, plan)} · ${broadcastRecipients(db, plan.id).length}`, encodeAdminCallback({ type: 'broadcast_plan', planId: plan.id })).row();
    }
    keyboard.text(`All active subscribers · ${broadcastRecipients(db, null).length}`, encodeAdminCallback({ type: 'broadcast_plan', planId: null })).row();
    keyboard.text('Cancel', encodeAdminCallback({ type: 'cancel' }));
    await ctx.reply(escapeHtml('Who should get the message? (active subscribers who have not blocked the bot)'), { ...HTML, reply_markup: keyboard });
  });

  admin.command('forget', async (ctx) => {
    const query = ctx.match.trim();
    if (!query) return ctx.reply(escapeHtml('Usage: /forget <user id | @username | phone>'), HTML);
    const who = resolveOne(ctx, query);
    if (!who.ok) return ctx.reply(who.html, HTML);
    await ctx.reply(
      escapeHtml(
        `Forget ${customerLabel(ctx.deps.db, who.userId)}, id ${who.userId}? Their name, username and phone are deleted for good. ` +
          'Payments and subscriptions stay, anonymous.',
      ),
      {
        ...HTML,
        reply_markup: new InlineKeyboard()
          .text('Forget', encodeAdminCallback({ type: 'forget_confirm', userId: who.userId }))
          .text('Cancel', encodeAdminCallback({ type: 'forget_cancel' })),
      },
    );
  });

  // The answer to a prompt: a CSV for /import, the text of a /broadcast.
  admin.on('message', async (ctx, next) => {
    const { db, clock } = ctx.deps;
    const state = awaiting.get(db, ctx.from.id, clock.now());
    if (!state) return next();
    const text = ctx.message.text;
    if (text?.startsWith('/')) return next();
    if (state.kind === 'import') {
      const document = ctx.message.document;
      if (document) {
        let bytes: Buffer;
        try {
          bytes = await downloadTelegramFile(ctx.api, document.file_id, MAX_IMPORT_BYTES);
        } catch (error) {
          const why = error instanceof FileTooLarge ? `it is too large (at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB)` : `it could not be downloaded (${(error as Error).message})`;
          return ctx.reply(escapeHtml(`I could not read that file: ${why}. Send it again, or /cancel.`), HTML);
        }
        return runImport(ctx, bytes.toString('utf8'));
      }
      if (text !== undefined) return runImport(ctx, text);
      return ctx.reply(escapeHtml('Send the CSV as a file or as text, or /cancel.'), HTML);
    }
    if (text === undefined) return ctx.reply(escapeHtml('A broadcast is text only: send the message text, or /cancel.'), HTML);
    const html = entitiesToHtml(text, ctx.message.entities as MessageEntity[] | undefined);
    const id = randomBytes(6).toString('hex');
    drafts.set(db, id, { plan: state.plan, html, by: ctx.from.id }, clock.now());
    awaiting.clear(db, ctx.from.id);
    const count = broadcastRecipients(db, state.plan).length;
    const head = escapeHtml(`Preview — this goes to ${count} ${audience(ctx, state.plan)}:`);
    const keyboard = new InlineKeyboard()
      .text(`Send to ${count}`, encodeAdminCallback({ type: 'broadcast_confirm', id }))
      .text('Cancel', encodeAdminCallback({ type: 'broadcast_cancel', id }));
    // One message when it fits (the head, a line, then the message exactly as it will look).
    if (head.length + PREVIEW_RULE.length + text.length + 4 <= MESSAGE_LIMIT) return ctx.reply(`${head}\n${PREVIEW_RULE}\n${html}`, { ...HTML, reply_markup: keyboard });
    await ctx.reply(head, HTML);
    await ctx.reply(html, { ...HTML, reply_markup: keyboard });
  });

  bot.on('callback_query:data', async (ctx, next) => {
    const cb = decodeAdminCallback(ctx.callbackQuery.data);
    // Anyone else gets what any unknown button gets.
    if (!cb || !isAdmin(ctx) || ctx.chat?.type !== 'private') return next();
    const { db, clock, outbox } = ctx.deps;
    const now = clock.now();
    const removeButtons = () => ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
    switch (cb.type) {
      case 'cancel':
        awaiting.clear(db, ctx.from.id);
        await ctx.answerCallbackQuery({ text: 'Cancelled.' });
        await removeButtons();
        return;
      case 'broadcast_plan': {
        if (cb.planId !== null && !ctx.catalog.plans.has(cb.planId)) {
          await ctx.answerCallbackQuery({ text: 'That plan is no longer in the catalog.' });
          return;
        }
        awaiting.set(db, ctx.from.id, { kind: 'broadcast_text', plan: cb.planId }, now);
        await ctx.answerCallbackQuery();
        await ctx.editMessageText(
          escapeHtml(`Broadcast to ${broadcastRecipients(db, cb.planId).length} ${audience(ctx, cb.planId)}. Now send the message text (formatting is kept), or /cancel.`),
          HTML,
        ).catch(() => undefined);
        return;
      }
      case 'broadcast_confirm': {
        const draft = drafts.get(db, cb.id, now);
        if (!draft) {
          await ctx.answerCallbackQuery({ text: 'This broadcast was already sent, cancelled or has expired.' });
          await removeButtons();
          return;
        }
        const queued = enqueueBroadcast({ db, outbox }, { id: cb.id, planId: draft.plan, html: draft.html, adminId: ctx.from.id, now });
        drafts.clear(db, cb.id);
        const done = `📣 Queued for ${queued} ${audience(ctx, draft.plan)}: it goes out within Telegram's limits.`;
        await ctx.answerCallbackQuery({ text: done });
        // One edit, no new message: the preview becomes the record of what was sent.
        const preview = ctx.callbackQuery.message?.text ?? '';
        if (preview.includes(PREVIEW_RULE)) await ctx.editMessageText(`${escapeHtml(done)}\n${PREVIEW_RULE}\n${draft.html}`, HTML).catch(() => removeButtons());
        else await removeButtons();
        return;
      }
      case 'broadcast_cancel':
        drafts.clear(db, cb.id);
        audit(db, ctx.from.id, 'broadcast_cancelled', { broadcastId: cb.id }, now);
        await ctx.answerCallbackQuery({ text: 'Cancelled: nothing was sent.' });
        await ctx.editMessageText('Broadcast cancelled: nothing was sent.', HTML).catch(() => removeButtons());
        return;
      case 'forget_confirm': {
        const exists = db.prepare('SELECT 1 FROM customers WHERE user_id = ?').get(cb.userId);
        await ctx.answerCallbackQuery();
        if (!exists) return ctx.editMessageText(escapeHtml(`No customer ${cb.userId}.`), HTML).catch(() => undefined);
        const f = forgetCustomer(db, { adminId: ctx.from.id, userId: cb.userId, now });
        // The question named them: it goes too.
        await ctx
          .editMessageText(escapeHtml(`🗑 Customer ${cb.userId} forgotten: name, username and ${f.phones} phone number(s) deleted; payment records kept, anonymous.`), HTML)
          .catch(() => ctx.reply(escapeHtml(`🗑 Customer ${cb.userId} forgotten.`), HTML));
        return;
      }
      case 'forget_cancel':
        await ctx.answerCallbackQuery({ text: 'Cancelled.' });
        await ctx.editMessageText('Nothing was deleted.', HTML).catch(() => undefined);
        return;
    }
  });

  return bot;
}

function audience(ctx: BotContext, planId: string | null): string {
  const plan = planId === null ? undefined : ctx.catalog.plans.get(planId);
  return plan ? `active subscribers of ${planTitle(ctx, plan)}` : 'active subscribers';
}

/** Checks and adopts an import file, then reports every problem with its row number. */
async function runImport(ctx: BotContext, csv: string): Promise<void> {
  const { db, clock } = ctx.deps;
  const now = clock.now();
  const adminId = ctx.from!.id;
  awaiting.clear(db, adminId);
  const check = checkImport(csv, ctx.catalog, now);
  const out = applyImport(db, check.rows, adminId, now, check.problems.length);
  const tz = ctx.catalog.settings.timezone;
  const lines = [`📥 Import: ${check.total} row(s) read.`];
  if (check.rows.length > 0) {
    lines.push(
      `✅ ${check.rows.length} imported: ${out.created} new subscription(s), ${out.extended} extended, ${out.unchanged} already up to date; ${out.newCustomers} new customer(s).`,
    );
    const last = check.rows.reduce((a, r) => Math.max(a, r.endsAt), 0);
    lines.push(`Latest end: ${formatDate(last, 'en', tz)}.`);
  }
  if (check.problems.length > 0) {
    lines.push('', `⚠️ ${check.problems.length} row(s) with problems, not imported:`);
    for (const p of check.problems) lines.push(`row ${p.row}: ${p.message}`);
    lines.push('', 'Fix them and send the file again with /import: rows already imported are not doubled.');
  }
  await ctx.reply(fitLines(lines.map(escapeHtml)), HTML);
}
