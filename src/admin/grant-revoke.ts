import { enqueueChannelAccess } from '../access/fulfil-order.js';
import { escapeHtml } from '../bot/html.js';
import { formatDate } from '../catalog/format.js';
import { localize, text } from '../catalog/texts.js';
import type { Catalog, Channel, Language, Plan } from '../catalog/types.js';
import type { Outbox } from '../outbox/outbox.js';
import { termsOf } from '../payments/terms.js';
import { cancelReminders, extendSubscription, type Extended } from '../access/extend-subscription.js';
import type { Terms } from '../payments/terms.js';
import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';
import { audit } from './audit.js';
import { announceEnd } from '../lifecycle/expiry-job.js';

export interface AdminAccessDeps {
  db: Db;
  outbox: Outbox;
  catalog: Catalog;
}

/** The language the bot speaks to `userId` in messages it starts (their choice, else the default). */
export function customerLanguage(db: Db, catalog: Catalog, userId: number): Language {
  const stored = prepared<[number], { language: Language | null }>(db, 'SELECT language FROM customers WHERE user_id = ?').get(userId)?.language;
  return stored && catalog.settings.languages.includes(stored) ? stored : catalog.settings.defaultLanguage;
}

/**
 * An admin gives `plan` to a customer without payment, in one transaction: the active
 * subscription is extended from its current end (while access lasts), else a new one starts now;
 * by `days`, or by the plan's period. The period is recorded without an order; channel access and
 * a message to the customer go through the outbox; the action is audited.
 */
export function grantSubscription(d: AdminAccessDeps, o: { adminId: number; userId: number; plan: Plan; days?: number; now: number }): Extended {
  const { db, outbox, catalog } = d;
  const { userId, plan, now } = o;
  return db
    .transaction((): Extended => {
      const terms = termsOf(plan) as Extract<Terms, { kind: 'plan' }>;
      const extension = extendSubscription(db, {
        userId,
        terms,
        orderId: null,
        graceMs: catalog.settings.graceMs,
        timeZone: catalog.settings.timezone,
        now,
        days: o.days,
      });
      const { subscriptionId, periodId, from, to, extended } = extension;
      const lang = customerLanguage(db, catalog, userId);
      const title = localize(plan.title, lang, catalog.settings.defaultLanguage);
      const words = text(catalog, lang, 'my_subscription', { plan: title, ends_at: formatDate(to, lang, catalog.settings.timezone) });
      outbox.enqueue({ kind: 'message', chatId: userId, userId, text: escapeHtml(`✅ ${words}`) }, { dedupeKey: `admin-grant:${periodId}:message` });
      enqueueChannelAccess(d, userId, lang, terms.chats, `grant ${plan.id}`, `admin-grant:${periodId}`);
      audit(db, o.adminId, 'grant', { userId, planId: plan.id, days: o.days ?? null, subscriptionId, from, to, extended }, now);
      return extension;
    })
    .immediate();
}

export interface Revoked {
  subscriptionId: number;
  /** Chat ids the customer is removed from (those nothing else of theirs covers). */
  removedFrom: number[];
}

/**
 * An admin ends a customer's active subscription to `planId` now, in one transaction, like the
 * expiry job: removal (ban, then unban only_if_banned) from each of its channels that no other
 * subscription or purchase of theirs covers, and a message with a Renew button. Undefined when
 * there is no active subscription.
 */
export function revokeSubscription(d: AdminAccessDeps, o: { adminId: number; userId: number; planId: string; now: number }): Revoked | undefined {
  const { db, catalog } = d;
  const { userId, planId, now } = o;
  return db
    .transaction((): Revoked | undefined => {
      const sub = prepared<[number, string], { id: number; terms: string; ends_at: number }>(
        db,
        "SELECT id, terms, ends_at FROM subscriptions WHERE user_id = ? AND plan_id = ? AND state = 'active'",
      ).get(userId, planId);
      if (!sub) return undefined;
      prepared(db, "UPDATE subscriptions SET state = 'ended', ended_at = ?, ends_at = min(ends_at, ?), updated_at = ? WHERE id = ?").run(now, now, now, sub.id);
      cancelReminders(db, sub.id, now);
      const terms = JSON.parse(sub.terms) as { title: unknown; chats?: Channel[] };
      const removedFrom = announceEnd(d, { userId, planId, title: terms.title, chats: terms.chats ?? [], language: customerLanguage(db, catalog, userId) }, now, {
        remove: (chatId) => `revoke:${sub.id}:${chatId}`,
        message: `revoked:${sub.id}`,
      });
      // A link not yet sent (a grant just before) must not arrive after the removal.
      for (const chatId of removedFrom) {
        prepared(
          db,
          "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE state = 'pending' AND kind = 'grant_access' AND json_extract(payload, '$.userId') = ? AND json_extract(payload, '$.chatId') = ?",
        ).run(now, userId, chatId);
      }
      audit(db, o.adminId, 'revoke', { userId, planId, subscriptionId: sub.id, endsAtBefore: sub.ends_at, removedFrom }, now);
      return { subscriptionId: sub.id, removedFrom };
    })
    .immediate();
}
