import { InlineKeyboard } from 'grammy';
import { prepared } from '../storage/prepared.js';
import { formatAmount, formatDate } from '../catalog/format.js';
import { localize, text } from '../catalog/texts.js';
import type { Catalog, Channel, Language, Period } from '../catalog/types.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ReplyMarkup } from '../outbox/jobs.js';
import type { Order } from '../payments/orders.js';
import { chatsOf, type Terms } from '../payments/terms.js';
import type { Db } from '../storage/open-database.js';
import { escapeHtml } from '../bot/html.js';
import { extendSubscription } from './extend-subscription.js';
export { addPeriod } from './extend-subscription.js';
import { encodeCallback } from '../bot/callback-data.js';


export interface FulfilDeps {
  db: Db;
  outbox: Outbox;
  catalog: Catalog;
}

/**
 * Turns a paid order into what it bought: a subscription started or extended (from its current
 * end, when still active), or a purchase; then enqueues access per channel, the receipt and the
 * admins' notice. Synchronous: call inside the transaction that marked the order paid. An order
 * is fulfilled once (subscription_periods.order_id and purchases.order_id are unique).
 */
export function fulfilOrder(d: FulfilDeps, order: Order, now: number, options: { trial?: boolean } = {}): void {
  const { db, outbox, catalog } = d;
  const lang = order.language;
  const tz = catalog.settings.timezone;
  const t = (key: string, vars: Record<string, string | number> = {}) => text(catalog, lang, key, vars);
  const title = localize(order.terms.title, lang, catalog.settings.defaultLanguage);
  const lines: string[] = [];
  alertUnresolved(d, order, title);

  if (order.terms.kind === 'plan') {
    const terms = order.terms;
    const { to } = extendSubscription(db, { userId: order.userId, terms, orderId: order.id, trial: options.trial, graceMs: catalog.settings.graceMs, timeZone: tz, now });
    lines.push(
      options.trial
        ? t('trial_started', { plan: title, ends_at: formatDate(to, lang, tz) })
        : t('paid_subscription', { plan: title, price: formatAmount(order.amount, order.currency), ends_at: formatDate(to, lang, tz) }),
    );
  } else {
    const purchaseId = Number(
      prepared(db, 'INSERT INTO purchases (user_id, product_id, order_id, terms, created_at) VALUES (?, ?, ?, ?, ?)').run(
        order.userId,
        order.terms.id,
        order.id,
        JSON.stringify(order.terms),
        now,
      ).lastInsertRowid,
    );
    deliverProduct(d, order.userId, lang, order.terms, t('paid_product', { item: title, price: formatAmount(order.amount, order.currency) }), `purchase:${purchaseId}`);
    return notifyAdmins(d, order, title);
  }

  outbox.enqueue({ kind: 'message', chatId: order.userId, userId: order.userId, text: escapeHtml(lines.join('\n')) }, { dedupeKey: `receipt:${order.id}` });
  enqueueChannelAccess(d, order.userId, lang, chatsOf(order.terms), `order ${order.externalId}`, `grant:${order.id}`);
  notifyAdmins(d, order, title);
}

/**
 * What a product delivers, through the outbox: the heading and text and link in one message, the
 * file as a document, lifetime channels as links. Also used by "get it again" in /my.
 */
export function deliverProduct(d: FulfilDeps, userId: number, lang: Language, terms: Extract<Terms, { kind: 'product' }>, heading: string, dedupePrefix: string): void {
  const { catalog, outbox } = d;
  const t = (key: string, vars: Record<string, string | number> = {}) => text(catalog, lang, key, vars);
  const lines = [heading];
  const deliver = terms.deliver;
  if (deliver.text !== undefined) lines.push('', localize(deliver.text, lang, catalog.settings.defaultLanguage));
  if (deliver.link !== undefined) lines.push('', t('product_link', { link: deliver.link }));
  outbox.enqueue({ kind: 'message', chatId: userId, userId, text: escapeHtml(lines.join('\n')) }, { dedupeKey: `${dedupePrefix}:message` });
  if (deliver.file !== undefined) {
    outbox.enqueue({ kind: 'send_document', chatId: userId, userId, path: deliver.file }, { dedupeKey: `${dedupePrefix}:file` });
  }
  enqueueChannelAccess(d, userId, lang, deliver.chats, `${terms.id}`, `${dedupePrefix}:grant`);
}

function notifyAdmins(d: FulfilDeps, order: Order, title: string): void {
  const { catalog, outbox } = d;
  if (catalog.settings.notifyAdminsOnPayment && order.amount > 0) {
    outbox.notifyAdmins(
      catalog.settings.admins,
      escapeHtml(`💰 ${formatAmount(order.amount, order.currency)} — ${title} — user ${order.userId} (order ${order.externalId}${order.promoCode ? `, code ${order.promoCode}` : ''})`),
      { dedupeKey: `paid-notice:${order.id}`, batch: 'payments' },
    );
  }
}

/**
 * One grant job per chat: unban if needed, then a personal link (see the outbox worker). `chats`
 * are those frozen in the paid terms: a chat renamed or removed in the catalog since is still
 * granted, under the title the catalog now gives that chat id, else the title it was sold with.
 */
export function enqueueChannelAccess(
  d: FulfilDeps,
  userId: number,
  lang: Language,
  chats: readonly Channel[],
  linkName: string,
  dedupePrefix: string,
  textKey?: string,
): void {
  const { catalog, outbox } = d;
  const mode = catalog.settings.accessMode;
  for (const chat of chats) {
    const current = [...catalog.channels.values()].find((c) => c.chatId === chat.chatId);
    const channelTitle = localize((current ?? chat).title, lang, catalog.settings.defaultLanguage);
    const template = text(catalog, lang, textKey ?? (mode === 'join_request' ? 'join_link_request' : 'join_link'), { channel: channelTitle, link: '{link}' });
    outbox.enqueue(
      { kind: 'grant_access', userId, chatId: chat.chatId, channelTitle, text: escapeHtml(template), mode, linkName: linkName.slice(0, 32) },
      { dedupeKey: `${dedupePrefix}:${chat.chatId}` },
    );
  }
}

/**
 * A paid order that cannot grant a channel it was sold with (a row from before chats were frozen
 * whose key the catalog no longer has) tells the admins, rather than leave a receipt and nothing.
 */
function alertUnresolved(d: FulfilDeps, order: Order, title: string): void {
  const { catalog, outbox } = d;
  for (const key of order.terms.unresolvedChannels ?? []) {
    outbox.notifyAdmins(
      catalog.settings.admins,
      escapeHtml(
        `⚠️ Order ${order.externalId} (${title}, user ${order.userId}) is paid, but the channel \`${key}\` it was sold with is not in catalog.yaml, so the bot cannot tell which chat to let them into. ` +
          `Let them in by hand, or add \`${key}\` back under channels with its chat_id and restart the bot: the customer can then get the link in /my.`,
      ),
      { dedupeKey: `unresolved-grant:${order.id}:${key}` },
    );
  }
}

/** The "new invoice" button a customer gets when an invoice expired. */
export function newInvoiceKeyboard(catalog: Catalog, lang: Language, itemId: string): ReplyMarkup {
  return { inline_keyboard: new InlineKeyboard().text(text(catalog, lang, 'button_new_invoice'), encodeCallback({ type: 'buy', id: itemId })).inline_keyboard };
}
