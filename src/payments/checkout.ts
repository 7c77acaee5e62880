import type { CatalogStore } from '../catalog/catalog-store.js';
import { formatMoney } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import type { Item, Language } from '../catalog/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ReplyMarkup } from '../outbox/jobs.js';
import type { Db } from '../storage/open-database.js';
import { whenUnlocked } from '../storage/when-unlocked.js';
import { escapeHtml } from '../bot/html.js';
import { checkLimits, type LimitViolation } from './abuse-limits.js';
import { AipayError, type AipayClient } from './aipay-client.js';
import type { Order, Orders } from './orders.js';
import { termsOf, type Terms } from './terms.js';
import { checkPromo, type PromoCheck } from './promo.js';
import { fulfilOrder } from '../access/fulfil-order.js';

export type CheckoutResult =
  | { ok: true; order: Order }
  | { ok: false; reason: 'limit'; violation: LimitViolation }
  | { ok: false; reason: 'promo'; check: Exclude<PromoCheck, { ok: true }> }
  | { ok: false; reason: 'aipay'; order: Order; error: AipayError };

/**
 * How long recording what AiPay answered waits for a database another process locked meanwhile
 * (on timers, the event loop free): the invoice exists at AiPay by then, and giving up would let a
 * retry of the customer's tap create a second one.
 */
const RECORD_WAIT_MS = 30_000;

export interface CheckoutOptions {
  db: Db;
  orders: Orders;
  outbox: Outbox;
  aipay: AipayClient;
  catalog: CatalogStore;
  clock: Clock;
  log: Logger;
}

/**
 * From a confirmed phone number to a Kaspi invoice: the order is stored first (so nothing
 * AiPay does can be lost), then AiPay is called with the order's external_id, then the
 * outcome is stored (waiting for a locked database, see RECORD_WAIT_MS). A failure leaves the
 * order `failed` and alerts the admins.
 */
export class Checkout {
  constructor(private readonly o: CheckoutOptions) {}

  /** The limit the customer would hit by starting a checkout now, if any. */
  limitFor(userId: number, phone?: string, phoneSource?: 'contact' | 'typed' | 'saved'): LimitViolation | undefined {
    return checkLimits(this.o.db, this.o.catalog.current().settings, this.o.clock.now(), { userId, phone, phoneSource });
  }

  async invoice(req: {
    userId: number;
    item: Item;
    phone: string;
    phoneSource: 'contact' | 'typed' | 'saved';
    language: Language;
    purpose?: 'purchase' | 'renewal';
    promoCode?: string;
    /**
     * The invoice message for the customer (text in HTML, buttons), queued in the outbox in the
     * same transaction that records the invoice: once a Kaspi invoice exists, its message is
     * durable, whatever a crowd, a 429 or a restart does next.
     */
    message?: (order: Order) => { text: string; replyMarkup?: ReplyMarkup };
  }): Promise<CheckoutResult> {
    const { db, orders, clock, aipay, log, outbox } = this.o;
    const catalog = this.o.catalog.current();
    const created = db.transaction(() => {
      const violation = checkLimits(db, catalog.settings, clock.now(), req);
      if (violation) return { violation };
      let amount = req.item.price;
      if (req.promoCode !== undefined) {
        const check = checkPromo(db, catalog, req.promoCode, req.item.id, req.item.price, clock.now());
        if (!check.ok) return { promo: check };
        amount = check.amount;
      }
      const order = orders.create(
        {
          userId: req.userId,
          terms: termsOf(req.item),
          purpose: req.purpose,
          listPrice: req.item.price,
          promoCode: req.promoCode?.trim().toUpperCase(),
          amount,
          phone: req.phone,
          phoneSource: req.phoneSource,
          language: req.language,
        },
        clock.now(),
      );
      return { order };
    }).immediate();
    if ('violation' in created) return { ok: false, reason: 'limit', violation: created.violation! };
    if ('promo' in created) return { ok: false, reason: 'promo', check: created.promo! };
    const order = created.order!;

    const title = localize(req.item.title, catalog.settings.defaultLanguage, catalog.settings.defaultLanguage);
    try {
      const invoice = await aipay.createInvoice(
        { phone: req.phone, amount: order.amount, description: `${catalog.settings.botName}: ${title}`.slice(0, 250), externalId: order.externalId },
        // A record for the log of attempts, written when the database lets it: never in AiPay's way.
        (a) => {
          const at = clock.now();
          whenUnlocked(() => orders.recordAttempt(order.id, at, a.outcome, a.httpStatus, a.detail), { deadlineMs: RECORD_WAIT_MS }).catch((error: unknown) =>
            log.warn({ err: error, orderId: order.id }, 'invoice attempt not recorded'),
          );
        },
      );
      // A webhook may already have moved the order (paid before we stored the id): keep its state.
      const record = db.transaction(() => {
        if (!orders.move(order.id, 'invoiced', clock.now(), { invoice_id: invoice.invoiceId, invoice_response: invoice.raw, invoiced_at: clock.now() })) {
          db.prepare('UPDATE orders SET invoice_id = coalesce(invoice_id, ?), invoice_response = ? WHERE id = ?').run(invoice.invoiceId, invoice.raw, order.id);
        }
        if (req.message) {
          const m = req.message(order);
          outbox.enqueue(
            { kind: 'message', chatId: req.userId, userId: req.userId, text: m.text, replyMarkup: m.replyMarkup, invoiceOf: order.id },
            { dedupeKey: `invoice-message:${order.id}` },
          );
        }
      });
      await whenUnlocked(() => record(), { deadlineMs: RECORD_WAIT_MS });
      log.info({ orderId: order.id, externalId: order.externalId, invoiceId: invoice.invoiceId, amount: order.amount }, 'invoice created');
      return { ok: true, order: orders.get(order.id)! };
    } catch (error) {
      if (!(error instanceof AipayError)) throw error;
      const record = db.transaction(() => {
        orders.move(order.id, 'failed', clock.now(), { error: error.message.slice(0, 500) });
        outbox.notifyAdmins(
          catalog.settings.admins,
          escapeHtml(
            `⚠️ AiPay could not create an invoice (order ${order.externalId}, ${title}, ${formatMoney(order.amount)}): ${error.message.slice(0, 300)}`,
          ),
          { dedupeKey: `aipay-failed:${order.id}` },
        );
      });
      await whenUnlocked(() => record(), { deadlineMs: RECORD_WAIT_MS });
      log.warn({ orderId: order.id, externalId: order.externalId, outcome: error.attempt.outcome, status: error.attempt.httpStatus }, 'invoice failed');
      return { ok: false, reason: 'aipay', order: orders.get(order.id)!, error };
    }
  }

  /**
   * Grants without an invoice what costs nothing: a free trial (once per customer and plan, ever)
   * or a 100 % promo code. One transaction: the check, the paid order and the access.
   */
  grantFree(req: { userId: number; item: Item; language: Language; promoCode?: string; trial?: boolean }):
    | { ok: true; order: Order }
    | { ok: false; reason: 'trial_used' | 'not_free' }
    | { ok: false; reason: 'promo'; check: Exclude<PromoCheck, { ok: true }> } {
    const { db, orders, clock, outbox } = this.o;
    const catalog = this.o.catalog.current();
    return db
      .transaction(() => {
        const now = clock.now();
        let terms: Terms = termsOf(req.item);
        if (req.trial) {
          if (req.item.kind !== 'plan' || req.item.trialDays <= 0) return { ok: false as const, reason: 'not_free' as const };
          const first = db.prepare('INSERT INTO trials (user_id, plan_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(req.userId, req.item.id, now).changes === 1;
          if (!first) return { ok: false as const, reason: 'trial_used' as const };
          const plan = req.item;
          terms = { kind: 'plan', id: plan.id, title: plan.title, price: 0, period: { unit: 'days', count: plan.trialDays }, periodText: `${plan.trialDays}d`, chats: [...plan.chats] };
        } else {
          const check = checkPromo(db, catalog, req.promoCode ?? '', req.item.id, req.item.price, now);
          if (!check.ok) return { ok: false as const, reason: 'promo' as const, check };
          if (check.amount !== 0) return { ok: false as const, reason: 'not_free' as const };
        }
        const order = orders.create(
          { userId: req.userId, terms, listPrice: req.item.price, promoCode: req.promoCode?.trim().toUpperCase(), amount: 0, language: req.language, state: 'paid' },
          now,
        );
        fulfilOrder({ db, outbox, catalog }, order, now, { trial: req.trial === true });
        return { ok: true as const, order };
      })
      .immediate();
  }

  /** The customer pressed Cancel: the order stops being open (if it is paid anyway, it still counts). */
  cancel(orderId: number, userId: number): Order | undefined {
    const order = this.o.orders.get(orderId);
    if (!order || order.userId !== userId) return undefined;
    this.o.orders.move(orderId, 'cancelled', this.o.clock.now());
    return this.o.orders.get(orderId);
  }

  orders(): Orders {
    return this.o.orders;
  }
}
