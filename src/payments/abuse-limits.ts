import type { Settings } from '../catalog/types.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type LimitViolation =
  | { kind: 'open_invoices'; count: number }
  | { kind: 'attempts'; retryAt: number }
  | { kind: 'phones' };

/**
 * The catalog's abuse limits, so the bot cannot be used to spam Kaspi invoices to strangers:
 * open invoices per customer, invoices per hour per customer and per phone, distinct typed
 * phones per customer per day. Reads only; call inside the transaction that creates the order.
 */
export function checkLimits(
  db: Db,
  settings: Settings,
  now: number,
  q: { userId: number; phone?: string; phoneSource?: 'contact' | 'typed' | 'saved' },
): LimitViolation | undefined {
  const { limits } = settings;
  const openSince = now - settings.invoiceLifetimeMs;
  const open = prepared(db, "SELECT count(*) FROM orders WHERE user_id = ? AND state IN ('created', 'invoiced') AND created_at > ?")
    .pluck()
    .get(q.userId, openSince) as number;
  if (open >= limits.openInvoicesPerCustomer) return { kind: 'open_invoices', count: open };

  const hourAgo = now - HOUR;
  const byUser = prepared(db, "SELECT count(*) AS n, min(created_at) AS first FROM orders WHERE user_id = ? AND created_at > ? AND paid_via IS NOT 'free'")
    .get(q.userId, hourAgo) as { n: number; first: number | null };
  if (byUser.n >= limits.invoicesPerHour) return { kind: 'attempts', retryAt: byUser.first! + HOUR };
  if (q.phone) {
    const byPhone = prepared(db, "SELECT count(*) AS n, min(created_at) AS first FROM orders WHERE phone = ? AND created_at > ?")
      .get(q.phone, hourAgo) as { n: number; first: number | null };
    if (byPhone.n >= limits.invoicesPerHour) return { kind: 'attempts', retryAt: byPhone.first! + HOUR };
  }
  if (q.phone && q.phoneSource === 'typed') {
    const phones = prepared(db, "SELECT DISTINCT phone FROM orders WHERE user_id = ? AND phone_source = 'typed' AND created_at > ?")
      .pluck()
      .all(q.userId, now - DAY) as string[];
    if (!phones.includes(q.phone) && phones.length >= limits.phonesPerDay) return { kind: 'phones' };
  }
  return undefined;
}
