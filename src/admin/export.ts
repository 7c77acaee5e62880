import { localize } from '../catalog/texts.js';
import { localDate, toLocal } from '../catalog/time-zone.js';
import type { Catalog, TextInput } from '../catalog/types.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';
import { toCsv, type CsvValue } from './csv.js';

/** "2026-11-27 18:30" in the catalog's zone (sorts and opens well in a spreadsheet). */
export function localDateTime(ms: number | null, timeZone: string): string {
  if (ms === null) return '';
  const l = toLocal(ms, timeZone);
  return `${localDate(ms, timeZone)} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
}

export interface ExportFile {
  filename: string;
  csv: string;
  /** Data rows (the header not counted). */
  rows: number;
}

function csvFile<R>(filename: string, header: readonly string[], rows: Iterable<R>, fields: (r: R) => CsvValue[]): ExportFile {
  let n = 0;
  const csv = toCsv(
    header,
    (function* () {
      for (const r of rows) {
        n++;
        yield fields(r);
      }
    })(),
  );
  return { filename, csv, rows: n };
}

interface CustomerRow {
  user_id: number;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  language: string | null;
  phone: string | null;
  blocked: number;
  renewal_invoices: number;
  created_at: number;
}

interface SubscriptionRow {
  user_id: number;
  plan_id: string;
  terms: string;
  starts_at: number;
  ends_at: number;
  state: string;
  ended_at: number | null;
  trial: number;
}

interface OrderRow {
  id: number;
  external_id: string;
  user_id: number;
  item_kind: string;
  item_id: string;
  terms: string;
  purpose: string;
  list_price: number;
  promo_code: string | null;
  amount: number;
  state: string;
  paid_via: string | null;
  phone: string | null;
  invoice_id: string | null;
  created_at: number;
  paid_at: number | null;
}

/**
 * The three files of /export: customers, subscriptions (telegram_id, plan and end_date first, so
 * its active rows can go straight back into /import) and payments (every order, with its state).
 * Times are local to the catalog's zone.
 */
export function exportAll(db: Db, catalog: Catalog): ExportFile[] {
  const tz = catalog.settings.timezone;
  const lang = catalog.settings.defaultLanguage;
  const titleOf = (terms: string) => localize((JSON.parse(terms) as { title: TextInput }).title, lang, lang);
  return [
    csvFile(
      'customers.csv',
      ['telegram_id', 'username', 'first_name', 'last_name', 'language', 'phone', 'blocked', 'renewal_invoices', 'first_seen'],
      prepared<[], CustomerRow>(db, 'SELECT * FROM customers ORDER BY user_id').iterate(),
      (r) => [r.user_id, r.username, r.first_name, r.last_name, r.language, r.phone, r.blocked, r.renewal_invoices, localDateTime(r.created_at, tz)],
    ),
    csvFile(
      'subscriptions.csv',
      ['telegram_id', 'plan', 'end_date', 'state', 'trial', 'plan_title', 'price', 'period', 'starts_at', 'ends_at', 'ended_at'],
      prepared<[], SubscriptionRow>(db, "SELECT * FROM subscriptions ORDER BY state = 'active' DESC, user_id, plan_id, id").iterate(),
      (r) => {
        const terms = JSON.parse(r.terms) as { price?: number; periodText?: string };
        return [
          r.user_id,
          r.plan_id,
          localDate(r.ends_at, tz),
          r.state,
          r.trial,
          titleOf(r.terms),
          terms.price,
          terms.periodText,
          localDateTime(r.starts_at, tz),
          localDateTime(r.ends_at, tz),
          localDateTime(r.ended_at, tz),
        ];
      },
    ),
    csvFile(
      'payments.csv',
      ['order_id', 'external_id', 'telegram_id', 'kind', 'item', 'item_title', 'purpose', 'list_price', 'promo_code', 'amount', 'state', 'paid_via', 'phone', 'invoice_id', 'created_at', 'paid_at'],
      prepared<[], OrderRow>(db, 'SELECT * FROM orders ORDER BY id').iterate(),
      (r) => [
        r.id,
        r.external_id,
        r.user_id,
        r.item_kind,
        r.item_id,
        titleOf(r.terms),
        r.purpose,
        r.list_price,
        r.promo_code,
        r.amount,
        r.state,
        r.paid_via,
        r.phone,
        r.invoice_id,
        localDateTime(r.created_at, tz),
        localDateTime(r.paid_at, tz),
      ],
    ),
  ];
}
