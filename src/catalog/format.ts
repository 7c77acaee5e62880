import { toLocal } from './time-zone.js';
import type { Language, Period } from './types.js';

const NBSP = '\u00a0';

/** 4900 → "4 900 ₸" (groups and the sign separated by no-break spaces). */
export function formatMoney(tenge: number): string {
  const digits = String(Math.abs(Math.trunc(tenge)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  return `${tenge < 0 ? '−' : ''}${grouped}${NBSP}₸`;
}

/** 250 → "250 ⭐" (Telegram Stars; groups separated like tenge). */
export function formatStars(stars: number): string {
  return `${String(Math.trunc(stars)).replace(/\B(?=(\d{3})+(?!\d))/g, NBSP)}${NBSP}⭐`;
}

/** An amount in its currency: 'KZT' → "4 900 ₸", 'XTR' → "250 ⭐". Never add amounts of different currencies. */
export function formatAmount(amount: number, currency: 'KZT' | 'XTR'): string {
  return currency === 'XTR' ? formatStars(amount) : formatMoney(amount);
}

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A date in the catalog's zone: "27.11.2026" (ru, kk) or "27 Nov 2026" (en). */
export function formatDate(ms: number, lang: Language, timeZone: string): string {
  const l = toLocal(ms, timeZone);
  if (lang === 'en') return `${l.day} ${MONTHS_EN[l.month - 1]} ${l.year}`;
  return `${String(l.day).padStart(2, '0')}.${String(l.month).padStart(2, '0')}.${l.year}`;
}

/** A date and time in the catalog's zone: "27.11.2026 18:30". */
export function formatDateTime(ms: number, lang: Language, timeZone: string): string {
  const l = toLocal(ms, timeZone);
  return `${formatDate(ms, lang, timeZone)} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
}

/** Russian plural form: 1 месяц, 2 месяца, 5 месяцев. */
function ruPlural(n: number, one: string, few: string, many: string): string {
  const m10 = n % 10;
  const m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return one;
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
  return many;
}

/** "1 month", "12 месяцев", "30 күн". Whole years of months read as years. */
export function formatPeriod(period: Period, lang: Language): string {
  if (period.unit === 'months' && period.count % 12 === 0) return formatCount(period.count / 12, 'year', lang);
  return formatCount(period.count, period.unit === 'months' ? 'month' : 'day', lang);
}

export function formatCount(n: number, unit: 'day' | 'month' | 'year', lang: Language): string {
  if (lang === 'en') return `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (lang === 'kk') return `${n} ${{ day: 'күн', month: 'ай', year: 'жыл' }[unit]}`;
  const forms = { day: ['день', 'дня', 'дней'], month: ['месяц', 'месяца', 'месяцев'], year: ['год', 'года', 'лет'] }[unit];
  return `${n} ${ruPlural(n, forms[0]!, forms[1]!, forms[2]!)}`;
}

/** "+7 701 *** 45 67": enough to recognise one's own number, not enough to leak it. */
export function maskPhone(phone: string): string {
  return `+7 ${phone.slice(1, 4)} *** ${phone.slice(7, 9)} ${phone.slice(9, 11)}`;
}
