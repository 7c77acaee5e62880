import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';
import { audit } from './audit.js';

export interface Forgotten {
  /** Phone numbers scrubbed (saved and used on orders). */
  phones: number;
  orders: number;
}

/**
 * Deletes a customer's personal data in one transaction and keeps anonymous payment records:
 * name, username and phone become NULL (renewal invoices off, as they need the phone); the phone
 * of every order goes, and so does every copy of it in stored AiPay answers and events, invoice
 * attempts and outbox payloads; a checkout in progress (it holds Telegram's copy of their name) is
 * dropped. Ids, amounts, plans and dates stay. Audited with the id only.
 */
export function forgetCustomer(db: Db, o: { adminId: number; userId: number; now: number }): Forgotten {
  const { userId, now } = o;
  return db
    .transaction((): Forgotten => {
      const phones = prepared<[number, number], { phone: string }>(
        db,
        'SELECT phone FROM customers WHERE user_id = ? AND phone IS NOT NULL UNION SELECT phone FROM orders WHERE user_id = ? AND phone IS NOT NULL',
      )
        .all(userId, userId)
        .map((r) => r.phone);
      for (const phone of phones) {
        // Every stored copy, whatever JSON or text it sits in. Phones are 11 digits: no false hits.
        prepared(db, "UPDATE orders SET invoice_response = replace(invoice_response, ?, '') WHERE user_id = ? AND instr(invoice_response, ?) > 0").run(phone, userId, phone);
        prepared(db, "UPDATE aipay_events SET body = replace(body, ?, '') WHERE instr(body, ?) > 0").run(phone, phone);
        prepared(db, "UPDATE invoice_attempts SET detail = replace(detail, ?, '') WHERE order_id IN (SELECT id FROM orders WHERE user_id = ?) AND instr(detail, ?) > 0").run(phone, userId, phone);
        prepared(db, "UPDATE outbox SET payload = replace(payload, ?, '') WHERE instr(payload, ?) > 0").run(phone, phone);
      }
      const orders = prepared(db, 'UPDATE orders SET phone = NULL, phone_source = NULL WHERE user_id = ? AND phone IS NOT NULL').run(userId).changes;
      prepared(db, 'UPDATE customers SET first_name = NULL, last_name = NULL, username = NULL, phone = NULL, renewal_invoices = 0, updated_at = ? WHERE user_id = ?').run(now, userId);
      prepared(db, 'DELETE FROM kv WHERE key = ?').run(`conv:${userId}`);
      audit(db, o.adminId, 'forget', { userId, phones: phones.length, orders }, now);
      return { phones: phones.length, orders };
    })
    .immediate();
}
