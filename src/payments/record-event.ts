import { formatMoney } from '../catalog/format.js';
import { prepared } from '../storage/prepared.js';
import { localize, text } from '../catalog/texts.js';
import type { Catalog } from '../catalog/types.js';
import { fulfilOrder, newInvoiceKeyboard } from '../access/fulfil-order.js';
import { escapeHtml } from '../bot/html.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Db } from '../storage/open-database.js';
import type { Order, Orders } from './orders.js';
import type { AipayEvent } from './parse-event.js';

/** What became of one webhook delivery; stored with the event and counted in metrics. */
export type EventOutcome =
  | 'duplicate'
  | 'granted'
  | 'amount_mismatch'
  | 'invoice_mismatch'
  | 'orphan'
  | 'second_payment'
  | 'expired'
  | 'failed'
  | 'ignored'
  | 'unknown_event';

export interface RecordEventDeps {
  db: Db;
  orders: Orders;
  outbox: Outbox;
  catalog: Catalog;
}

/** A delivery the bot refuses to act on: recorded, and the admins told, once. */
interface Refusal {
  outcome: 'amount_mismatch' | 'invoice_mismatch' | 'orphan';
  alert: string;
}

/**
 * Everything one verified AiPay event changes, in one synchronous SQLite transaction: the event
 * row, the order's state (paid wins whatever arrived before), the subscription or purchase, and
 * the outbox jobs that will tell Telegram. Only a delivery that takes effect uses up its invoice
 * and event, so a replay of it changes nothing. A refused one — for an order the bot does not
 * know, with an invoice that is not the order's, or paying the wrong amount — is recorded and
 * alerted once (an identical repeat is a duplicate) and uses up nothing: the genuine or corrected
 * delivery that follows still counts. Throws only on database errors (the route answers 503).
 */
export function recordEvent(d: RecordEventDeps, e: AipayEvent, rawBody: string, now: number): EventOutcome {
  const { db, orders, outbox, catalog } = d;
  return db
    .transaction((): EventOutcome => {
      const tookEffect = prepared(db, 'SELECT 1 FROM aipay_events WHERE invoice_id = ? AND event = ? AND rejected = 0 AND external_id = ?');
      if (tookEffect.get(e.invoiceId, e.event, e.externalId)) return 'duplicate';
      const order = orders.byExternalId(e.externalId);
      const alert = (message: string, eventId: number) => outbox.notifyAdmins(catalog.settings.admins, escapeHtml(message), { dedupeKey: `event:${eventId}` });

      // Refused: kept once per what it said, alerted the first time; an identical repeat is a duplicate.
      const refuse = (r: Refusal): EventOutcome => {
        const stored = prepared(db, 
            `INSERT INTO aipay_events (invoice_id, event, external_id, amount, body, order_id, outcome, received_at, rejected)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
          )
          .run(e.invoiceId, e.event, e.externalId, e.amount ?? null, rawBody, order?.id ?? null, r.outcome, now);
        if (stored.changes === 0) return 'duplicate';
        alert(r.alert, Number(stored.lastInsertRowid));
        return r.outcome;
      };
      if (!order) {
        const money = e.amount !== undefined ? `, ${formatMoney(e.amount)}` : '';
        return refuse({
          outcome: 'orphan',
          alert: `⚠️ AiPay sent ${e.event} for an order this bot does not know (external_id ${e.externalId}, invoice ${e.invoiceId}${money}). Check the AiPay dashboard.`,
        });
      }
      const lang = order.language;
      const title = localize(order.terms.title, lang, catalog.settings.defaultLanguage);
      const refusal = refusalOf(db, order, title, e);
      if (refusal) return refuse(refusal);

      const inserted = prepared(db, 
          `INSERT INTO aipay_events (invoice_id, event, external_id, amount, body, outcome, received_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING`,
        )
        .run(e.invoiceId, e.event, e.externalId, e.amount ?? null, rawBody, now);
      if (inserted.changes === 0) return 'duplicate';
      const eventId = Number(inserted.lastInsertRowid);
      const settle = (outcome: EventOutcome) => {
        prepared(db, 'UPDATE aipay_events SET outcome = ?, order_id = ? WHERE id = ?').run(outcome, order.id, eventId);
        return outcome;
      };
      const t = (key: string, vars: Record<string, string | number> = {}) => text(catalog, lang, key, vars);

      switch (e.event) {
        case 'invoice.paid': {
          if (order.state === 'paid' && (order.paidVia === 'manual' || order.paidVia === 'free') && (order.invoiceId === null || order.invoiceId === e.invoiceId)) {
            // An admin confirmed this payment by hand before AiPay's report arrived: the same money.
            // Its invoice is remembered, so that paying another invoice later counts as a second payment.
            if (order.invoiceId === null) prepared(db, 'UPDATE orders SET invoice_id = ?, updated_at = ? WHERE id = ? AND invoice_id IS NULL').run(e.invoiceId, now, order.id);
            return settle('duplicate');
          }
          if (order.state === 'paid') {
            alert(`⚠️ A second payment arrived for order ${order.externalId} (${title}, ${formatMoney(e.amount ?? 0)}, invoice ${e.invoiceId}); the first was already granted. Refund or extend — your call.`, eventId);
            return settle('second_payment');
          }
          // The order's invoice_id is kept when set: a unique index need not change.
          orders.move(order, 'paid', now, { paid_via: 'webhook', paid_at: now, ...(order.invoiceId === null && { invoice_id: e.invoiceId }) });
          fulfilOrder({ db, outbox, catalog }, { ...order, state: 'paid', paidVia: 'webhook', paidAt: now, invoiceId: order.invoiceId ?? e.invoiceId }, now);
          return settle('granted');
        }
        case 'invoice.expired': {
          if (!orders.move(order, 'expired', now)) return settle('ignored');
          outbox.enqueue(
            {
              kind: 'message',
              chatId: order.userId,
              userId: order.userId,
              text: escapeHtml(t('invoice_expired', { item: title })),
              replyMarkup: newInvoiceKeyboard(catalog, lang, order.itemId),
            },
            { dedupeKey: `expired:${order.id}` },
          );
          return settle('expired');
        }
        case 'invoice.error': {
          if (!orders.move(order, 'failed', now, { error: 'AiPay reported invoice.error' })) return settle('ignored');
          outbox.enqueue(
            {
              kind: 'message',
              chatId: order.userId,
              userId: order.userId,
              text: escapeHtml(t('invoice_error', { item: title })),
              replyMarkup: newInvoiceKeyboard(catalog, lang, order.itemId),
            },
            { dedupeKey: `error:${order.id}` },
          );
          alert(`⚠️ Kaspi reported an error for order ${order.externalId} (${title}, ${formatMoney(order.amount)}, invoice ${e.invoiceId}).`, eventId);
          return settle('failed');
        }
        default:
          return settle('unknown_event');
      }
    })
    .immediate();
}

/**
 * Why an event for a known order must not act, if it must not: its invoice belongs to another
 * order (recorded on it, or named by an event that took effect); the order has another invoice on
 * record (except a payment for an order already paid: that is a second payment, alerted as such);
 * or it pays a different amount. An order with no invoice on record (AiPay's answer to the create
 * call was lost) takes the event's invoice, unless another order owns it.
 */
function refusalOf(db: Db, order: Order, title: string, e: AipayEvent): Refusal | undefined {
  const money = e.amount !== undefined ? `, ${formatMoney(e.amount)}` : '';
  const about = `AiPay sent ${e.event} for order ${order.externalId} (${title}, user ${order.userId}${money}) with invoice ${e.invoiceId}`;
  const owner = invoiceOwner(db, e.invoiceId);
  if (owner !== undefined && owner !== order.externalId) {
    return { outcome: 'invoice_mismatch', alert: `⚠️ ${about}, but that invoice belongs to order ${owner}. Nothing was changed: check the AiPay dashboard.` };
  }
  const secondPayment = e.event === 'invoice.paid' && order.state === 'paid';
  if (order.invoiceId !== null && order.invoiceId !== e.invoiceId && !secondPayment) {
    return { outcome: 'invoice_mismatch', alert: `⚠️ ${about}, but the order's invoice is ${order.invoiceId}. Nothing was changed: check the AiPay dashboard.` };
  }
  if (e.event === 'invoice.paid' && e.amount !== order.amount) {
    return {
      outcome: 'amount_mismatch',
      alert: `⚠️ Payment amount mismatch: order ${order.externalId} (${title}) costs ${formatMoney(order.amount)}, AiPay reports ${formatMoney(e.amount ?? 0)} paid (invoice ${e.invoiceId}). Nothing was granted; check and confirm by hand.`,
    };
  }
  return undefined;
}

/** The external_id of the order an invoice belongs to: recorded on it, or named by an event that took effect. */
function invoiceOwner(db: Db, invoiceId: string): string | undefined {
  return (
    prepared<[string], { external_id: string }>(db, 'SELECT external_id FROM orders WHERE invoice_id = ?').get(invoiceId)?.external_id ??
    prepared<[string], { external_id: string }>(db, 'SELECT external_id FROM aipay_events WHERE invoice_id = ? AND rejected = 0 AND external_id IS NOT NULL LIMIT 1').get(invoiceId)
      ?.external_id
  );
}
