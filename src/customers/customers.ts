import type { Db } from '../storage/open-database.js';
import type { Language } from '../catalog/types.js';

export interface Customer {
  userId: number;
  username: string | null;
  firstName: string | null;
  lastName: string | null;
  language: Language | null;
  phone: string | null;
  renewalInvoices: boolean;
  blocked: boolean;
}

interface Row {
  user_id: number;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  language: Language | null;
  phone: string | null;
  renewal_invoices: number;
  blocked: number;
}

const fromRow = (r: Row): Customer => ({
  userId: r.user_id,
  username: r.username,
  firstName: r.first_name,
  lastName: r.last_name,
  language: r.language,
  phone: r.phone,
  renewalInvoices: r.renewal_invoices === 1,
  blocked: r.blocked === 1,
});

/** Customers the bot has seen: who they are, their language and saved Kaspi phone. */
export class Customers {
  readonly #upsert;
  readonly #get;
  readonly #setLanguage;
  readonly #setPhone;
  readonly #setBlocked;
  readonly #setRenewal;

  constructor(private readonly db: Db) {
    this.#upsert = db.prepare(`
      INSERT INTO customers (user_id, username, first_name, last_name, created_at, updated_at, blocked)
      VALUES (@userId, @username, @firstName, @lastName, @now, @now, 0)
      ON CONFLICT (user_id) DO UPDATE SET
        username = excluded.username, first_name = excluded.first_name, last_name = excluded.last_name,
        blocked = 0, updated_at = excluded.updated_at
      WHERE username IS NOT excluded.username OR first_name IS NOT excluded.first_name
         OR last_name IS NOT excluded.last_name OR blocked = 1`);
    this.#get = db.prepare<[number], Row>('SELECT * FROM customers WHERE user_id = ?');
    this.#setLanguage = db.prepare('UPDATE customers SET language = ?, updated_at = ? WHERE user_id = ?');
    this.#setPhone = db.prepare('UPDATE customers SET phone = ?, updated_at = ? WHERE user_id = ?');
    this.#setBlocked = db.prepare('UPDATE customers SET blocked = ?, updated_at = ? WHERE user_id = ?');
    this.#setRenewal = db.prepare('UPDATE customers SET renewal_invoices = ?, updated_at = ? WHERE user_id = ?');
  }

  /** Records a user who wrote to the bot (and clears the blocked flag: they are back). */
  seen(user: { id: number; username?: string; first_name: string; last_name?: string }, now: number): void {
    this.#upsert.run({
      userId: user.id,
      username: user.username ?? null,
      firstName: user.first_name,
      lastName: user.last_name ?? null,
      now,
    });
  }

  get(userId: number): Customer | undefined {
    const row = this.#get.get(userId);
    return row && fromRow(row);
  }

  setLanguage(userId: number, language: Language, now: number): void {
    this.#setLanguage.run(language, now, userId);
  }

  setPhone(userId: number, phone: string, now: number): void {
    this.#setPhone.run(phone, now, userId);
  }

  setBlocked(userId: number, blocked: boolean, now: number): void {
    this.#setBlocked.run(blocked ? 1 : 0, now, userId);
  }

  setRenewalInvoices(userId: number, on: boolean, now: number): void {
    this.#setRenewal.run(on ? 1 : 0, now, userId);
  }
}
