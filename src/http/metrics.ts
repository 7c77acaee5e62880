import type { Db } from '../storage/open-database.js';
import { prepared } from '../storage/prepared.js';

type Labels = Readonly<Record<string, string>>;

const key = (name: string, labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
};

/**
 * Counters kept in memory since start (webhook outcomes and rejects) plus gauges read from the
 * database at scrape time (payments, grants, outbox backlog and dead jobs), in Prometheus text format.
 */
export class Metrics {
  readonly #counters = new Map<string, { name: string; value: number }>();
  readonly #help = new Map<string, string>();

  constructor(private readonly db: Db) {
    this.#help.set('subscription_bot_webhook_events_total', 'AiPay webhook events recorded, by outcome, since start.');
    this.#help.set('subscription_bot_webhook_rejects_total', 'AiPay webhook requests refused, by reason, since start.');
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const k = key(name, labels);
    const c = this.#counters.get(k) ?? { name, value: 0 };
    c.value += by;
    this.#counters.set(k, c);
  }

  render(): string {
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const [k, c] of [...this.#counters].sort(([a], [b]) => a.localeCompare(b))) {
      if (!seen.has(c.name)) {
        seen.add(c.name);
        lines.push(`# HELP ${c.name} ${this.#help.get(c.name) ?? c.name}`, `# TYPE ${c.name} counter`);
      }
      lines.push(`${k} ${c.value}`);
    }
    const gauge = (name: string, help: string, rows: Array<{ labels?: Labels; value: number }>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const r of rows) lines.push(`${key(name, r.labels ?? {})} ${r.value}`);
    };
    const count = (sql: string) => prepared(this.db, sql).pluck().get() as number;
    gauge(
      'subscription_bot_payments',
      'Paid orders in the database, by how the payment was confirmed.',
      (prepared(this.db, "SELECT coalesce(paid_via, 'webhook') AS via, count(*) AS n FROM orders WHERE state = 'paid' GROUP BY via").all() as Array<{ via: string; n: number }>).map((r) => ({
        labels: { via: r.via },
        value: r.n,
      })),
    );
    gauge('subscription_bot_grants', 'Channel access grants performed.', [{ value: count("SELECT count(*) FROM outbox WHERE kind = 'grant_access' AND state = 'done'") }]);
    gauge('subscription_bot_subscriptions_active', 'Active subscriptions.', [{ value: count("SELECT count(*) FROM subscriptions WHERE state = 'active'") }]);
    gauge('subscription_bot_outbox_backlog', 'Telegram actions waiting to be performed.', [{ value: count("SELECT count(*) FROM outbox WHERE state IN ('pending', 'running')") }]);
    gauge('subscription_bot_outbox_dead', 'Telegram actions that need attention (failed for good).', [{ value: count("SELECT count(*) FROM outbox WHERE state = 'attention'") }]);
    gauge('subscription_bot_orphan_payments', 'AiPay events for unknown orders.', [{ value: count("SELECT count(*) FROM aipay_events WHERE outcome = 'orphan'") }]);
    return lines.join('\n') + '\n';
  }
}
