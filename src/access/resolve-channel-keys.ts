import { escapeHtml } from '../bot/html.js';
import type { Catalog, Channel } from '../catalog/types.js';
import type { Logger } from '../logger.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Db } from '../storage/open-database.js';
import { prepared } from '../storage/prepared.js';
import { holdersPhrase, type Holders } from './describe-channel-changes.js';

export interface ResolvedKeys {
  /** Rows (orders, subscriptions, purchases) whose terms now name every chat they grant. */
  resolved: number;
  /** Keys the catalog has no channel for, with the live subscriptions and purchases holding each. */
  unresolved: Map<string, Holders>;
}

const TABLES = [
  // `live`: a row whose access still matters (the admins hear about those).
  { table: 'orders', live: '0' },
  { table: 'subscriptions', live: "state = 'active'" },
  { table: 'purchases', live: '1' },
] as const;

/**
 * Terms written before chats were frozen name channels only by catalog key (`channels: ["main"]`;
 * products: `deliver.channels`). At start-up, before anything reads them, each such row of orders,
 * subscriptions and purchases gets the chats those keys name in the catalog the bot starts with
 * (`chats`: chat id, key, title). Keys the catalog lacks stay in `unresolvedChannels`, grant
 * nothing, and are tried again at the next start; the admins are alerted once per such key that
 * live subscriptions or purchases hold. One transaction; a second run finds nothing to do.
 *
 * Why once at start-up rather than a fallback to the catalog by key at read time: a fallback looks
 * keys up in whatever the catalog says *now*, so the very rename this fixes would cut those rows
 * off again, and a key reused for another chat would open that chat to people who never paid for
 * it. The catalog at the first start of this version is the one those rows were sold under (an
 * upgrade does not edit catalog.yaml), so resolving then binds each row to the chat it was sold
 * with; from then on it is frozen like a new row. Why not a numbered migration in
 * storage/migrations.ts: it needs the catalog, which openDatabase (also used by backup, restore and
 * doctor) does not have; a row that still holds keys is its own marker, so this is safe at every
 * start.
 */
export function resolveChannelKeys(d: { db: Db; outbox: Outbox; catalog: Catalog; log: Logger }): ResolvedKeys {
  const { db, catalog } = d;
  const out: ResolvedKeys = { resolved: 0, unresolved: new Map() };
  db.transaction(() => {
    for (const { table, live } of TABLES) {
      // '"channels":' can only be a key (a quote inside a JSON string is escaped): no row is parsed
      // unless it holds keys, so the pass costs next to nothing once done.
      const rows = prepared<[], { id: number; terms: string; live: number }>(
        db,
        `SELECT id, terms, ${live} AS live FROM ${table} WHERE instr(terms, '"channels":') > 0 OR instr(terms, '"unresolvedChannels":') > 0`,
      ).all();
      for (const row of rows) {
        const terms = JSON.parse(row.terms) as Record<string, unknown>;
        const unresolved = resolveTerms(terms, catalog.channels);
        const updated = JSON.stringify(terms);
        if (updated !== row.terms) prepared(db, `UPDATE ${table} SET terms = ? WHERE id = ?`).run(updated, row.id);
        if (unresolved.length === 0) out.resolved++;
        for (const key of unresolved) {
          const held = out.unresolved.get(key) ?? { subscriptions: 0, purchases: 0 };
          if (row.live && table === 'subscriptions') held.subscriptions++;
          if (row.live && table === 'purchases') held.purchases++;
          out.unresolved.set(key, held);
        }
      }
    }
    for (const [key, held] of out.unresolved) {
      const total = held.subscriptions + held.purchases;
      if (total === 0) continue;
      d.outbox.notifyAdmins(
        catalog.settings.admins,
        escapeHtml(
          `⚠️ catalog.yaml has no channel \`${key}\`, which ${holdersPhrase(held)} ${total === 1 ? 'was' : 'were'} sold with before the bot remembered chats by their id, so it cannot tell which chat that is: ` +
            `those customers are not let into it, nor removed from it at their end. Add \`${key}\` back under channels with its chat_id (the chat may also stay under its new name) and restart the bot: from then on they keep that chat, whatever it is called.`,
        ),
        { dedupeKey: `unresolved-channel:${key}` },
      );
    }
  })();
  if (out.resolved > 0) d.log.info({ rows: out.resolved }, 'channel keys of earlier orders and subscriptions resolved to their chats');
  if (out.unresolved.size > 0) d.log.warn({ keys: Object.fromEntries(out.unresolved) }, 'channel keys of earlier orders and subscriptions name no channel in the catalog');
  return out;
}

/**
 * Moves the keys of one terms object (in place) to `chats`, as the catalog names them; returns
 * the keys it has no channel for (kept in `unresolvedChannels`).
 */
function resolveTerms(terms: Record<string, unknown>, channels: ReadonlyMap<string, Channel>): string[] {
  const holder = (terms.kind === 'product' ? terms.deliver : terms) as Record<string, unknown>;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : []);
  const keys = [...strings(holder.channels), ...strings(terms.unresolvedChannels)];
  const chats = Array.isArray(holder.chats) ? (holder.chats as Channel[]) : [];
  const unresolved: string[] = [];
  for (const key of keys) {
    const channel = channels.get(key);
    if (!channel) {
      if (!unresolved.includes(key)) unresolved.push(key);
    } else if (!chats.some((c) => c.chatId === channel.chatId)) {
      chats.push({ id: channel.id, chatId: channel.chatId, title: channel.title });
    }
  }
  delete holder.channels;
  holder.chats = chats;
  if (unresolved.length > 0) terms.unresolvedChannels = unresolved;
  else delete terms.unresolvedChannels;
  return unresolved;
}
