import type { Context } from 'grammy';
import type { ConversationFlavor } from '@grammyjs/conversations';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { Catalog, Language } from '../catalog/types.js';
import type { Clock } from '../clock.js';
import type { Customers } from '../customers/customers.js';
import type { Logger } from '../logger.js';
import type { Db } from '../storage/open-database.js';
import type { Checkout } from '../payments/checkout.js';
import type { AccessQueries } from '../access/access-queries.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Orders } from '../payments/orders.js';

/** What every handler can reach, passed in once when the bot is built. */
export interface BotDeps {
  catalog: CatalogStore;
  db: Db;
  customers: Customers;
  clock: Clock;
  log: Logger;
  checkout: Checkout;
  access: AccessQueries;
  outbox: Outbox;
  orders: Orders;
}

export interface BotFlavor {
  deps: BotDeps;
  /** The catalog as of this update (read once per update through the store). */
  catalog: Catalog;
  /** The customer's language, resolved for this update. */
  lang: Language;
  /** Whether the customer has chosen (or Telegram gave) a language the catalog enables. */
  langKnown: boolean;
  /** The catalog text `key` in the customer's language. */
  t(key: string, vars?: Readonly<Record<string, string | number>>): string;
}

/** Context inside conversations: the same flavour, without the conversation controls. */
export type InnerContext = Context & BotFlavor;
export type BotContext = ConversationFlavor<Context & BotFlavor>;
