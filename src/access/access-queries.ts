import type { Db } from '../storage/open-database.js';

export interface SubscriptionView {
  id: number;
  planId: string;
  title: unknown;
  endsAt: number;
  state: 'active' | 'ended';
  trial: boolean;
}

export interface PurchaseView {
  id: number;
  productId: string;
  title: unknown;
  createdAt: number;
}

/** Read-only views of what a customer has, for /my and the cards. */
export class AccessQueries {
  readonly #subs;
  readonly #purchases;
  readonly #trial;
  readonly #activeSub;

  constructor(db: Db) {
    this.#subs = db.prepare<[number], { id: number; plan_id: string; terms: string; ends_at: number; state: 'active' | 'ended'; trial: number }>(
      `SELECT id, plan_id, terms, ends_at, state, trial FROM subscriptions
       WHERE user_id = ? ORDER BY state = 'active' DESC, ends_at DESC LIMIT 20`,
    );
    this.#purchases = db.prepare<[number], { id: number; product_id: string; terms: string; created_at: number }>(
      'SELECT id, product_id, terms, created_at FROM purchases WHERE user_id = ? ORDER BY created_at DESC LIMIT 20',
    );
    this.#trial = db.prepare<[number, string], { at: number }>('SELECT at FROM trials WHERE user_id = ? AND plan_id = ?');
    this.#activeSub = db.prepare<[number, string], { id: number; ends_at: number }>(
      "SELECT id, ends_at FROM subscriptions WHERE user_id = ? AND plan_id = ? AND state = 'active'",
    );
  }

  subscriptions(userId: number): SubscriptionView[] {
    return this.#subs.all(userId).map((r) => ({
      id: r.id,
      planId: r.plan_id,
      title: (JSON.parse(r.terms) as { title: unknown }).title,
      endsAt: r.ends_at,
      state: r.state,
      trial: r.trial === 1,
    }));
  }

  purchases(userId: number): PurchaseView[] {
    return this.#purchases.all(userId).map((r) => ({
      id: r.id,
      productId: r.product_id,
      title: (JSON.parse(r.terms) as { title: unknown }).title,
      createdAt: r.created_at,
    }));
  }

  trialUsed(userId: number, planId: string): boolean {
    return this.#trial.get(userId, planId) !== undefined;
  }

  activeSubscription(userId: number, planId: string): { id: number; endsAt: number } | undefined {
    const r = this.#activeSub.get(userId, planId);
    return r && { id: r.id, endsAt: r.ends_at };
  }
}
