/**
 * Every migration of every feature, in the order they were written. Append only: a
 * migration that shipped is never edited; its position is its version number.
 */
export interface Migration {
  /** Short name, for logs and tests. */
  name: string;
  sql: string;
}

import { customersMigration } from './customers-migration.js';
import { ordersMigration } from '../payments/orders-migration.js';
import { outboxMigration } from '../outbox/outbox-migration.js';
import { accessMigration } from '../access/access-migration.js';
import { lifecycleMigration } from '../lifecycle/lifecycle-migration.js';
import { inboxMigration } from '../inbox/inbox-migration.js';
import { outboxSendClassMigration } from '../outbox/outbox-send-class-migration.js';
import { eventsDedupeMigration } from '../payments/events-dedupe-migration.js';
import { starsMigration } from '../payments/stars-migration.js';

export const MIGRATIONS: readonly Migration[] = [customersMigration, ordersMigration, outboxMigration, accessMigration, lifecycleMigration, eventsDedupeMigration, inboxMigration, outboxSendClassMigration, starsMigration];
