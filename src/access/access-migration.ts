import type { Migration } from '../storage/migrations.js';

export const accessMigration: Migration = {
  name: 'subscriptions, purchases, trials, invite links, memberships',
  sql: `
    CREATE TABLE subscriptions (
      id INTEGER PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES customers (user_id),
      plan_id TEXT NOT NULL,
      terms TEXT NOT NULL,
      starts_at INTEGER NOT NULL,
      ends_at INTEGER NOT NULL,
      state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'ended')),
      ended_at INTEGER,
      trial INTEGER NOT NULL DEFAULT 0 CHECK (trial IN (0, 1)),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX subscriptions_one_active ON subscriptions (user_id, plan_id) WHERE state = 'active';
    CREATE INDEX subscriptions_state_ends ON subscriptions (state, ends_at);

    -- One row per payment that started or extended a subscription: an order extends at most once.
    CREATE TABLE subscription_periods (
      id INTEGER PRIMARY KEY,
      subscription_id INTEGER NOT NULL REFERENCES subscriptions (id),
      order_id INTEGER UNIQUE REFERENCES orders (id),
      from_at INTEGER NOT NULL,
      to_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE purchases (
      id INTEGER PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES customers (user_id),
      product_id TEXT NOT NULL,
      order_id INTEGER UNIQUE REFERENCES orders (id),
      terms TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX purchases_user ON purchases (user_id);

    CREATE TABLE trials (
      user_id INTEGER NOT NULL REFERENCES customers (user_id),
      plan_id TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (user_id, plan_id)
    ) STRICT;

    CREATE TABLE invite_links (
      id INTEGER PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES customers (user_id),
      chat_id INTEGER NOT NULL,
      link TEXT NOT NULL UNIQUE,
      job_id INTEGER UNIQUE,
      created_at INTEGER NOT NULL,
      used_at INTEGER,
      revoked_at INTEGER
    ) STRICT;

    CREATE TABLE memberships (
      chat_id INTEGER NOT NULL,
      user_id INTEGER NOT NULL,
      status TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (chat_id, user_id)
    ) STRICT;
  `,
};
