/** Shapes of catalog.yaml as written (after schema validation), and of the runtime Catalog built from it. */

export const LANGUAGES = ['ru', 'kk', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A creator's text: one string for every language, or one per language. */
export type TextInput = string | Partial<Record<Language, string>>;

export interface CatalogFile {
  settings: {
    bot_name: string;
    languages?: Language[];
    default_language?: Language;
    timezone?: string;
    admins?: number[];
    support?: string;
    reminders?: { days_before_end?: number[]; time?: string; quiet_hours?: { from: string; to: string } };
    grace_period?: string;
    access_mode?: AccessMode;
    invoice_lifetime?: string;
    phone_input?: PhoneInput;
    payments?: PaymentMethod[];
    limits?: { open_invoices_per_customer?: number; invoices_per_hour?: number; phones_per_day?: number };
    notify_admins_on_payment?: boolean;
    backup_to_admins?: boolean;
  };
  channels: Record<string, { chat_id: number; title: TextInput }>;
  plans?: Record<string, PlanInput>;
  products?: Record<string, ProductInput>;
  promo_codes?: Record<string, PromoInput>;
  menu?: Array<string | { section?: TextInput; items: string[] }>;
  texts?: Record<string, TextInput>;
}

interface PlanInput {
  title: TextInput;
  description?: TextInput;
  price: number;
  stars?: number;
  period: string;
  channels: string[];
  trial_days?: number;
  buy_again_extends?: boolean;
  renewal_invoices?: boolean;
  hidden?: boolean;
}

interface ProductInput {
  title: TextInput;
  description?: TextInput;
  price: number;
  stars?: number;
  hidden?: boolean;
  deliver: { text?: TextInput; link?: string; file?: string; channels?: string[] };
}

interface PromoInput {
  percent?: number;
  amount?: number;
  items?: string[];
  valid_from?: string;
  valid_until?: string;
  max_uses?: number;
}

export type AccessMode = 'join_request' | 'invite_link';
export type PhoneInput = 'both' | 'contact' | 'typed';
/** How customers pay: a Kaspi invoice through AiPay, or Telegram Stars. */
export type PaymentMethod = 'kaspi' | 'stars';

/** A period of a subscription: whole days, or calendar months (a year is 12 months). */
export type Period = { unit: 'days'; count: number } | { unit: 'months'; count: number };

export interface Channel {
  id: string;
  chatId: number;
  title: TextInput;
}

export interface Plan {
  kind: 'plan';
  id: string;
  title: TextInput;
  description?: TextInput;
  price: number;
  /** Price in Telegram Stars; undefined = not sold for Stars. */
  stars?: number;
  period: Period;
  /** The period as written in the catalog, e.g. "1m". */
  periodText: string;
  /** Keys of the channels it opens, as written in the catalog. */
  channels: string[];
  /** Those channels themselves (chat id and title): what an order freezes into its terms. */
  chats: Channel[];
  trialDays: number;
  buyAgainExtends: boolean;
  renewalInvoices: boolean;
  hidden: boolean;
}

export interface Product {
  kind: 'product';
  id: string;
  title: TextInput;
  description?: TextInput;
  price: number;
  /** Price in Telegram Stars; undefined = not sold for Stars. */
  stars?: number;
  hidden: boolean;
  deliver: {
    text?: TextInput;
    link?: string;
    /** Absolute path of the file to send. */
    file?: string;
    /** Keys of the channels opened for life, as written in the catalog. */
    channels: string[];
    /** Those channels themselves (chat id and title): what an order freezes into its terms. */
    chats: Channel[];
  };
}

export type Item = Plan | Product;

export interface PromoCode {
  /** Upper-cased code; customers may type it in any case. */
  code: string;
  percent?: number;
  amount?: number;
  /** Item ids it applies to; undefined = all. */
  items?: string[];
  /** Local date YYYY-MM-DD, inclusive. */
  validFrom?: string;
  validUntil?: string;
  maxUses?: number;
}

export interface MenuSection {
  title?: TextInput;
  items: string[];
}

export interface Settings {
  botName: string;
  languages: Language[];
  defaultLanguage: Language;
  timezone: string;
  admins: number[];
  support?: string;
  reminders: { daysBeforeEnd: number[]; time: string; quietHours?: { from: string; to: string } };
  graceMs: number;
  accessMode: AccessMode;
  invoiceLifetimeMs: number;
  phoneInput: PhoneInput;
  /** Ways to pay offered, in the catalog's order (default: ['kaspi']). */
  payments: PaymentMethod[];
  limits: { openInvoicesPerCustomer: number; invoicesPerHour: number; phonesPerDay: number };
  notifyAdminsOnPayment: boolean;
  backupToAdmins: boolean;
}

/** The validated, read-only catalog the runtime works from. */
export interface Catalog {
  settings: Settings;
  channels: ReadonlyMap<string, Channel>;
  plans: ReadonlyMap<string, Plan>;
  products: ReadonlyMap<string, Product>;
  promoCodes: ReadonlyMap<string, PromoCode>;
  menu: MenuSection[];
  /** Creator overrides of built-in texts, by key. */
  texts: Readonly<Record<string, TextInput>>;
  /** Absolute path of the catalog file. */
  path: string;
}

export function findItem(catalog: Catalog, id: string): Item | undefined {
  return catalog.plans.get(id) ?? catalog.products.get(id);
}

/** The ways this item can be paid for now: Kaspi when offered; Stars when offered and the item has a Stars price. */
export function paymentMethodsOf(catalog: Catalog, item: Item): PaymentMethod[] {
  return catalog.settings.payments.filter((m) => m === 'kaspi' || item.stars !== undefined);
}
