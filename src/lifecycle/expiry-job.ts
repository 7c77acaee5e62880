import { InlineKeyboard } from 'grammy';
import { prepared } from '../storage/prepared.js';
import { localize, text } from '../catalog/texts.js';
import type { Catalog, Channel, Language, TextInput } from '../catalog/types.js';
import { newInvoiceKeyboard } from '../access/fulfil-order.js';
import { isEntitled } from '../access/entitlement.js';
import { encodeCallback } from '../bot/callback-data.js';
import { escapeHtml } from '../bot/html.js';
import type { Logger } from '../logger.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Db } from '../storage/open-database.js';

export interface EndingSubscription {
  id: number;
  userId: number;
  planId: string;
  endsAt: number;
  /** The chats its terms grant (frozen at checkout). */
  chats: Channel[];
  title: unknown;
  language: Language | null;
}

/** Subscriptions whose end plus the grace period has passed (streamed). Pure in rows and `now`. */
export function* endingSubscriptions(db: Db, graceMs: number, now: number): Generator<EndingSubscription> {
  const rows = prepared<[number], { id: number; user_id: number; plan_id: string; terms: string; ends_at: number; language: Language | null }>(db, 
      `SELECT s.id, s.user_id, s.plan_id, s.terms, s.ends_at, c.language
       FROM subscriptions s JOIN customers c ON c.user_id = s.user_id
       WHERE s.state = 'active' AND s.ends_at <= ?`,
    )
    .iterate(now - graceMs);
  for (const r of rows) {
    const terms = JSON.parse(r.terms) as { title: unknown; chats?: Channel[] };
    yield { id: r.id, userId: r.user_id, planId: r.plan_id, endsAt: r.ends_at, chats: terms.chats ?? [], title: terms.title, language: r.language };
  }
}

/**
 * What follows the end of a subscription, in the transaction that ended it: removal (through the
 * outbox) from each of its chats that nothing else the customer holds still covers (by chat id:
 * also a chat renamed or removed in the catalog since), and the "has ended" message with a Renew
 * button (Menu, when the plan is gone). Returns the chat ids the customer is removed from.
 */
export function announceEnd(
  d: { db: Db; outbox: Outbox; catalog: Catalog },
  s: { userId: number; planId: string; title: unknown; chats: readonly Channel[]; language: Language | null },
  now: number,
  dedupe: { remove: (chatId: number) => string; message: string },
): number[] {
  const { db, outbox, catalog } = d;
  const removedFrom: number[] = [];
  for (const { chatId } of s.chats) {
    if (removedFrom.includes(chatId) || isEntitled(db, catalog, s.userId, chatId, now)) continue;
    outbox.enqueue({ kind: 'remove_member', chatId, userId: s.userId }, { dedupeKey: dedupe.remove(chatId) });
    removedFrom.push(chatId);
  }
  const lang = s.language && catalog.settings.languages.includes(s.language) ? s.language : catalog.settings.defaultLanguage;
  const plan = localize(s.title as never, lang, catalog.settings.defaultLanguage);
  const keyboard = catalog.plans.has(s.planId)
    ? new InlineKeyboard().text(text(catalog, lang, 'button_renew'), encodeCallback({ type: 'renew', id: s.planId }))
    : new InlineKeyboard().text(text(catalog, lang, 'button_menu'), encodeCallback({ type: 'menu' }));
  outbox.enqueue(
    { kind: 'message', chatId: s.userId, userId: s.userId, text: escapeHtml(text(catalog, lang, 'subscription_ended', { plan })), replyMarkup: { inline_keyboard: keyboard.inline_keyboard } },
    { dedupeKey: dedupe.message },
  );
  return removedFrom;
}

/**
 * Ends what is due: marks the subscription ended, removes the customer from each of its channels
 * that nothing else they hold still covers (ban, then unban only_if_banned, via the outbox), and
 * tells them with a Renew button. One transaction per subscription; people without a
 * subscription are never touched. Trials end the same way; lifetime purchases never end.
 */
export function runExpiry(d: { db: Db; outbox: Outbox; catalog: Catalog; log: Logger }, now: number): number {
  const { db, log } = d;
  const ending = [...endingSubscriptions(db, d.catalog.settings.graceMs, now)];
  for (const s of ending) {
    db.transaction(() => {
      if (prepared(db, "UPDATE subscriptions SET state = 'ended', ended_at = ?, updated_at = ? WHERE id = ? AND state = 'active'").run(now, now, s.id).changes !== 1) return;
      announceEnd(d, s, now, { remove: (chatId) => `remove:${s.id}:${s.endsAt}:${chatId}`, message: `ended:${s.id}:${s.endsAt}` });
    })();
  }
  if (ending.length > 0) log.info({ ended: ending.length }, 'subscriptions ended');
  return ending.length;
}

/** Extra wait after an invoice's lifetime before an unanswered order counts as stale. */
export const STALE_MARGIN_MS = 15 * 60_000;

/**
 * Orders with no event long after their invoice's lifetime become stale (a late `paid` still
 * wins). AiPay promises no retries, so a lost webhook would go unnoticed: each customer is told,
 * once per order and in their language, that no payment arrived, with "I have paid" (which asks
 * the admins to check Kaspi and confirm: see paid-checks) and "New invoice". A customer who
 * already pressed "I have paid" is not asked again. One transaction for the state changes and the
 * messages. Returns how many orders went stale.
 */
export function runStaleInvoices(d: { db: Db; outbox: Outbox; catalog: Catalog; log: Logger }, now: number): number {
  const { db, outbox, catalog } = d;
  const cutoff = now - catalog.settings.invoiceLifetimeMs - STALE_MARGIN_MS;
  // Read first: the common case (nothing stale) then takes no write lock at all.
  const stale = prepared<[number], { id: number; user_id: number; item_id: string; terms: string; language: Language; paid_check_at: number | null }>(
    db,
    "SELECT id, user_id, item_id, terms, language, paid_check_at FROM orders WHERE state IN ('created', 'invoiced') AND created_at < ?",
  ).all(cutoff);
  if (stale.length === 0) return 0;
  let changed = 0;
  db.transaction(() => {
    for (const o of stale) {
      if (prepared(db, "UPDATE orders SET state = 'stale', updated_at = ? WHERE id = ? AND state IN ('created', 'invoiced')").run(now, o.id).changes !== 1) continue;
      changed++;
      if (o.paid_check_at !== null) continue;
      const lang = catalog.settings.languages.includes(o.language) ? o.language : catalog.settings.defaultLanguage;
      const item = localize((JSON.parse(o.terms) as { title: TextInput }).title, lang, catalog.settings.defaultLanguage);
      const paid = new InlineKeyboard().text(text(catalog, lang, 'button_paid'), encodeCallback({ type: 'paid', orderId: o.id })).inline_keyboard;
      outbox.enqueue(
        {
          kind: 'message',
          chatId: o.user_id,
          userId: o.user_id,
          text: escapeHtml(text(catalog, lang, 'invoice_stale', { item })),
          replyMarkup: { inline_keyboard: [...paid, ...newInvoiceKeyboard(catalog, lang, o.item_id).inline_keyboard] },
          optional: true,
        },
        { dedupeKey: `stale:${o.id}` },
      );
    }
  })();
  if (changed > 0) d.log.info({ stale: changed }, 'invoices went stale');
  return changed;
}
