import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isEntitled } from '../../src/access/entitlement.js';
import { resolveChannelKeys } from '../../src/access/resolve-channel-keys.js';
import { loadCatalogOrThrow } from '../../src/app.js';
import type { Catalog } from '../../src/catalog/types.js';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { Orders } from '../../src/payments/orders.js';
import { termsOf, type Terms } from '../../src/payments/terms.js';
import { openDatabase, type Db } from '../../src/storage/open-database.js';
import { ADMIN_ID, CHAT_CHAT, MAIN_CHAT, TEST_CATALOG } from '../support/harness.js';
import { tempDir } from '../support/temp-dir.js';

/*
 * Terms written before chats were frozen hold only channel keys. The start-up pass gives each row
 * the chats those keys name in the catalog the bot starts with, and keeps (and reports) keys the
 * catalog does not have.
 */

const NOW = Date.parse('2026-11-10T10:00:00Z');
const DAY = 86_400_000;
const GONE_CHAT = -1001000000009;

let dir: { path: string; cleanup: () => void };
let db: Db;
let outbox: Outbox;
beforeEach(() => {
  dir = tempDir();
  db = openDatabase(join(dir.path, 'bot.db'));
  outbox = new Outbox(db, new ManualClock(NOW));
  for (const id of [1, 2, 3, 4, 5]) db.prepare("INSERT INTO customers (user_id, first_name, created_at, updated_at) VALUES (?, 'C', 0, 0)").run(id);
});
afterEach(() => {
  db.close();
  dir.cleanup();
});

function catalog(yaml = TEST_CATALOG): Catalog {
  const path = join(dir.path, 'catalog.yaml');
  writeFileSync(path, yaml);
  return loadCatalogOrThrow(path);
}

const PLAN = { kind: 'plan', id: 'bundle', title: { en: 'Channel + chat' }, price: 12000, period: { unit: 'days', count: 30 }, periodText: '30d' };
/** Plan terms as versions before frozen chats wrote them. */
const plan = (channels: string[]) => ({ ...PLAN, channels });

function addSubscription(userId: number, terms: object, state = 'active'): number {
  return Number(
    db
      .prepare("INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, created_at, updated_at) VALUES (?, 'bundle', ?, ?, ?, ?, 0, 0)")
      .run(userId, JSON.stringify(terms), NOW - DAY, NOW + 10 * DAY, state).lastInsertRowid,
  );
}

const termsIn = (table: 'subscriptions' | 'purchases' | 'orders', id: number) =>
  JSON.parse(db.prepare(`SELECT terms FROM ${table} WHERE id = ?`).pluck().get(id) as string) as Record<string, unknown>;

const adminAlerts = () =>
  db
    .prepare("SELECT payload FROM outbox WHERE kind = 'message' AND chat_id = ?")
    .pluck()
    .all(ADMIN_ID)
    .map((p) => (JSON.parse(p as string) as { text: string }).text);

const run = (c: Catalog) => resolveChannelKeys({ db, outbox, catalog: c, log: silentLogger() });

describe('resolveChannelKeys (terms with channel keys only, from before chats were frozen)', () => {
  it('gives subscriptions, purchases and orders the chats their keys name, and entitlement follows', () => {
    const c = catalog();
    const sub = addSubscription(1, plan(['main', 'chat']));
    const purchase = Number(
      db
        .prepare("INSERT INTO purchases (user_id, product_id, terms, created_at) VALUES (2, 'alumni', ?, 0)")
        .run(JSON.stringify({ kind: 'product', id: 'alumni', title: 'Alumni', price: 20000, deliver: { text: 'Hi', channels: ['chat'] } })).lastInsertRowid,
    );
    const order = new Orders(db).create({ userId: 3, terms: plan(['main']) as unknown as Terms, listPrice: 4900, amount: 4900, language: 'en' }, NOW);
    expect(isEntitled(db, c, 1, MAIN_CHAT, NOW)).toBe(false);

    expect(run(c)).toEqual({ resolved: 3, unresolved: new Map() });

    const channel = { id: 'main', chatId: MAIN_CHAT, title: { ru: 'Канал', en: 'Channel' } };
    const chat = { id: 'chat', chatId: CHAT_CHAT, title: { ru: 'Чат', en: 'Chat' } };
    expect(termsIn('subscriptions', sub)).toStrictEqual({ ...PLAN, chats: [channel, chat] });
    expect(termsIn('purchases', purchase)).toStrictEqual({ kind: 'product', id: 'alumni', title: 'Alumni', price: 20000, deliver: { text: 'Hi', chats: [chat] } });
    expect(new Orders(db).get(order.id)!.terms).toMatchObject({ chats: [channel] });
    expect(isEntitled(db, c, 1, MAIN_CHAT, NOW)).toBe(true);
    expect(isEntitled(db, c, 1, CHAT_CHAT, NOW)).toBe(true);
    expect(isEntitled(db, c, 2, CHAT_CHAT, NOW)).toBe(true);
    expect(adminAlerts()).toEqual([]);

    // Once resolved, a renamed key changes nothing: the chat id is in the row.
    const renamed = catalog(TEST_CATALOG.replace('  main: {', '  premium: {').replaceAll('channels: [main', 'channels: [premium'));
    expect(run(renamed)).toEqual({ resolved: 0, unresolved: new Map() });
    expect(isEntitled(db, renamed, 1, MAIN_CHAT, NOW)).toBe(true);
  });

  it('leaves rows written with chats untouched', () => {
    const c = catalog();
    const terms = JSON.stringify(termsOf(c.plans.get('bundle')!));
    const sub = addSubscription(1, JSON.parse(terms) as object);
    run(c);
    expect(db.prepare('SELECT terms FROM subscriptions WHERE id = ?').pluck().get(sub)).toBe(terms);
  });

  it('keeps a key the catalog lacks, alerts the admins once about live holders, and resolves it at a later start once the key is back', () => {
    const live = addSubscription(1, plan(['gone', 'main']));
    addSubscription(2, plan(['gone']), 'ended');
    const c = catalog();

    const first = run(c);
    expect(first.resolved).toBe(0);
    expect(first.unresolved).toEqual(new Map([['gone', { subscriptions: 1, purchases: 0 }]]));
    expect(termsIn('subscriptions', live)).toMatchObject({ chats: [{ id: 'main', chatId: MAIN_CHAT }], unresolvedChannels: ['gone'] });
    expect(isEntitled(db, c, 1, MAIN_CHAT, NOW)).toBe(true);
    expect(adminAlerts()).toEqual([
      '⚠️ catalog.yaml has no channel `gone`, which 1 live subscription was sold with before the bot remembered chats by their id, so it cannot tell which chat that is: ' +
        'those customers are not let into it, nor removed from it at their end. Add `gone` back under channels with its chat_id (the chat may also stay under its new name) and restart the bot: from then on they keep that chat, whatever it is called.',
    ]);

    run(c); // the next start: still missing, and the admins were told already
    expect(adminAlerts()).toHaveLength(1);

    const back = catalog(TEST_CATALOG.replace('channels:\n', `channels:\n  gone: { chat_id: ${GONE_CHAT}, title: "Gone" }\n`));
    expect(run(back)).toEqual({ resolved: 2, unresolved: new Map() });
    const terms = termsIn('subscriptions', live);
    expect(terms).toMatchObject({ chats: [{ id: 'main', chatId: MAIN_CHAT }, { id: 'gone', chatId: GONE_CHAT, title: 'Gone' }] });
    expect(terms).not.toHaveProperty('unresolvedChannels');
    expect(isEntitled(db, back, 1, GONE_CHAT, NOW)).toBe(true);
  });
});
