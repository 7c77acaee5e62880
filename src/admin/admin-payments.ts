import { Composer } from 'grammy';
import { decodeCallback } from '../bot/callback-data.js';
import type { BotContext } from '../bot/context.js';
import { escapeHtml } from '../bot/html.js';
import { confirmManually } from '../payments/manual-confirmation.js';

/** Confirm / Reject buttons on "customer says they paid" alerts; admins only. */
export function adminPayments(): Composer<BotContext> {
  const bot = new Composer<BotContext>();
  bot.on('callback_query:data', async (ctx, next) => {
    const cb = decodeCallback(ctx.callbackQuery.data);
    if (cb?.type !== 'admin_confirm' && cb?.type !== 'admin_reject') return next();
    if (!ctx.catalog.settings.admins.includes(ctx.from.id)) return next(); // looks like any stale button
    const { db, orders, outbox, clock, log } = ctx.deps;
    const outcome = confirmManually({ db, orders, outbox, catalog: ctx.catalog }, cb.orderId, ctx.from.id, cb.type === 'admin_confirm' ? 'confirm' : 'reject', clock.now());
    log.info({ orderId: cb.orderId, admin: ctx.from.id, outcome }, 'manual payment decision');
    const words = {
      confirmed: '✅ Confirmed: access granted.',
      already_paid: 'ℹ️ Already paid: nothing to do.',
      rejected: '❌ Rejected: nothing granted.',
      unknown_order: 'Unknown order.',
    }[outcome];
    await ctx.answerCallbackQuery({ text: words });
    const original = ctx.callbackQuery.message && 'text' in ctx.callbackQuery.message ? (ctx.callbackQuery.message.text ?? '') : '';
    await ctx.editMessageText(escapeHtml(`${original}\n\n${words} (${ctx.from.first_name})`), { parse_mode: 'HTML' }).catch(() => undefined);
  });
  return bot;
}
