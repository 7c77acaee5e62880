import { prepared } from '../storage/prepared.js';
import type { Db } from '../storage/open-database.js';

/** What the bot waits for from an admin after a prompt (kept in kv, so it survives a restart). */
export type Awaiting = { kind: 'import' } | { kind: 'broadcast_text'; plan: string | null };

/** How long a prompt stays open. */
export const AWAIT_TTL_MS = 30 * 60_000;

const awaitKey = (adminId: number) => `admin:await:${adminId}`;
const draftKey = (id: string) => `admin:broadcast:${id}`;

function put(db: Db, key: string, value: unknown, now: number): void {
  prepared(db, 'INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
    key,
    JSON.stringify(value),
    now,
  );
}

function take<T>(db: Db, key: string, now: number, ttl: number): T | undefined {
  const row = prepared<[string], { value: string; updated_at: number }>(db, 'SELECT value, updated_at FROM kv WHERE key = ?').get(key);
  if (!row) return undefined;
  if (row.updated_at + ttl < now) {
    remove(db, key);
    return undefined;
  }
  return JSON.parse(row.value) as T;
}

function remove(db: Db, key: string): void {
  prepared(db, 'DELETE FROM kv WHERE key = ?').run(key);
}

export const awaiting = {
  get: (db: Db, adminId: number, now: number) => take<Awaiting>(db, awaitKey(adminId), now, AWAIT_TTL_MS),
  set: (db: Db, adminId: number, value: Awaiting, now: number) => put(db, awaitKey(adminId), value, now),
  clear: (db: Db, adminId: number) => remove(db, awaitKey(adminId)),
};

/** A broadcast waiting for Confirm: who gets it and the message as HTML. */
export interface BroadcastDraft {
  plan: string | null;
  html: string;
  by: number;
}

/** Drafts live a day; Confirm on an older preview says it expired. */
export const DRAFT_TTL_MS = 24 * 3600_000;

export const drafts = {
  get: (db: Db, id: string, now: number) => take<BroadcastDraft>(db, draftKey(id), now, DRAFT_TTL_MS),
  set: (db: Db, id: string, value: BroadcastDraft, now: number) => put(db, draftKey(id), value, now),
  clear: (db: Db, id: string) => remove(db, draftKey(id)),
};
