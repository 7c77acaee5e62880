import { formatDate, formatDateTime, formatMoney, maskPhone } from '../catalog/format.js';
import { localize } from '../catalog/texts.js';
import type { Catalog, TextInput } from '../catalog/types.js';
import { escapeHtml } from '../bot/html.js';
import { normalizePhone } from '../payments/phone.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';

export type LookupKind = 'id' | 'username' | 'phone';

export interface LookupResult {
  /** How the query was read (`invalid`: neither an id, a @username nor a phone). */
  by: LookupKind | 'id_or_phone' | 'invalid';
  userIds: number[];
}

const USERNAME = /^@?([A-Za-z][A-Za-z0-9_]{3,31})$/;

/**
 * Customers the bot has seen who match `query`: a Telegram user id, a @username (any case), or
 * a phone number in any common form (+7 701 123 45 67, 8 701…, 7011234567), matched against the
 * saved phone and the phones of their orders. Digits that read as both an id and a phone match both.
 */
export function findCustomers(db: Db, query: string): LookupResult {
  const q = query.trim();
  const byId = (id: number) => (prepared<[number], { user_id: number }>(db, 'SELECT user_id FROM customers WHERE user_id = ?').get(id) ? [id] : []);
  const byPhone = (phone: string) =>
    prepared<[string, string], { user_id: number }>(
      db,
      'SELECT user_id FROM customers WHERE phone = ? UNION SELECT user_id FROM orders WHERE phone = ? ORDER BY user_id',
    )
      .all(phone, phone)
      .map((r) => r.user_id);
  if (/^\d{1,16}$/.test(q)) {
    const ids = Number.isSafeInteger(Number(q)) ? byId(Number(q)) : [];
    const phone = normalizePhone(q);
    const phones = phone.ok ? byPhone(phone.phone) : [];
    const userIds = [...new Set([...ids, ...phones])];
    return { by: phone.ok ? 'id_or_phone' : 'id', userIds };
  }
  const username = USERNAME.exec(q);
  if (username) {
    const rows = prepared<[string], { user_id: number }>(db, 'SELECT user_id FROM customers WHERE username = ? COLLATE NOCASE ORDER BY user_id').all(username[1]!);
    return { by: 'username', userIds: rows.map((r) => r.user_id) };
  }
  const phone = normalizePhone(q);
  if (phone.ok) return { by: 'phone', userIds: byPhone(phone.phone) };
  return { by: 'invalid', userIds: [] };
}

/** "Aruzhan Sarsen (@aru)" or "user 123", for admin messages (plain text, not escaped). */
export function customerLabel(db: Db, userId: number): string {
  const c = prepared<[number], { first_name: string | null; last_name: string | null; username: string | null }>(
    db,
    'SELECT first_name, last_name, username FROM customers WHERE user_id = ?',
  ).get(userId);
  const name = [c?.first_name, c?.last_name].filter(Boolean).join(' ');
  const parts = [name || `user ${userId}`];
  if (c?.username) parts.push(`(@${c.username})`);
  return parts.join(' ');
}

const titleOf = (catalog: Catalog, terms: string) => localize((JSON.parse(terms) as { title: TextInput }).title, 'en', catalog.settings.defaultLanguage);

/** Everything an admin needs about one customer, as HTML: who, what they have, their last orders. */
export function customerCard(db: Db, catalog: Catalog, userId: number): string {
  const tz = catalog.settings.timezone;
  const c = prepared<
    [number],
    { user_id: number; username: string | null; first_name: string | null; last_name: string | null; language: string | null; phone: string | null; blocked: number; created_at: number }
  >(db, 'SELECT * FROM customers WHERE user_id = ?').get(userId);
  if (!c) return escapeHtml(`No customer ${userId}.`);
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ') || '(no name)';
  const lines = [`👤 <b>${escapeHtml(name)}</b> — id <code>${c.user_id}</code>`];
  const facts = [
    c.username ? `@${c.username}` : 'no username',
    `language ${c.language ?? '—'}`,
    `phone ${c.phone ? maskPhone(c.phone) : '—'}`,
    `since ${formatDate(c.created_at, 'en', tz)}`,
  ];
  if (c.blocked) facts.push('blocked the bot');
  lines.push(escapeHtml(facts.join(' · ')));

  const subs = prepared<[number], { plan_id: string; terms: string; ends_at: number; state: string; trial: number }>(
    db,
    "SELECT plan_id, terms, ends_at, state, trial FROM subscriptions WHERE user_id = ? ORDER BY state = 'active' DESC, ends_at DESC LIMIT 10",
  ).all(userId);
  lines.push('', '<b>Subscriptions</b>');
  if (subs.length === 0) lines.push('none');
  for (const s of subs) {
    const when = s.state === 'active' ? `active until ${formatDateTime(s.ends_at, 'en', tz)}` : `ended ${formatDate(s.ends_at, 'en', tz)}`;
    lines.push(escapeHtml(`• ${titleOf(catalog, s.terms)} (${s.plan_id}): ${when}${s.trial ? ' — trial' : ''}`));
  }

  const purchases = prepared<[number], { product_id: string; terms: string; created_at: number }>(
    db,
    'SELECT product_id, terms, created_at FROM purchases WHERE user_id = ? ORDER BY created_at DESC LIMIT 10',
  ).all(userId);
  if (purchases.length > 0) {
    lines.push('', '<b>Purchases</b>');
    for (const p of purchases) lines.push(escapeHtml(`• ${titleOf(catalog, p.terms)} (${p.product_id}): ${formatDate(p.created_at, 'en', tz)}`));
  }

  const orders = prepared<[number], { id: number; external_id: string; terms: string; amount: number; state: string; paid_via: string | null; created_at: number }>(
    db,
    'SELECT id, external_id, terms, amount, state, paid_via, created_at FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 5',
  ).all(userId);
  lines.push('', '<b>Last orders</b>');
  if (orders.length === 0) lines.push('none');
  for (const o of orders) {
    const via = o.paid_via ? ` (${o.paid_via})` : '';
    lines.push(escapeHtml(`• #${o.id} ${titleOf(catalog, o.terms)} — ${formatMoney(o.amount)} — ${o.state}${via} — ${formatDateTime(o.created_at, 'en', tz)}`));
  }
  return lines.join('\n');
}
