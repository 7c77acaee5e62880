import { Composer, GrammyError, InlineKeyboard, type Context } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { deliverProduct, enqueueChannelAccess } from '../access/fulfil-order.js';
import type { Terms } from '../payments/terms.js';
import { normalizePhone } from '../payments/phone.js';
import { formatDate, formatMoney, formatPeriod, formatStars, maskPhone } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import { findItem, LANGUAGES, paymentMethodsOf, type Catalog, type Channel, type Item, type Language, type TextInput } from '../catalog/types.js';
import { decodeCallback, encodeCallback } from './callback-data.js';
import type { BotContext } from './context.js';
import { escapeHtml, fitPlain, MESSAGE_LIMIT } from './html.js';

const LANGUAGE_LABELS: Record<Language, string> = { ru: '🇷🇺 Русский', kk: '🇰🇿 Қазақша', en: '🇬🇧 English' };

export interface Screen {
  text: string;
  keyboard: InlineKeyboard;
}

const local = (ctx: BotContext, t: TextInput | undefined) => localize(t, ctx.lang, ctx.catalog.settings.defaultLanguage);

export function itemTitle(ctx: BotContext, item: Item): string {
  return local(ctx, item.title);
}

/** The main menu: greeting, sections, one button per visible item. */
export function menuScreen(ctx: BotContext, intro?: string): Screen {
  const { catalog } = ctx;
  const name = ctx.from?.first_name ?? '';
  const lines: string[] = [];
  if (intro) lines.push(escapeHtml(intro), '');
  const keyboard = new InlineKeyboard();
  const items = catalog.menu.flatMap((s) => s.items).map((id) => findItem(catalog, id)).filter((i): i is Item => i !== undefined);
  if (items.length === 0) return { text: escapeHtml(ctx.t('menu_empty')), keyboard };
  lines.push(escapeHtml(ctx.t('welcome', { name })));
  for (const section of catalog.menu) {
    const sectionItems = section.items.map((id) => findItem(catalog, id)).filter((i): i is Item => i !== undefined);
    if (sectionItems.length === 0) continue;
    lines.push('');
    if (section.title !== undefined) lines.push(`<b>${escapeHtml(local(ctx, section.title))}</b>`);
    for (const item of sectionItems) {
      lines.push(`• ${escapeHtml(itemTitle(ctx, item))} — ${priceText(catalog, item)}`);
      keyboard.text(`${itemTitle(ctx, item)} · ${priceText(catalog, item)}`, encodeCallback({ type: 'item', id: item.id })).row();
    }
  }
  return { text: fitMessage(lines.join('\n')), keyboard };
}

/** An item's card: title, description, price, period, channels, trial; Buy and Back. */
export function cardScreen(ctx: BotContext, item: Item): Screen {
  const { catalog } = ctx;
  const head = `<b>${escapeHtml(itemTitle(ctx, item))}</b>`;
  const facts: string[] = [ctx.t('card_price', { price: priceText(catalog, item) })];
  const channelIds = item.kind === 'plan' ? item.channels : item.deliver.channels;
  if (item.kind === 'plan') facts.push(ctx.t('card_period', { period: formatPeriod(item.period, ctx.lang) }));
  if (channelIds.length > 0) {
    const names = channelIds.map((id) => local(ctx, catalog.channels.get(id)?.title)).filter(Boolean);
    facts.push(ctx.t('card_includes', { channels: names.join(', ') }));
  }
  if (item.kind === 'product' && channelIds.length > 0) facts.push(ctx.t('card_lifetime'));
  const userId = ctx.from?.id;
  const trialOffered =
    item.kind === 'plan' &&
    item.trialDays > 0 &&
    userId !== undefined &&
    !ctx.deps.access.trialUsed(userId, item.id) &&
    !ctx.deps.access.activeSubscription(userId, item.id);
  if (trialOffered) facts.push(ctx.t('card_trial', { days: item.trialDays }));
  const factsText = facts.map(escapeHtml).join('\n');
  const descriptionBudget = MESSAGE_LIMIT - head.length - factsText.length - 8;
  const description = item.description ? escapeHtml(fitPlain(local(ctx, item.description), Math.floor(descriptionBudget / 2))) : '';
  const text = [head, description, factsText].filter(Boolean).join('\n\n');

  const keyboard = new InlineKeyboard();
  const methods = paymentMethodsOf(catalog, item);
  if (methods.length === 2) {
    keyboard.text(ctx.t('button_pay_kaspi', { price: formatMoney(item.price) }), encodeCallback({ type: 'buy', id: item.id })).row();
    keyboard.text(ctx.t('button_pay_stars', { price: formatStars(item.stars!) }), encodeCallback({ type: 'buy_stars', id: item.id })).row();
  } else if (methods[0] === 'stars') {
    keyboard.text(ctx.t('button_buy', { price: formatStars(item.stars!) }), encodeCallback({ type: 'buy_stars', id: item.id })).row();
  } else {
    keyboard.text(ctx.t('button_buy', { price: formatMoney(item.price) }), encodeCallback({ type: 'buy', id: item.id })).row();
  }
  if (trialOffered && item.kind === 'plan') keyboard.text(ctx.t('button_trial', { days: item.trialDays }), encodeCallback({ type: 'trial', id: item.id })).row();
  if (hasPromoFor(ctx, item.id)) keyboard.text(ctx.t('button_promo'), encodeCallback({ type: 'promo', id: item.id })).row();
  keyboard.text(ctx.t('button_back'), encodeCallback({ type: 'menu' }));
  return { text, keyboard };
}

/** An item's price in the ways it is sold: "4 900 ₸", "250 ⭐", or "4 900 ₸ / 250 ⭐". */
export function priceText(catalog: Catalog, item: Item): string {
  return paymentMethodsOf(catalog, item)
    .map((m) => (m === 'stars' ? formatStars(item.stars!) : formatMoney(item.price)))
    .join(' / ');
}

function hasPromoFor(ctx: BotContext, itemId: string): boolean {
  for (const promo of ctx.catalog.promoCodes.values()) if (!promo.items || promo.items.includes(itemId)) return true;
  return false;
}

export function languageScreen(ctx: BotContext, then?: string): Screen {
  const keyboard = new InlineKeyboard();
  for (const lang of LANGUAGES) {
    if (ctx.catalog.settings.languages.includes(lang)) keyboard.text(LANGUAGE_LABELS[lang], encodeCallback({ type: 'language', lang, then })).row();
  }
  // The picker is shown before a language is known: say it in every enabled language.
  const prompt = [...new Set(ctx.catalog.settings.languages.map((lang) => textIn(ctx, lang, 'choose_language')))].join(' / ');
  return { text: escapeHtml(prompt), keyboard };
}

function textIn(ctx: BotContext, lang: Language, key: string): string {
  const saved = ctx.lang;
  ctx.lang = lang;
  try {
    return ctx.t(key);
  } finally {
    ctx.lang = saved;
  }
}

/** /my: subscriptions and purchases. */
export function myScreen(ctx: BotContext): Screen {
  const userId = ctx.from!.id;
  const { access } = ctx.deps;
  const tz = ctx.catalog.settings.timezone;
  const subs = access.subscriptions(userId);
  const purchases = access.purchases(userId);
  const keyboard = new InlineKeyboard();
  if (subs.length === 0 && purchases.length === 0) return { text: escapeHtml(ctx.t('my_empty')), keyboard };
  const lines = [escapeHtml(ctx.t('my_header')), ''];
  for (const s of subs) {
    const plan = local(ctx, s.title as TextInput);
    const key = s.state === 'active' ? 'my_subscription' : 'my_subscription_ended';
    lines.push('• ' + escapeHtml(ctx.t(key, { plan, ends_at: formatDate(s.endsAt, ctx.lang, tz) })));
    const current = ctx.catalog.plans.get(s.planId);
    if (s.state === 'active' && current) keyboard.text(`${ctx.t('button_renew')}: ${plan}`, encodeCallback({ type: 'renew', id: s.planId })).row();
    if (s.state === 'active') keyboard.text(ctx.t('button_relink', { plan }), encodeCallback({ type: 'relink', subscriptionId: s.id })).row();
  }
  const renewable = subs.find((s) => s.state === 'active' && !s.trial && ctx.catalog.plans.get(s.planId)?.renewalInvoices);
  const customer = ctx.deps.customers.get(userId);
  if (renewable && customer?.phone) {
    const on = customer.renewalInvoices;
    keyboard.text(ctx.t(on ? 'button_renewal_off' : 'button_renewal_on'), encodeCallback({ type: 'renewal_toggle', id: renewable.planId, on: !on })).row();
  }
  for (const p of purchases) {
    const item = local(ctx, p.title as TextInput);
    lines.push('• ' + escapeHtml(ctx.t('my_purchase', { item, date: formatDate(p.createdAt, ctx.lang, tz) })));
    keyboard.text(ctx.t('button_get_again', { item }), encodeCallback({ type: 'get_again', purchaseId: p.id })).row();
  }
  return { text: fitMessage(lines.join('\n')), keyboard };
}

function fitMessage(html: string): string {
  if (html.length <= MESSAGE_LIMIT) return html;
  const cut = html.slice(0, MESSAGE_LIMIT - 1);
  return cut.slice(0, cut.lastIndexOf('\n')) + '\n…';
}

/** Shows a screen by editing the message a button belongs to, or as a new message. */
export async function show(ctx: Context, screen: Screen, edit: boolean): Promise<void> {
  const options = { parse_mode: 'HTML' as const, reply_markup: screen.keyboard, link_preview_options: { is_disabled: true } };
  if (edit && ctx.callbackQuery?.message) {
    try {
      await ctx.editMessageText(screen.text, options);
      return;
    } catch (error) {
      if (error instanceof GrammyError && error.description.includes('message is not modified')) return;
      if (!(error instanceof GrammyError) || error.error_code !== 400) throw error;
      // Too old to edit, or not a text message: fall through to a fresh message.
    }
  }
  await ctx.reply(screen.text, options);
}

/** /start, deep links, cards, language, /my, /help, /support: everything a customer browses. */
export function browse(): Composer<BotContext> {
  const bot = new Composer<BotContext>();
  const privateChats = bot.chatType('private');

  privateChats.command('start', async (ctx) => {
    const payload = ctx.match.trim();
    if (!ctx.langKnown) return show(ctx, languageScreen(ctx, payload || undefined), false);
    await openStart(ctx, payload);
  });

  privateChats.command('language', (ctx) => show(ctx, languageScreen(ctx), false));
  privateChats.command('help', (ctx) => ctx.reply(escapeHtml(ctx.t('help')), { parse_mode: 'HTML' }));
  privateChats.command('support', (ctx) => {
    const contact = ctx.catalog.settings.support;
    return ctx.reply(escapeHtml(contact ? ctx.t('support', { contact }) : ctx.t('support_missing')), { parse_mode: 'HTML' });
  });
  privateChats.command('my', (ctx) => show(ctx, myScreen(ctx), false));

  bot.on('callback_query:data', async (ctx, next) => {
    const data = decodeCallback(ctx.callbackQuery.data);
    if (!data) return next();
    switch (data.type) {
      case 'menu':
        await ctx.answerCallbackQuery();
        return show(ctx, menuScreen(ctx), true);
      case 'item': {
        const item = findItem(ctx.catalog, data.id);
        if (!item) return unavailable(ctx);
        await ctx.answerCallbackQuery();
        return show(ctx, cardScreen(ctx, item), true);
      }
      case 'language': {
        const lang = data.lang as Language;
        if (!ctx.catalog.settings.languages.includes(lang)) {
          await ctx.answerCallbackQuery();
          return show(ctx, languageScreen(ctx, data.then), true);
        }
        ctx.deps.customers.setLanguage(ctx.from.id, lang, ctx.deps.clock.now());
        ctx.lang = lang;
        ctx.langKnown = true;
        await ctx.answerCallbackQuery({ text: ctx.t('language_set') });
        if (data.then) {
          await ctx.editMessageText(escapeHtml(ctx.t('language_set')), { parse_mode: 'HTML' }).catch(() => undefined);
          return openStart(ctx, data.then);
        }
        return show(ctx, menuScreen(ctx, ctx.t('language_set')), true);
      }
      case 'relink': {
        const { db, clock, outbox } = ctx.deps;
        const row = db
          .prepare<[number, number], { id: number; terms: string }>("SELECT id, terms FROM subscriptions WHERE id = ? AND user_id = ? AND state = 'active'")
          .get(data.subscriptionId, ctx.from.id);
        await ctx.answerCallbackQuery();
        if (!row) return show(ctx, myScreen(ctx), false);
        const terms = JSON.parse(row.terms) as { chats?: Channel[] };
        // Fresh links to the channels the customer is not in (the grant skips those they are in);
        // at most one round per minute, however often the button is pressed.
        const bucket = Math.floor(clock.now() / 60_000);
        enqueueChannelAccess({ db, outbox, catalog: ctx.catalog }, ctx.from.id, ctx.lang, terms.chats ?? [], `again ${row.id}`, `relink:${row.id}:${bucket}`);
        return;
      }
      case 'get_again': {
        const { db, clock, outbox } = ctx.deps;
        const row = db
          .prepare<[number, number], { id: number; terms: string }>('SELECT id, terms FROM purchases WHERE id = ? AND user_id = ?')
          .get(data.purchaseId, ctx.from.id);
        await ctx.answerCallbackQuery();
        if (!row) return show(ctx, myScreen(ctx), false);
        const terms = JSON.parse(row.terms) as Extract<Terms, { kind: 'product' }>;
        // One delivery per minute per purchase, however often the button is pressed.
        const bucket = Math.floor(clock.now() / 60_000);
        deliverProduct({ db, outbox, catalog: ctx.catalog }, ctx.from.id, ctx.lang, terms, local(ctx, terms.title), `again:${row.id}:${bucket}`);
        return;
      }
      case 'renewal_toggle': {
        const { customers, clock } = ctx.deps;
        const customer = customers.get(ctx.from.id);
        await ctx.answerCallbackQuery();
        if (!customer?.phone) return show(ctx, myScreen(ctx), false);
        customers.setRenewalInvoices(ctx.from.id, data.on, clock.now());
        const plan = ctx.catalog.plans.get(data.id);
        const title = plan ? local(ctx, plan.title) : data.id;
        await ctx.reply(escapeHtml(data.on ? ctx.t('renewal_on', { plan: title, phone: maskPhone(customer.phone) }) : ctx.t('renewal_off', { plan: title })), { parse_mode: 'HTML' });
        const onMyScreen = ctx.callbackQuery.message?.text?.startsWith(ctx.t('my_header')) ?? false;
        if (onMyScreen) await ctx.editMessageReplyMarkup({ reply_markup: myScreen(ctx).keyboard }).catch(() => undefined);
        else await ctx.editMessageReplyMarkup({ reply_markup: withoutButton(ctx.callbackQuery.message?.reply_markup, ctx.callbackQuery.data) }).catch(() => undefined);
        return;
      }
      default:
        return next();
    }
  });

  return bot;
}

/** An inline keyboard minus the button that was just used. */
function withoutButton(markup: InlineKeyboardMarkup | undefined, data: string): InlineKeyboardMarkup {
  const rows = (markup?.inline_keyboard ?? []).map((row) => row.filter((b) => !('callback_data' in b) || b.callback_data !== data)).filter((row) => row.length > 0);
  return { inline_keyboard: rows };
}

/** The answer to /start with an optional deep-link payload. */
async function openStart(ctx: BotContext, payload: string): Promise<void> {
  if (!payload) return show(ctx, menuScreen(ctx), false);
  const item = findItem(ctx.catalog, payload);
  if (!item) return show(ctx, menuScreen(ctx, ctx.t('unknown_item')), false);
  await show(ctx, cardScreen(ctx, item), false);
}

/** A button for something the catalog no longer has. */
export async function unavailable(ctx: BotContext): Promise<void> {
  await ctx.answerCallbackQuery({ text: ctx.t('item_unavailable') });
  await show(ctx, menuScreen(ctx, ctx.t('item_unavailable')), true);
}

/** Last in line: any button nobody handled still gets an answer (no spinning buttons). */
export function fallbacks(): Composer<BotContext> {
  const bot = new Composer<BotContext>();
  bot.on('callback_query', async (ctx) => {
    await ctx.answerCallbackQuery({ text: ctx.t('item_unavailable') });
    await show(ctx, menuScreen(ctx, ctx.t('item_unavailable')), true);
  });
  bot.chatType('private').on('message', async (ctx) => {
    // A phone number or a contact outside a checkout: the checkout timed out (or never began).
    const text = ctx.message.text;
    if (ctx.message.contact || (text !== undefined && normalizePhone(text).ok)) {
      return show(ctx, menuScreen(ctx, ctx.t('checkout_timeout')), false);
    }
    return show(ctx, menuScreen(ctx), false);
  });
  return bot;
}
