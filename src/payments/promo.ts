import { localDate } from '../catalog/time-zone.js';
import { prepared } from '../storage/prepared.js';
import type { Catalog, PromoCode } from '../catalog/types.js';
import type { Db } from '../storage/open-database.js';

export type PromoCheck =
  | { ok: true; promo: PromoCode; amount: number }
  | { ok: false; reason: 'invalid' | 'expired' | 'not_applicable' | 'used_up'; code: string }
  | { ok: false; reason: 'not_started'; code: string; date: string };

/** A price after a promo code: percent rounded to whole tenge, never below zero. */
export function discounted(price: number, promo: PromoCode): number {
  if (promo.percent !== undefined) return Math.max(0, Math.round((price * (100 - promo.percent)) / 100));
  return Math.max(0, price - (promo.amount ?? 0));
}

/**
 * Whether `code` can be used for `itemId` now: known (any case), started and not ended (local dates
 * in the catalog's zone, inclusive), for this item, and not used up. Uses are paid orders plus
 * invoices that can still be paid (a cancelled one too, until its lifetime ends); call inside the transaction that creates the order, so the last use cannot
 * be taken twice.
 */
export function checkPromo(db: Db, catalog: Catalog, code: string, itemId: string, price: number, now: number): PromoCheck {
  const normalized = code.trim().toUpperCase();
  const promo = catalog.promoCodes.get(normalized);
  if (!promo) return { ok: false, reason: 'invalid', code: code.trim().slice(0, 32) };
  const today = localDate(now, catalog.settings.timezone);
  if (promo.validFrom !== undefined && today < promo.validFrom) return { ok: false, reason: 'not_started', code: promo.code, date: promo.validFrom };
  if (promo.validUntil !== undefined && today > promo.validUntil) return { ok: false, reason: 'expired', code: promo.code };
  if (promo.items !== undefined && !promo.items.includes(itemId)) return { ok: false, reason: 'not_applicable', code: promo.code };
  if (promo.maxUses !== undefined) {
    const used = prepared(db, 
        "SELECT count(*) FROM orders WHERE promo_code = ? AND (state = 'paid' OR (state IN ('created', 'invoiced', 'cancelled') AND created_at > ?))",
      )
      .pluck()
      .get(promo.code, now - catalog.settings.invoiceLifetimeMs) as number;
    if (used >= promo.maxUses) return { ok: false, reason: 'used_up', code: promo.code };
  }
  return { ok: true, promo, amount: discounted(price, promo) };
}
