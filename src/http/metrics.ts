import type { Db } from '../storage/open-database.js';
import { prepared } from '../storage/prepared.js';
import type { Inbox } from '../inbox/inbox.js';
import { SEND_CLASSES, type SendPace } from '../telegram/send-pace.js';

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

  constructor(
    private readonly db: Db,
    /** The send pace and the update inbox, for their live figures (optional: tests of the store alone). */
    private readonly live?: { pace: SendPace; inbox: Inbox },
  ) {
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
    if (this.live) {
      const { pace, inbox } = this.live;
      const queued = pace.queued();
      gauge('subscription_bot_send_queue', 'Messages waiting for their turn at the send pace, by class.', SEND_CLASSES.map((c) => ({ labels: { class: c }, value: queued[c] })));
      lines.push('# HELP subscription_bot_sends_total Messages sent to Telegram since start (rate() gives sends per second).', '# TYPE subscription_bot_sends_total counter');
      lines.push(`subscription_bot_sends_total ${pace.stats.sent}`);
      lines.push('# HELP subscription_bot_telegram_429_total 429 answers from Telegram since start, by whose limit the pace took it for.', '# TYPE subscription_bot_telegram_429_total counter');
      lines.push(`subscription_bot_telegram_429_total{limit="chat"} ${pace.stats.chatLimited}`, `subscription_bot_telegram_429_total{limit="bot"} ${pace.stats.botLimited}`);
      gauge('subscription_bot_send_rate', 'Messages per second the pace allows now (lowered after a 429, recovering after).', [{ value: Math.round(pace.rate * 100) / 100 }]);
      const wait = pace.replyWait();
      gauge('subscription_bot_reply_wait_seconds', 'How long replies to customers waited for their turn, recent p50 and p99.', [
        { labels: { quantile: '0.5' }, value: wait.p50 / 1000 },
        { labels: { quantile: '0.99' }, value: wait.p99 / 1000 },
      ]);
      gauge('subscription_bot_inbox_backlog', 'Telegram updates stored and not yet handled.', [{ value: inbox.backlog() }]);
    }
    return lines.join('\n') + '\n';
  }
}
