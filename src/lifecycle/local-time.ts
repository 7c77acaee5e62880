import { DAY } from '../catalog/duration.js';
import { fromLocal, toLocal } from '../catalog/time-zone.js';

/** Minutes since local midnight of "HH:MM". */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** The instant of local time `hhmm` on the local day `daysFromToday` away from the day of `ms`. */
export function atLocalTime(ms: number, daysFromToday: number, hhmm: string, timeZone: string): number {
  const l = toLocal(ms, timeZone);
  const midnight = Date.UTC(l.year, l.month - 1, l.day) + daysFromToday * DAY;
  const d = new Date(midnight);
  const minutes = minutesOf(hhmm);
  return fromLocal(
    { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0 },
    timeZone,
  );
}

/** Whether `ms` falls in quiet hours [from, to) local time; the window may cross midnight. */
export function inQuietHours(ms: number, quiet: { from: string; to: string } | undefined, timeZone: string): boolean {
  if (!quiet) return false;
  const l = toLocal(ms, timeZone);
  const now = l.hour * 60 + l.minute;
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/** `ms` itself, or the end of the quiet hours it falls in. */
export function afterQuietHours(ms: number, quiet: { from: string; to: string } | undefined, timeZone: string): number {
  if (!inQuietHours(ms, quiet, timeZone)) return ms;
  const todayEnd = atLocalTime(ms, 0, quiet!.to, timeZone);
  return todayEnd > ms ? todayEnd : atLocalTime(ms, 1, quiet!.to, timeZone);
}
