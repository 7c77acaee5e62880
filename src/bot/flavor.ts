import type { Context, MiddlewareFn } from 'grammy';
import { text } from '../catalog/texts.js';
import { LANGUAGES, type Catalog, type Language } from '../catalog/types.js';
import type { BotDeps, BotFlavor } from './context.js';

/** The language a customer gets: their choice, else Telegram's if enabled, else the only one enabled. */
export function resolveLanguage(
  catalog: Catalog,
  stored: Language | null | undefined,
  telegramCode: string | undefined,
): { lang: Language; known: boolean } {
  const enabled = catalog.settings.languages;
  if (stored && enabled.includes(stored)) return { lang: stored, known: true };
  const fromTelegram = telegramCode?.slice(0, 2).toLowerCase();
  if (fromTelegram && (LANGUAGES as readonly string[]).includes(fromTelegram) && enabled.includes(fromTelegram as Language)) {
    return { lang: fromTelegram as Language, known: true };
  }
  if (enabled.length === 1) return { lang: enabled[0]!, known: true };
  return { lang: catalog.settings.defaultLanguage, known: false };
}

/**
 * Installs deps, the catalog of this update, the customer's language and `t()` on the context.
 * Used on the bot and again inside conversations (which build their own context objects).
 */
export function flavor(deps: BotDeps): MiddlewareFn<Context & BotFlavor> {
  return async (ctx, next) => {
    const catalog = deps.catalog.current();
    ctx.deps = deps;
    ctx.catalog = catalog;
    const from = ctx.from;
    const seen = from ? deps.customers.get(from.id) : undefined;
    // Write only what changed: most updates come from customers the bot already knows as they are.
    if (
      from &&
      !from.is_bot &&
      ctx.chat?.type === 'private' &&
      (!seen || seen.blocked || seen.username !== (from.username ?? null) || seen.firstName !== from.first_name || seen.lastName !== (from.last_name ?? null))
    ) {
      deps.customers.seen(from, deps.clock.now());
    }
    const stored = seen?.language;
    const { lang, known } = resolveLanguage(catalog, stored, from?.language_code);
    // Remember the language Telegram gave, so messages sent later (reminders, receipts) use it too.
    if (from && known && !stored && ctx.chat?.type === 'private') deps.customers.setLanguage(from.id, lang, deps.clock.now());
    ctx.lang = lang;
    ctx.langKnown = known;
    ctx.t = (key, vars) => text(catalog, ctx.lang, key, vars);
    await next();
  };
}
