import type { Statement } from 'better-sqlite3';
import type { Db } from './open-database.js';

const caches = new WeakMap<Db, Map<string, Statement>>();

/**
 * `db.prepare(sql)`, compiled once per database and SQL text. Hot paths (the webhook transaction,
 * the outbox) run the same statements thousands of times; compiling them each time costs more
 * than running them.
 */
export function prepared<P extends unknown[] = unknown[], R = unknown>(db: Db, sql: string): Statement<P, R> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt as unknown as Statement<P, R>;
}
