import { formatMoney } from '../catalog/format.js';
import { prepared } from '../storage/prepared.js';
import { localize, text } from '../catalog/texts.js';
import type { Catalog } from '../catalog/types.js';
import { fulfilOrder, newInvoiceKeyboard } from '../access/fulfil-order.js';
import { escapeHtml } from '../bot/html.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Db } from '../storage/open-database.js';
import type { Orders } from './orders.js';
import type { AipayEvent } from './parse-event.js';

/** What became of one webhook delivery; stored with the event and counted in metrics. */
export type EventOutcome =
  | 'duplicate'
  | 'granted'
  | 'amount_mismatch'
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

/**
 * Everything one verified AiPay event changes, in one synchronous SQLite transaction: the event
 * row (unique per invoice and event, so a replay changes nothing), the order's state (paid wins
 * whatever arrived before), the subscription or purchase, and the outbox jobs that will tell
 * Telegram. Throws only on database errors (the route answers 503 and AiPay retries).
 */
export function recordEvent(d: RecordEventDeps, e: AipayEvent, rawBody: string, now: number): EventOutcome {
  const { db, orders, outbox, catalog } = d;
  return db
    .transaction((): EventOutcome => {
      const inserted = prepared(db, 
          `INSERT INTO aipay_events (invoice_id, event, external_id, amount, body, outcome, received_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (invoice_id, event) DO NOTHING`,
        )
        .run(e.invoiceId, e.event, e.externalId, e.amount ?? null, rawBody, now);
      if (inserted.changes === 0) return 'duplicate';
      const eventId = Number(inserted.lastInsertRowid);
      const settle = (outcome: EventOutcome, orderId: number | null) => {
        prepared(db, 'UPDATE aipay_events SET outcome = ?, order_id = ? WHERE id = ?').run(outcome, orderId, eventId);
        return outcome;
      };
      const alert = (message: string) => outbox.notifyAdmins(catalog.settings.admins, escapeHtml(message), { dedupeKey: `event:${eventId}` });

      const order = orders.byExternalId(e.externalId);
      if (!order) {
        alert(`⚠️ AiPay sent ${e.event} for an order this bot does not know (external_id ${e.externalId}, invoice ${e.invoiceId}${e.amount !== undefined ? `, ${formatMoney(e.amount)}` : ''}). Check the AiPay dashboard.`);
        return settle('orphan', null);
      }
      const lang = order.language;
      const title = localize(order.terms.title, lang, catalog.settings.defaultLanguage);
      const t = (key: string, vars: Record<string, string | number> = {}) => text(catalog, lang, key, vars);

      switch (e.event) {
        case 'invoice.paid': {
          if (e.amount !== order.amount) {
            alert(`⚠️ Payment amount mismatch: order ${order.externalId} (${title}) costs ${formatMoney(order.amount)}, AiPay reports ${formatMoney(e.amount ?? 0)} paid (invoice ${e.invoiceId}). Nothing was granted; check and confirm by hand.`);
            return settle('amount_mismatch', order.id);
          }
          if (order.state === 'paid' && (order.paidVia === 'manual' || order.paidVia === 'free') && (order.invoiceId === null || order.invoiceId === e.invoiceId)) {
            // An admin confirmed this payment by hand before AiPay's report arrived: the same money.
            // Its invoice is remembered, so that paying another invoice later counts as a second payment.
            if (order.invoiceId === null) prepared(db, 'UPDATE orders SET invoice_id = ?, updated_at = ? WHERE id = ? AND invoice_id IS NULL').run(e.invoiceId, now, order.id);
            return settle('duplicate', order.id);
          }
          if (order.state === 'paid') {
            alert(`⚠️ A second payment arrived for order ${order.externalId} (${title}, ${formatMoney(e.amount)}, invoice ${e.invoiceId}); the first was already granted. Refund or extend — your call.`);
            return settle('second_payment', order.id);
          }
          // The order's invoice_id is kept when set: a unique index need not change.
          orders.move(order, 'paid', now, { paid_via: 'webhook', paid_at: now, ...(order.invoiceId === null && { invoice_id: e.invoiceId }) });
          fulfilOrder({ db, outbox, catalog }, { ...order, state: 'paid', paidVia: 'webhook', paidAt: now, invoiceId: order.invoiceId ?? e.invoiceId }, now);
          return settle('granted', order.id);
        }
        case 'invoice.expired': {
          if (!orders.move(order, 'expired', now)) return settle('ignored', order.id);
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
          return settle('expired', order.id);
        }
        case 'invoice.error': {
          if (!orders.move(order, 'failed', now, { error: 'AiPay reported invoice.error' })) return settle('ignored', order.id);
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
          alert(`⚠️ Kaspi reported an error for order ${order.externalId} (${title}, ${formatMoney(order.amount)}, invoice ${e.invoiceId}).`);
          return settle('failed', order.id);
        }
        default:
          return settle('unknown_event', order.id);
      }
    })
    .immediate();
}
