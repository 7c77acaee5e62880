import { Composer } from 'grammy';
import { formatDateTime } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import { findItem, paymentMethodsOf } from '../catalog/types.js';
import { createStarsOrder, recordStarPayment } from '../payments/stars.js';
import { unavailable } from './browse.js';
import { decodeCallback } from './callback-data.js';
import type { BotContext } from './context.js';
import { escapeHtml } from './html.js';

/**
 * Telegram Stars: the "Telegram Stars" button (an order in Stars, then sendInvoice with the
 * order's external id as payload), successful_payment (through the inbox, like every update:
 * recorded and fulfilled exactly once) and /paysupport. pre_checkout_query is answered on
 * arrival, in app.ts, not here: the inbox may be behind a crowd and Telegram waits only 10 s.
 */
export function starsFeature(): Composer<BotContext> {
  const bot = new Composer<BotContext>();
  const privateChats = bot.chatType('private');

  bot.on('callback_query:data', async (ctx, next) => {
    const cb = decodeCallback(ctx.callbackQuery.data);
    if (cb?.type !== 'buy_stars') return next();
    const item = findItem(ctx.catalog, cb.id);
    if (!item || item.stars === undefined || !paymentMethodsOf(ctx.catalog, item).includes('stars')) return unavailable(ctx);
    const userId = ctx.from.id;
    const title = localize(item.title, ctx.lang, ctx.catalog.settings.defaultLanguage);
    if (item.kind === 'plan' && !item.buyAgainExtends) {
      const active = ctx.deps.access.activeSubscription(userId, item.id);
      if (active) {
        return ctx.answerCallbackQuery({
          text: ctx.t('already_active', { plan: title, ends_at: formatDateTime(active.endsAt, ctx.lang, ctx.catalog.settings.timezone) }),
          show_alert: true,
        });
      }
    }
    await ctx.answerCallbackQuery();
    await ctx.conversation.exitAll();
    const { db, orders, clock } = ctx.deps;
    const order = createStarsOrder({ db, orders }, { userId, item: { ...item, stars: item.stars }, language: ctx.lang }, clock.now());
    const description = ctx.t('stars_invoice_description', { item: title }).slice(0, 255);
    await ctx.replyWithInvoice(title.slice(0, 32), description, order.externalId, 'XTR', [{ label: title.slice(0, 32), amount: order.amount }]);
    orders.move(order, 'invoiced', clock.now(), { invoiced_at: clock.now() });
  });

  bot.on('pre_checkout_query', () => {
    // Answered when it was stored (app.ts): handling it again from the inbox does nothing.
  });

  bot.on('message:successful_payment', (ctx) => {
    const p = ctx.message.successful_payment;
    const { db, orders, outbox, clock, log } = ctx.deps;
    const outcome = recordStarPayment(
      { db, orders, outbox, catalog: ctx.catalog },
      { userId: ctx.from.id, chargeId: p.telegram_payment_charge_id, currency: p.currency, totalAmount: p.total_amount, payload: p.invoice_payload },
      clock.now(),
    );
    log.info({ chargeId: p.telegram_payment_charge_id, payload: p.invoice_payload, amount: p.total_amount, outcome }, 'Stars payment recorded');
  });

  privateChats.command('paysupport', (ctx) => {
    const contact = ctx.catalog.settings.support;
    return ctx.reply(escapeHtml(contact ? ctx.t('paysupport', { contact }) : `${ctx.t('support_missing')}\n\n${ctx.t('paysupport', { contact: '—' })}`), { parse_mode: 'HTML' });
  });
  return bot;
}
