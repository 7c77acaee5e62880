import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard, Keyboard } from 'grammy';
import { formatDate, formatDateTime, formatMoney, maskPhone } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import { findItem, type Item } from '../catalog/types.js';
import { checkPromo, type PromoCheck } from '../payments/promo.js';
import type { LimitViolation } from '../payments/abuse-limits.js';
import { normalizePhone } from '../payments/phone.js';
import type { Order } from '../payments/orders.js';
import { menuScreen, show, unavailable } from './browse.js';
import { decodeCallback, encodeCallback } from './callback-data.js';
import type { BotContext, InnerContext } from './context.js';
import { escapeHtml } from './html.js';

/** Conversation id; stored with each checkout in progress. */
export const CHECKOUT = 'checkout';
/** Bump when the conversation's steps change: stored checkouts of an older version are dropped. */
export const CHECKOUT_VERSION = 1;
/** A checkout waits this long for an answer before it gives up (Date-based, inside the plugin). */
export const CHECKOUT_TIMEOUT_MS = 15 * 60_000;

type CheckoutConversation = Conversation<BotContext, InnerContext>;

export interface CheckoutArgs {
  itemId: string;
  purpose?: 'purchase' | 'renewal';
  /** A promo code accepted on the card; checked again when the order is made. */
  promoCode?: string;
}

/** The precise reason a promo code was not accepted. */
export function promoText(ctx: InnerContext, check: Exclude<PromoCheck, { ok: true }>, item: Item): string {
  const title = localize(item.title, ctx.lang, ctx.catalog.settings.defaultLanguage);
  switch (check.reason) {
    case 'invalid':
      return ctx.t('promo_invalid', { code: check.code });
    case 'not_started':
      return ctx.t('promo_not_started', { code: check.code, date: formatDate(Date.parse(`${check.date}T12:00:00Z`), ctx.lang, 'UTC') });
    case 'expired':
      return ctx.t('promo_expired', { code: check.code });
    case 'not_applicable':
      return ctx.t('promo_not_applicable', { code: check.code, item: title });
    case 'used_up':
      return ctx.t('promo_used_up', { code: check.code });
  }
}

/** The words for a limit, with when to come back. */
export function limitText(ctx: InnerContext, v: LimitViolation): string {
  if (v.kind === 'open_invoices') return ctx.t('limit_open_invoices', { count: v.count });
  if (v.kind === 'phones') return ctx.t('limit_phones');
  return ctx.t('limit_attempts', { retry_at: formatDateTime(v.retryAt, ctx.lang, ctx.catalog.settings.timezone) });
}

/**
 * Buy → phone → Kaspi invoice. Every read of the database, the clock or AiPay goes through
 * `conversation.external`, because the plugin replays this function on each update.
 */
export async function checkoutConversation(conversation: CheckoutConversation, ctx: InnerContext, args: CheckoutArgs): Promise<void> {
  const start = await conversation.external((outer: BotContext) => {
    const item = findItem(outer.catalog, args.itemId);
    const customer = outer.deps.customers.get(outer.from!.id);
    const promo = item && args.promoCode !== undefined ? checkPromo(outer.deps.db, outer.catalog, args.promoCode, item.id, item.price, outer.deps.clock.now()) : undefined;
    return { exists: item !== undefined, savedPhone: customer?.phone ?? null, amount: promo?.ok ? promo.amount : (item?.price ?? 0) };
  });
  if (!start.exists) return;
  const item = findItem(ctx.catalog, args.itemId)!;
  const title = localize(item.title, ctx.lang, ctx.catalog.settings.defaultLanguage);
  const price = formatMoney(start.amount);
  const mode = ctx.catalog.settings.phoneInput;
  const html = { parse_mode: 'HTML' as const };
  const confirmKeyboard = () =>
    new InlineKeyboard()
      .text(ctx.t('button_confirm_phone'), encodeCallback({ type: 'checkout', action: 'yes' }))
      .row()
      .text(ctx.t('button_other_phone'), encodeCallback({ type: 'checkout', action: 'other' }))
      .text(ctx.t('button_cancel'), encodeCallback({ type: 'checkout', action: 'cancel' }));

  const askForPhone = async () => {
    const lines = [ctx.t('phone_prompt', { item: title, price })];
    if (mode !== 'contact') lines.push(ctx.t('phone_prompt_typed'));
    const keyboard = new Keyboard();
    if (mode !== 'typed') keyboard.requestContact(ctx.t('button_use_my_number')).row();
    keyboard.text(ctx.t('button_cancel')).resized().oneTime();
    await ctx.reply(escapeHtml(lines.join('\n')), { ...html, reply_markup: keyboard });
  };

  let phone: string | null = null;
  let source: 'contact' | 'typed' | 'saved' = 'saved';
  let pending: string | null = start.savedPhone;
  if (pending) {
    await ctx.reply(escapeHtml(`${ctx.t('phone_prompt', { item: title, price })}\n${ctx.t('phone_prompt_saved', { phone: maskPhone(pending) })}`), {
      ...html,
      reply_markup: confirmKeyboard(),
    });
  } else {
    await askForPhone();
  }

  const cancel = async (update: InnerContext) => {
    if (update.callbackQuery) await update.answerCallbackQuery();
    await update.reply(escapeHtml(ctx.t('checkout_cancelled')), { ...html, reply_markup: { remove_keyboard: true } });
  };

  while (phone === null) {
    const update = await conversation.wait({ maxMilliseconds: CHECKOUT_TIMEOUT_MS });
    const text = update.message?.text;
    const data = update.callbackQuery?.data;
    if (text?.startsWith('/')) return conversation.halt({ next: true });
    if (data !== undefined) {
      const cb = decodeCallback(data);
      if (cb?.type !== 'checkout') {
        // Another button (menu, a card, a second Buy): leave quietly and let it be handled.
        return conversation.halt({ next: true });
      }
      if (cb.action === 'cancel') return cancel(update);
      await update.answerCallbackQuery();
      if (cb.action === 'other') {
        pending = null;
        await askForPhone();
        continue;
      }
      if (pending) {
        phone = pending;
        await update.editMessageText(escapeHtml(`✅ ${maskPhone(pending)}`), html).catch(() => undefined);
      }
      continue;
    }
    if (text !== undefined && text.trim() === ctx.t('button_cancel')) return cancel(update);
    const contact = update.message?.contact;
    if (contact) {
      if (mode === 'typed') {
        await update.reply(escapeHtml(ctx.t('phone_prompt_typed')), html);
        continue;
      }
      if (contact.user_id !== update.from?.id || update.chat?.type !== 'private') {
        await update.reply(escapeHtml(ctx.t('phone_not_own')), html);
        continue;
      }
      const check = normalizePhone(contact.phone_number.replace(/^\+/, '+'));
      if (!check.ok) {
        await update.reply(escapeHtml(ctx.t(check.reason === 'russian' ? 'phone_russian' : 'phone_not_mobile')), html);
        continue;
      }
      phone = check.phone;
      source = 'contact';
      break;
    }
    if (text !== undefined) {
      if (mode === 'contact') {
        await update.reply(escapeHtml(ctx.t('phone_not_own')), html);
        continue;
      }
      const check = normalizePhone(text);
      if (!check.ok) {
        const key = check.reason === 'russian' ? 'phone_russian' : check.reason === 'not_mobile' ? 'phone_not_mobile' : 'phone_invalid';
        await update.reply(escapeHtml(ctx.t(key)), html);
        continue;
      }
      pending = check.phone;
      source = 'typed';
      await update.reply(escapeHtml(ctx.t('phone_confirm', { phone: maskPhone(check.phone) })), { ...html, reply_markup: confirmKeyboard() });
      continue;
    }
    await update.reply(escapeHtml(mode === 'contact' ? ctx.t('phone_not_own') : ctx.t('phone_prompt_typed')), html);
  }

  const chosen = phone;
  // The reply keyboard goes away with a short line, before the invoice is asked for.
  const removeKeyboard = { remove_keyboard: true as const };
  await ctx.reply(`📱 ${maskPhone(chosen)}`, { reply_markup: removeKeyboard });
  const result = await conversation.external(async (outer: BotContext) => {
    const { checkout, customers, clock } = outer.deps;
    // The invoice message goes through the outbox, in the transaction that records the invoice.
    const message = (order: Order) => {
      const keyboard = new InlineKeyboard()
        .text(outer.t('button_paid'), encodeCallback({ type: 'paid', orderId: order.id }))
        .row()
        .text(outer.t('button_cancel'), encodeCallback({ type: 'cancel_order', orderId: order.id }));
      const offerRenewal = item.kind === 'plan' && item.renewalInvoices && !customers.get(outer.from!.id)?.renewalInvoices;
      if (offerRenewal) keyboard.row().text(outer.t('button_renewal_on'), encodeCallback({ type: 'renewal_toggle', id: item.id, on: true }));
      const validUntil = clock.now() + outer.catalog.settings.invoiceLifetimeMs;
      return {
        text: escapeHtml(
          outer.t('invoice_sent', {
            price: formatMoney(order.amount),
            phone: maskPhone(chosen),
            valid_until: formatDateTime(validUntil, outer.lang, outer.catalog.settings.timezone),
          }),
        ),
        replyMarkup: { inline_keyboard: keyboard.inline_keyboard },
      };
    };
    const r = await checkout.invoice({ userId: outer.from!.id, item, phone: chosen, phoneSource: source, language: outer.lang, purpose: args.purpose, promoCode: args.promoCode, message });
    if (r.ok) customers.setPhone(outer.from!.id, chosen, clock.now());
    if (r.ok) return { ok: true as const, orderId: r.order.id, amount: r.order.amount };
    if (r.reason === 'limit') return { ok: false as const, kind: 'limit' as const, violation: r.violation };
    if (r.reason === 'promo') return { ok: false as const, kind: 'promo' as const, text: promoText(outer, r.check, item) };
    return { ok: false as const, kind: 'aipay' as const, failedOrderId: r.order.id };
  });

  if (!result.ok && result.kind === 'limit') {
    await ctx.reply(escapeHtml(limitText(ctx, result.violation)), { ...html, reply_markup: removeKeyboard });
    return;
  }
  if (!result.ok && result.kind === 'promo') {
    await ctx.reply(escapeHtml(result.text), { ...html, reply_markup: removeKeyboard });
    return;
  }
  if (!result.ok) {
    await ctx.reply(escapeHtml(ctx.t('invoice_failed')), {
      ...html,
      reply_markup: new InlineKeyboard().text(ctx.t('button_try_again'), encodeCallback({ type: 'buy', id: item.id })),
    });
    return;
  }
  // The invoice message is on its way through the outbox (see Checkout.invoice).
}

/** Conversation id of promo-code entry, which continues into the checkout. */
export const PROMO = 'promo';

/** "I have a promo code": read the code, explain a refusal precisely, grant a 100 % code at once, else check out at the new price. */
export async function promoConversation(conversation: CheckoutConversation, ctx: InnerContext, args: CheckoutArgs): Promise<void> {
  const html = { parse_mode: 'HTML' as const };
  await ctx.reply(escapeHtml(ctx.t('promo_prompt')), {
    ...html,
    reply_markup: new InlineKeyboard().text(ctx.t('button_cancel'), encodeCallback({ type: 'checkout', action: 'cancel' })),
  });
  const update = await conversation.wait({ maxMilliseconds: CHECKOUT_TIMEOUT_MS });
  const text = update.message?.text;
  if (update.callbackQuery) {
    const cb = decodeCallback(update.callbackQuery.data ?? '');
    if (cb?.type === 'checkout' && cb.action === 'cancel') {
      await update.answerCallbackQuery();
      await update.reply(escapeHtml(ctx.t('checkout_cancelled')), html);
      return;
    }
    return conversation.halt({ next: true });
  }
  if (text === undefined || text.startsWith('/')) return conversation.halt({ next: true });
  const outcome = await conversation.external((outer: BotContext) => {
    const item = findItem(outer.catalog, args.itemId);
    if (!item) return { kind: 'gone' as const };
    const check = checkPromo(outer.deps.db, outer.catalog, text, item.id, item.price, outer.deps.clock.now());
    if (!check.ok) return { kind: 'refused' as const, text: promoText(outer, check, item) };
    if (check.amount === 0) {
      const granted = outer.deps.checkout.grantFree({ userId: outer.from!.id, item, language: outer.lang, promoCode: check.promo.code });
      if (!granted.ok) return { kind: 'refused' as const, text: granted.reason === 'promo' ? promoText(outer, granted.check, item) : outer.t('error_generic') };
      return { kind: 'free' as const, code: check.promo.code, oldPrice: item.price };
    }
    return { kind: 'applied' as const, code: check.promo.code, oldPrice: item.price, price: check.amount };
  });
  if (outcome.kind === 'gone') return;
  if (outcome.kind === 'refused') {
    await ctx.reply(escapeHtml(outcome.text), html);
    return;
  }
  const price = outcome.kind === 'free' ? 0 : outcome.price;
  await ctx.reply(escapeHtml(ctx.t('promo_applied', { code: outcome.code, old_price: formatMoney(outcome.oldPrice), price: formatMoney(price) })), html);
  if (outcome.kind === 'free') return; // granted: the receipt and links come through the outbox
  await checkoutConversation(conversation, ctx, { ...args, promoCode: outcome.code });
}

/** Buy, Renew, Try again and Cancel-invoice buttons; the checkout conversation itself. */
export function checkoutFeature(): Composer<BotContext> {
  const bot = new Composer<BotContext>();
  bot.on('callback_query:data', async (ctx, next) => {
    const cb = decodeCallback(ctx.callbackQuery.data);
    if (!cb) return next();
    if (cb.type === 'buy' || cb.type === 'renew' || cb.type === 'promo') {
      const item = findItem(ctx.catalog, cb.id);
      if (!item) return unavailable(ctx);
      const userId = ctx.from.id;
      if (item.kind === 'plan' && !item.buyAgainExtends) {
        const active = ctx.deps.access.activeSubscription(userId, item.id);
        if (active) {
          const title = localize(item.title, ctx.lang, ctx.catalog.settings.defaultLanguage);
          return ctx.answerCallbackQuery({
            text: ctx.t('already_active', { plan: title, ends_at: formatDateTime(active.endsAt, ctx.lang, ctx.catalog.settings.timezone) }),
            show_alert: true,
          });
        }
      }
      if (cb.type === 'promo') {
        await ctx.answerCallbackQuery();
        await ctx.conversation.exitAll();
        await ctx.conversation.enter(PROMO, { itemId: item.id } satisfies CheckoutArgs);
        return;
      }
      const violation = ctx.deps.checkout.limitFor(userId);
      if (violation) return ctx.answerCallbackQuery({ text: limitText(ctx, violation), show_alert: true });
      await ctx.answerCallbackQuery();
      await ctx.conversation.exitAll();
      await ctx.conversation.enter(CHECKOUT, { itemId: item.id, purpose: cb.type === 'renew' ? 'renewal' : 'purchase' } satisfies CheckoutArgs);
      return;
    }
    if (cb.type === 'trial') {
      const item = findItem(ctx.catalog, cb.id);
      if (!item) return unavailable(ctx);
      const result = ctx.deps.checkout.grantFree({ userId: ctx.from.id, item, language: ctx.lang, trial: true });
      const title = localize(item.title, ctx.lang, ctx.catalog.settings.defaultLanguage);
      // A Try button on an older card, after the catalog took the trial away: not "already used".
      if (!result.ok && result.reason === 'not_free') return unavailable(ctx);
      if (!result.ok) return ctx.answerCallbackQuery({ text: ctx.t('trial_used', { plan: title }), show_alert: true });
      await ctx.answerCallbackQuery();
      return; // the trial's receipt and links come through the outbox, like a payment's
    }
    if (cb.type === 'cancel_order') {
      const order = ctx.deps.checkout.cancel(cb.orderId, ctx.from.id);
      await ctx.answerCallbackQuery();
      if (!order) return;
      if (order.state === 'cancelled') {
        await ctx.editMessageText(escapeHtml(ctx.t('invoice_cancelled')), { parse_mode: 'HTML' }).catch(() => undefined);
      }
      return;
    }
    if (cb.type === 'paid') {
      const { db, clock } = ctx.deps;
      const changed = db
        .prepare("UPDATE orders SET paid_check_at = ? WHERE id = ? AND user_id = ? AND paid_check_at IS NULL AND state != 'paid'")
        .run(clock.now(), cb.orderId, ctx.from.id).changes;
      const order = ctx.deps.orders.get(cb.orderId);
      await ctx.answerCallbackQuery();
      if (!order || order.userId !== ctx.from.id) return;
      if (order.state === 'paid') return; // the receipt is on its way or already here
      if (changed === 1) await ctx.reply(escapeHtml(ctx.t('paid_check_pending')), { parse_mode: 'HTML' });
      return;
    }
    if (cb.type === 'checkout') {
      // A checkout button whose conversation has ended (finished, timed out, or a restart with a new version).
      await ctx.answerCallbackQuery({ text: ctx.t('checkout_timeout') });
      return show(ctx, menuScreen(ctx), false);
    }
    return next();
  });
  return bot;
}
