import type { Report } from './semantic-checks.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * How settings.payments and each item's `stars` fit together (the schema checks each alone):
 * - only Stars offered, an item without `stars`: an error — it could not be bought at all;
 * - `stars` on an item while payments has no `stars`: an error too, not a warning. The creator
 *   wrote a Stars price expecting it to be offered; a warning scrolls past and customers would
 *   see only ₸. Turning Stars off is one edit either way (add `stars` to payments, or remove the field).
 */
export function starsChecks(raw: unknown, report: Report): void {
  const root = isObj(raw) ? raw : {};
  const settings = isObj(root.settings) ? root.settings : {};
  const payments = Array.isArray(settings.payments) ? settings.payments.filter((m) => m === 'kaspi' || m === 'stars') : ['kaspi'];
  const offersStars = payments.includes('stars');
  const onlyStars = offersStars && !payments.includes('kaspi');
  for (const section of ['plans', 'products'] as const) {
    const items = isObj(root[section]) ? (root[section] as Record<string, unknown>) : {};
    for (const [id, item] of Object.entries(items)) {
      if (!isObj(item)) continue;
      const has = item.stars !== undefined;
      if (onlyStars && !has) {
        report([section, id], `has no price in Stars, and settings.payments offers only stars, so nobody could buy it — add stars: 250 (a whole number of Stars), or add kaspi to settings.payments`, true);
      }
      if (has && !offersStars) {
        report([section, id, 'stars'], `a price in Stars, but settings.payments does not offer stars, so customers would see only the price in tenge — add stars to settings.payments (payments: [kaspi, stars]), or remove this line`, true);
      }
    }
  }
}
