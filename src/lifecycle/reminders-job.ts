import { InlineKeyboard } from 'grammy';
import { prepared } from '../storage/prepared.js';
import { DAY } from '../catalog/duration.js';
import { formatDate, formatMoney, maskPhone } from '../catalog/format.js';
import { localize, text } from '../catalog/texts.js';
import type { Catalog, Language } from '../catalog/types.js';
import { encodeCallback } from '../bot/callback-data.js';
import { escapeHtml } from '../bot/html.js';
import type { Logger } from '../logger.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Checkout } from '../payments/checkout.js';
import type { Db } from '../storage/open-database.js';
import { DatabaseBusy, toStoreError } from '../storage/errors.js';
import { whenUnlocked } from '../storage/when-unlocked.js';
import { planReminder, type ReminderRules } from './plan-reminder.js';

interface Row {
  id: number;
  user_id: number;
  plan_id: string;
  terms: string;
  ends_at: number;
  trial: number;
  handled: string | null;
  language: Language | null;
  phone: string | null;
  renewal_invoices: number | null;
}

export interface DueReminder {
  subscriptionId: number;
  userId: number;
  planId: string;
  endsAt: number;
  offset: number;
  skip: number[];
  title: unknown;
  language: Language | null;
  /** The saved phone, when the customer chose renewal invoices and the plan allows them. */
  renewalPhone: string | null;
}

/**
 * Reminders due now, streamed from the database (only subscriptions ending within the largest
 * offset are read). A pure decision per row: {@link planReminder}.
 */
export function* dueReminders(db: Db, catalog: Catalog, now: number): Generator<DueReminder> {
  const s = catalog.settings;
  if (s.reminders.daysBeforeEnd.length === 0) return;
  const rules: ReminderRules = { daysBeforeEnd: s.reminders.daysBeforeEnd, time: s.reminders.time, quietHours: s.reminders.quietHours, timeZone: s.timezone };
  const horizon = now + (Math.max(...s.reminders.daysBeforeEnd) + 2) * DAY;
  const rows = prepared<[number, number], Row>(db, 
      `SELECT s.id, s.user_id, s.plan_id, s.terms, s.ends_at, s.trial,
              (SELECT group_concat(r.offset_days) FROM reminders r WHERE r.subscription_id = s.id AND r.ends_at = s.ends_at) AS handled,
              c.language, c.phone, c.renewal_invoices
       FROM subscriptions s JOIN customers c ON c.user_id = s.user_id
       WHERE s.state = 'active' AND s.ends_at > ? AND s.ends_at <= ? AND c.blocked = 0`,
    )
    .iterate(now, horizon);
  for (const r of rows) {
    const handled = new Set((r.handled ?? '').split(',').filter(Boolean).map(Number));
    const decision = planReminder(r.ends_at, handled, rules, now);
    if (!decision) continue;
    const plan = catalog.plans.get(r.plan_id);
    const renewal = plan?.renewalInvoices === true && r.renewal_invoices === 1 && r.phone !== null && r.trial === 0;
    yield {
      subscriptionId: r.id,
      userId: r.user_id,
      planId: r.plan_id,
      endsAt: r.ends_at,
      offset: decision.offset,
      skip: decision.skip,
      title: (JSON.parse(r.terms) as { title: unknown }).title,
      language: r.language,
      renewalPhone: renewal ? r.phone : null,
    };
  }
}

export interface RemindersJobDeps {
  db: Db;
  outbox: Outbox;
  catalog: Catalog;
  checkout: Checkout;
  log: Logger;
}

/**
 * Sends the reminders due now through the outbox, each at most once per subscription end and
 * offset (the reminders row is the proof, written in the same transaction as the job). For
 * customers who chose renewal invoices, the bot first creates the Kaspi invoice itself (at most
 * one open renewal invoice per subscription) and the reminder says so.
 *
 * A reminder is claimed before the (slow) invoice and queued after it, so what comes after the
 * claim must not fail on a database that another process locked meanwhile: the invoice's own
 * writes failing leaves a plain reminder, and queueing waits for the lock (up to a minute).
 */
export async function runReminders(d: RemindersJobDeps, now: number): Promise<number> {
  const { db, outbox, catalog, log } = d;
  const due = [...dueReminders(db, catalog, now)];
  let sent = 0;
  for (const r of due) {
    const claimed = db.transaction(() => {
      const mark = prepared(db, 'INSERT INTO reminders (subscription_id, ends_at, offset_days, state, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
      for (const k of r.skip) mark.run(r.subscriptionId, r.endsAt, k, 'skipped', now);
      return mark.run(r.subscriptionId, r.endsAt, r.offset, 'sent', now).changes === 1;
    })();
    if (!claimed) continue;
    const lang = r.language && catalog.settings.languages.includes(r.language) ? r.language : catalog.settings.defaultLanguage;
    const plan = localize(r.title as never, lang, catalog.settings.defaultLanguage);
    const t = (key: string, vars: Record<string, string | number> = {}) => text(catalog, lang, key, vars);
    const endsAt = formatDate(r.endsAt, lang, catalog.settings.timezone);
    let message = r.offset === 0 ? t('reminder_today', { plan }) : t('reminder', { plan, ends_at: endsAt });
    const current = catalog.plans.get(r.planId);
    if (r.renewalPhone && current) {
      const open = prepared(db, "SELECT count(*) FROM orders WHERE user_id = ? AND item_id = ? AND purpose = 'renewal' AND state IN ('created', 'invoiced') AND created_at > ?")
        .pluck()
        .get(r.userId, r.planId, now - catalog.settings.invoiceLifetimeMs) as number;
      if (open === 0) {
        const result = await d.checkout
          .invoice({ userId: r.userId, item: current, phone: r.renewalPhone, phoneSource: 'saved', language: lang, purpose: 'renewal' })
          .catch((error: unknown) => {
            if (!(toStoreError(error) instanceof DatabaseBusy)) throw error;
            return { ok: false as const, reason: 'database locked' };
          });
        if (result.ok) message = t('reminder_invoice', { plan, ends_at: endsAt, price: formatMoney(result.order.amount), phone: maskPhone(r.renewalPhone) });
        else log.warn({ subscriptionId: r.subscriptionId, reason: result.reason }, 'renewal invoice not created');
      }
    }
    const keyboard = current
      ? new InlineKeyboard().text(t('button_renew'), encodeCallback({ type: 'renew', id: r.planId }))
      : new InlineKeyboard().text(t('button_menu'), encodeCallback({ type: 'menu' }));
    await whenUnlocked(
      () =>
        outbox.enqueue(
          { kind: 'message', chatId: r.userId, userId: r.userId, text: escapeHtml(message), replyMarkup: { inline_keyboard: keyboard.inline_keyboard } },
          { dedupeKey: `reminder:${r.subscriptionId}:${r.endsAt}:${r.offset}`, sendClass: 'reminder' },
        ),
      { deadlineMs: 60_000 },
    );
    sent++;
  }
  if (sent > 0) log.info({ sent }, 'reminders sent');
  return sent;
}
