import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../src/storage/open-database.js';

export function tempFolder(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarize(latencies: number[]): { p50: number; p99: number; max: number } {
  const s = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** `n` customers with one active subscription each to `planId` (chat `chatId`), ending over the next 60 days. */
export function seedSubscriptions(db: Db, n: number, now: number, planId = 'monthly', chatId = -1001000000001): void {
  const terms = JSON.stringify({ kind: 'plan', id: planId, title: 'Monthly', price: 4900, period: { unit: 'months', count: 1 }, periodText: '1m', chats: [{ id: 'main', chatId, title: 'Main' }] });
  const customer = db.prepare("INSERT INTO customers (user_id, first_name, language, created_at, updated_at) VALUES (?, 'Bench', 'ru', ?, ?)");
  const sub = db.prepare("INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const userId = 10_000_000 + i;
      customer.run(userId, now, now);
      sub.run(userId, planId, terms, now - 86_400_000, now + ((i * 7919) % (60 * 24)) * 3_600_000, now, now);
    }
  })();
}

export function writeCatalog(dir: string, chatId: number): string {
  const path = join(dir, 'catalog.yaml');
  writeFileSync(
    path,
    `settings:\n  bot_name: Bench\n  languages: [ru]\n  admins: [1]\n  notify_admins_on_payment: false\nchannels:\n  main: { chat_id: ${chatId}, title: Main }\nplans:\n  monthly: { title: Monthly, price: 4900, period: 1m, channels: [main] }\n`,
  );
  return path;
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
