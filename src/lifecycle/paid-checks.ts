import { InlineKeyboard } from 'grammy';
import { formatMoney } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import type { Catalog } from '../catalog/types.js';
import { encodeCallback } from '../bot/callback-data.js';
import { escapeHtml } from '../bot/html.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Db } from '../storage/open-database.js';

/** How long after "I have paid" the admins are asked, if no webhook came (default 5 min). */
export const PAID_CHECK_DELAY_MS = 5 * 60_000;

export interface PaidCheck {
  id: number;
  externalId: string;
  userId: number;
  amount: number;
  title: unknown;
  phone: string | null;
  paidCheckAt: number;
}

/** Orders whose customer said "I have paid" at least `delayMs` ago and that are still not paid. */
export function duePaidChecks(db: Db, now: number, delayMs = PAID_CHECK_DELAY_MS): PaidCheck[] {
  return db
    .prepare<[number], { id: number; external_id: string; user_id: number; amount: number; terms: string; phone: string | null; paid_check_at: number }>(
      "SELECT id, external_id, user_id, amount, terms, phone, paid_check_at FROM orders WHERE paid_check_at IS NOT NULL AND paid_check_at <= ? AND state != 'paid'",
    )
    .all(now - delayMs)
    .map((r) => ({
      id: r.id,
      externalId: r.external_id,
      userId: r.user_id,
      amount: r.amount,
      title: (JSON.parse(r.terms) as { title: unknown }).title,
      phone: r.phone,
      paidCheckAt: r.paid_check_at,
    }));
}

/** Asks the admins, once per order, to confirm or reject payments no webhook reported. */
export function runPaidChecks(d: { db: Db; outbox: Outbox; catalog: Catalog }, now: number): number {
  const { catalog } = d;
  let asked = 0;
  d.db.transaction(() => {
    for (const c of duePaidChecks(d.db, now)) {
      const title = localize(c.title as never, catalog.settings.defaultLanguage, catalog.settings.defaultLanguage);
      const keyboard = new InlineKeyboard()
        .text('✅ Confirm payment', encodeCallback({ type: 'admin_confirm', orderId: c.id }))
        .text('❌ Reject', encodeCallback({ type: 'admin_reject', orderId: c.id }));
      const text = `🔎 Customer ${c.userId} says they paid ${formatMoney(c.amount)} for ${title} (order ${c.externalId}, phone ending ${c.phone?.slice(-4) ?? '—'}), but AiPay has not reported it. Check Kaspi, then confirm or reject.`;
      const before = asked;
      for (const admin of catalog.settings.admins) {
        if (d.outbox.enqueue({ kind: 'message', chatId: admin, text: escapeHtml(text), replyMarkup: { inline_keyboard: keyboard.inline_keyboard } }, { dedupeKey: `paid-check:${c.id}:${admin}`, sendClass: 'admin' }) !== undefined) {
          asked = before + 1;
        }
      }
    }
  })();
  return asked;
}
