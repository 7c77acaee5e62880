import { resolve, dirname } from 'node:path';
import { parseDuration, parsePeriod } from './duration.js';
import type { Catalog, CatalogFile, Channel, Language, MenuSection, PaymentMethod, Plan, Product, PromoCode } from './types.js';

/** Applies defaults to a catalog that passed every check. */
export function buildCatalog(file: CatalogFile, path: string): Catalog {
  const s = file.settings;
  const languages: Language[] = s.languages ?? ['ru'];
  const channels = new Map<string, Channel>(
    Object.entries(file.channels).map(([id, c]) => [id, { id, chatId: c.chat_id, title: c.title }]),
  );
  const plans = new Map<string, Plan>(
    Object.entries(file.plans ?? {}).map(([id, p]) => [
      id,
      {
        kind: 'plan',
        id,
        title: p.title,
        description: p.description,
        price: p.price,
        stars: p.stars,
        period: parsePeriod(p.period)!,
        periodText: p.period,
        channels: p.channels,
        chats: p.channels.map((key) => channels.get(key)!),
        trialDays: p.trial_days ?? 0,
        buyAgainExtends: p.buy_again_extends ?? true,
        renewalInvoices: p.renewal_invoices ?? true,
        hidden: p.hidden ?? false,
      },
    ]),
  );
  const products = new Map<string, Product>(
    Object.entries(file.products ?? {}).map(([id, p]) => [
      id,
      {
        kind: 'product',
        id,
        title: p.title,
        description: p.description,
        price: p.price,
        stars: p.stars,
        hidden: p.hidden ?? false,
        deliver: {
          text: p.deliver.text,
          link: p.deliver.link,
          file: p.deliver.file === undefined ? undefined : resolve(dirname(path), p.deliver.file),
          channels: p.deliver.channels ?? [],
          chats: (p.deliver.channels ?? []).map((key) => channels.get(key)!),
        },
      },
    ]),
  );
  const promoCodes = new Map<string, PromoCode>(
    Object.entries(file.promo_codes ?? {}).map(([code, p]) => [
      code.toUpperCase(),
      {
        code: code.toUpperCase(),
        percent: p.percent,
        amount: p.amount,
        items: p.items,
        validFrom: p.valid_from,
        validUntil: p.valid_until,
        maxUses: p.max_uses,
      },
    ]),
  );
  const menu: MenuSection[] = file.menu
    ? groupMenu(file.menu)
    : [{ items: [...plans.values(), ...products.values()].filter((i) => !i.hidden).map((i) => i.id) }];

  return Object.freeze({
    settings: Object.freeze({
      botName: s.bot_name,
      languages,
      defaultLanguage: s.default_language ?? languages[0]!,
      timezone: s.timezone ?? 'Asia/Almaty',
      admins: s.admins ?? [],
      support: s.support,
      reminders: {
        daysBeforeEnd: [...(s.reminders?.days_before_end ?? [3, 1, 0])].sort((a, b) => b - a),
        time: s.reminders?.time ?? '10:00',
        quietHours: s.reminders?.quiet_hours,
      },
      graceMs: parseDuration(s.grace_period ?? '0d')!,
      accessMode: s.access_mode ?? 'join_request',
      invoiceLifetimeMs: parseDuration(s.invoice_lifetime ?? '1h')!,
      phoneInput: s.phone_input ?? 'both',
      payments: s.payments ?? (['kaspi'] satisfies PaymentMethod[]),
      limits: {
        openInvoicesPerCustomer: s.limits?.open_invoices_per_customer ?? 2,
        invoicesPerHour: s.limits?.invoices_per_hour ?? 5,
        phonesPerDay: s.limits?.phones_per_day ?? 3,
      },
      notifyAdminsOnPayment: s.notify_admins_on_payment ?? true,
      backupToAdmins: s.backup_to_admins ?? false,
    }),
    channels,
    plans,
    products,
    promoCodes,
    menu,
    texts: Object.freeze({ ...(file.texts ?? {}) }),
    path,
  });
}

/** Plain ids between sections form unnamed sections of their own, in order. */
function groupMenu(entries: NonNullable<CatalogFile['menu']>): MenuSection[] {
  const out: MenuSection[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') {
      const last = out[out.length - 1];
      if (last && last.title === undefined) last.items.push(entry);
      else out.push({ items: [entry] });
    } else {
      out.push({ title: entry.section, items: [...entry.items] });
    }
  }
  return out;
}
