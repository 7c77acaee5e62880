import { formatAmount, formatStars } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import { findItem, type Catalog, type Item, type Language } from '../catalog/types.js';
import { fulfilOrder } from '../access/fulfil-order.js';
import { escapeHtml } from '../bot/html.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Db } from '../storage/open-database.js';
import { prepared } from '../storage/prepared.js';
import { OPEN_STATES } from './order-state.js';
import type { Order, Orders } from './orders.js';
import { termsOf } from './terms.js';

/** What Telegram sends in a pre_checkout_query, as far as the decision needs it. */
export interface PreCheckout {
  userId: number;
  currency: string;
  totalAmount: number;
  payload: string;
}

/** Why a Stars payment must not go ahead: the text key the customer is shown (Telegram displays it). */
export type PreCheckoutDecision = { ok: true; order: Order } | { ok: false; reason: 'stars_refused_gone' | 'stars_refused_price' | 'stars_refused_closed' };

/**
 * Whether the order behind a pre_checkout_query can still be delivered, decided now, before
 * Telegram takes the Stars: the order is the customer's, still open (not paid, cancelled or
 * expired — its invoice lifetime counts), its item is still sold for Stars at the price frozen in
 * the order, and Telegram charges exactly that. Pure reads; no transaction needed.
 */
export function decidePreCheckout(orders: Orders, catalog: Catalog, q: PreCheckout, now: number): PreCheckoutDecision {
  const order = orders.byExternalId(q.payload);
  if (!order || order.userId !== q.userId || order.currency !== 'XTR') return { ok: false, reason: 'stars_refused_gone' };
  if (!OPEN_STATES.includes(order.state) || now > order.createdAt + catalog.settings.invoiceLifetimeMs) return { ok: false, reason: 'stars_refused_closed' };
  const item = findItem(catalog, order.itemId);
  if (!item || item.kind !== order.itemKind || !catalog.settings.payments.includes('stars') || item.stars === undefined) return { ok: false, reason: 'stars_refused_gone' };
  if (item.stars !== order.amount || q.currency !== 'XTR' || q.totalAmount !== order.amount) return { ok: false, reason: 'stars_refused_price' };
  return { ok: true, order };
}

/** A Stars order: terms frozen, the amount in Stars. Its external id is the invoice payload. */
export function createStarsOrder(d: { db: Db; orders: Orders }, req: { userId: number; item: Item & { stars: number }; language: Language; purpose?: 'purchase' | 'renewal' }, now: number): Order {
  return d.db
    .transaction(() =>
      d.orders.create({ userId: req.userId, terms: termsOf(req.item), purpose: req.purpose, listPrice: req.item.stars, amount: req.item.stars, currency: 'XTR', language: req.language }, now),
    )
    .immediate();
}

/** What Telegram reports in message.successful_payment. */
export interface StarPayment {
  userId: number;
  chargeId: string;
  currency: string;
  totalAmount: number;
  payload: string;
}

export type StarPaymentOutcome = 'granted' | 'duplicate' | 'orphan' | 'amount_mismatch' | 'second_payment';

/**
 * A successful_payment, in one transaction, exactly once: the payment row (unique by Telegram's
 * charge id: a repeat changes nothing), the order paid, then the same fulfilment as an AiPay
 * `invoice.paid` (subscription or purchase, access, receipt, admin notice through the outbox). Stars
 * taken for an order the bot cannot honour (unknown, another customer's, another amount or
 * currency, already paid) grant nothing and alert the admins once: /refund returns them.
 * A payment for an order cancelled or expired meanwhile is honoured, as with Kaspi: money taken wins.
 */
export function recordStarPayment(d: { db: Db; orders: Orders; outbox: Outbox; catalog: Catalog }, p: StarPayment, now: number): StarPaymentOutcome {
  const { db, orders, outbox, catalog } = d;
  return db
    .transaction((): StarPaymentOutcome => {
      const order = orders.byExternalId(p.payload);
      const inserted = prepared(
        db,
        `INSERT INTO star_payments (charge_id, order_id, user_id, amount, payload, outcome, received_at) VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (charge_id) DO NOTHING`,
      ).run(p.chargeId, order?.id ?? null, p.userId, p.totalAmount, p.payload, now);
      if (inserted.changes === 0) return 'duplicate';
      const settle = (outcome: StarPaymentOutcome, alert?: string) => {
        prepared(db, 'UPDATE star_payments SET outcome = ? WHERE charge_id = ?').run(outcome, p.chargeId);
        if (alert) outbox.notifyAdmins(catalog.settings.admins, escapeHtml(alert), { dedupeKey: `stars:${p.chargeId}` });
        return outcome;
      };
      const paid = `${formatStars(p.totalAmount)} from user ${p.userId} (charge ${p.chargeId})`;
      if (!order) return settle('orphan', `⚠️ Telegram Stars payment ${paid} for an order this bot does not know (${p.payload}). Nothing was granted; refund it with /refund if needed.`);
      const title = localize(order.terms.title, catalog.settings.defaultLanguage, catalog.settings.defaultLanguage);
      if (order.userId !== p.userId || order.currency !== 'XTR' || p.currency !== 'XTR' || p.totalAmount !== order.amount) {
        return settle(
          'amount_mismatch',
          `⚠️ Telegram Stars payment ${paid} does not match order ${order.externalId} (${title}, ${formatAmount(order.amount, order.currency)}, user ${order.userId}). Nothing was granted; check and refund with /refund ${order.externalId}.`,
        );
      }
      if (order.state === 'paid') {
        return settle('second_payment', `⚠️ A second Stars payment ${paid} arrived for order ${order.externalId} (${title}); the first was already granted. Refund or extend — your call.`);
      }
      orders.move(order, 'paid', now, { paid_via: 'webhook', paid_at: now });
      fulfilOrder({ db, outbox, catalog }, { ...order, state: 'paid', paidVia: 'webhook', paidAt: now }, now);
      return settle('granted');
    })
    .immediate();
}

/** The charge that paid an order in Stars and was granted, if any. */
export function starChargeOf(db: Db, orderId: number): { chargeId: string; userId: number; refundedAt: number | null } | undefined {
  return prepared<[number], { chargeId: string; userId: number; refundedAt: number | null }>(
    db,
    "SELECT charge_id AS chargeId, user_id AS userId, refunded_at AS refundedAt FROM star_payments WHERE order_id = ? AND outcome = 'granted'",
  ).get(orderId);
}
