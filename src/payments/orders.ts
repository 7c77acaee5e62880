import { randomBytes } from 'node:crypto';
import { prepared } from '../storage/prepared.js';
import type { Language } from '../catalog/types.js';
import type { Db } from '../storage/open-database.js';
import { canMove, type OrderState } from './order-state.js';
import type { Terms } from './terms.js';

export type Currency = 'KZT' | 'XTR';

export interface Order {
  id: number;
  externalId: string;
  userId: number;
  itemKind: 'plan' | 'product';
  itemId: string;
  purpose: 'purchase' | 'renewal';
  terms: Terms;
  listPrice: number;
  promoCode: string | null;
  amount: number;
  /** 'KZT' (Kaspi, amount in tenge) or 'XTR' (Telegram Stars, amount in Stars). */
  currency: Currency;
  phone: string | null;
  language: Language;
  state: OrderState;
  invoiceId: string | null;
  chatId: number | null;
  messageId: number | null;
  paidCheckAt: number | null;
  paidVia: 'webhook' | 'manual' | 'free' | null;
  createdAt: number;
  paidAt: number | null;
}

interface Row {
  id: number;
  external_id: string;
  user_id: number;
  item_kind: 'plan' | 'product';
  item_id: string;
  purpose: 'purchase' | 'renewal';
  terms: string;
  list_price: number;
  promo_code: string | null;
  amount: number;
  currency: Currency;
  phone: string | null;
  language: Language;
  state: OrderState;
  invoice_id: string | null;
  chat_id: number | null;
  message_id: number | null;
  paid_check_at: number | null;
  paid_via: 'webhook' | 'manual' | 'free' | null;
  created_at: number;
  paid_at: number | null;
}

const fromRow = (r: Row): Order => ({
  id: r.id,
  externalId: r.external_id,
  userId: r.user_id,
  itemKind: r.item_kind,
  itemId: r.item_id,
  purpose: r.purpose,
  terms: JSON.parse(r.terms) as Terms,
  listPrice: r.list_price,
  promoCode: r.promo_code,
  amount: r.amount,
  currency: r.currency,
  phone: r.phone,
  language: r.language,
  state: r.state,
  invoiceId: r.invoice_id,
  chatId: r.chat_id,
  messageId: r.message_id,
  paidCheckAt: r.paid_check_at,
  paidVia: r.paid_via,
  createdAt: r.created_at,
  paidAt: r.paid_at,
});

export interface NewOrder {
  userId: number;
  terms: Terms;
  purpose?: 'purchase' | 'renewal';
  listPrice: number;
  promoCode?: string;
  amount: number;
  /** default 'KZT' */
  currency?: Currency;
  phone?: string;
  phoneSource?: 'contact' | 'typed' | 'saved';
  language: Language;
  /** Initial state (default 'created'; 'paid' for free orders). */
  state?: OrderState;
}

/** An external_id AiPay has never seen: unique per order, never reused. */
export function newExternalId(): string {
  return `sb_${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

/** Orders and their states. Moves are checked against {@link canMove} in the UPDATE itself. */
export class Orders {
  readonly #insert;
  readonly #byId;
  readonly #byExternal;
  readonly #attempt;

  constructor(private readonly db: Db) {
    this.#insert = prepared(db, `
      INSERT INTO orders (external_id, user_id, item_kind, item_id, purpose, terms, list_price, promo_code, amount, currency,
                          phone, phone_source, language, state, created_at, updated_at, paid_at, paid_via)
      VALUES (@externalId, @userId, @itemKind, @itemId, @purpose, @terms, @listPrice, @promoCode, @amount, @currency,
              @phone, @phoneSource, @language, @state, @now, @now, @paidAt, @paidVia)`);
    this.#byId = prepared<[number], Row>(db, 'SELECT * FROM orders WHERE id = ?');
    this.#byExternal = prepared<[string], Row>(db, 'SELECT * FROM orders WHERE external_id = ?');
    this.#attempt = prepared(db, 'INSERT INTO invoice_attempts (order_id, at, outcome, http_status, detail) VALUES (?, ?, ?, ?, ?)');
  }

  create(o: NewOrder, now: number): Order {
    const state = o.state ?? 'created';
    const id = Number(
      this.#insert.run({
        externalId: newExternalId(),
        userId: o.userId,
        itemKind: o.terms.kind,
        itemId: o.terms.id,
        purpose: o.purpose ?? 'purchase',
        terms: JSON.stringify(o.terms),
        listPrice: o.listPrice,
        promoCode: o.promoCode ?? null,
        amount: o.amount,
        currency: o.currency ?? 'KZT',
        phone: o.phone ?? null,
        phoneSource: o.phoneSource ?? null,
        language: o.language,
        state,
        now,
        paidAt: state === 'paid' ? now : null,
        paidVia: state === 'paid' ? 'free' : null,
      }).lastInsertRowid,
    );
    return this.get(id)!;
  }

  get(id: number): Order | undefined {
    const r = this.#byId.get(id);
    return r && fromRow(r);
  }

  byExternalId(externalId: string): Order | undefined {
    const r = this.#byExternal.get(externalId);
    return r && fromRow(r);
  }

  /**
   * Moves an order to `to` if the move is allowed from its current state; sets the extra
   * columns given. Returns false (and changes nothing) when the move is not allowed. Pass the
   * order itself, read in the same transaction, to spare reading it again.
   */
  move(
    order: number | Pick<Order, 'id' | 'state'>,
    to: OrderState,
    now: number,
    set: Partial<Record<'invoice_id' | 'invoice_response' | 'error' | 'paid_via' | 'paid_at' | 'invoiced_at', string | number | null>> = {},
  ): boolean {
    const id = typeof order === 'number' ? order : order.id;
    const from = typeof order === 'number' ? this.#byId.get(id)?.state : order.state;
    if (!from || !canMove(from, to)) return false;
    const columns = Object.keys(set);
    const sql = `UPDATE orders SET state = @to, updated_at = @now${columns.map((c) => `, ${c} = @${c}`).join('')} WHERE id = @id AND state = @from`;
    return prepared(this.db, sql).run({ ...set, to, now, id, from }).changes === 1;
  }

  setMessage(id: number, chatId: number, messageId: number): void {
    prepared(this.db, 'UPDATE orders SET chat_id = ?, message_id = ? WHERE id = ?').run(chatId, messageId, id);
  }

  recordAttempt(orderId: number, at: number, outcome: string, httpStatus: number | undefined, detail: string | undefined): void {
    this.#attempt.run(orderId, at, outcome, httpStatus ?? null, detail ?? null);
  }
}
