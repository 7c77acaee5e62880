import { afterQuietHours, atLocalTime, inQuietHours } from './local-time.js';

export interface ReminderRules {
  /** Offsets in days before the end, e.g. [3, 1, 0]. */
  daysBeforeEnd: readonly number[];
  /** Local time of day, "HH:MM". */
  time: string;
  quietHours?: { from: string; to: string };
  timeZone: string;
}

export interface ReminderDecision {
  /** The offset to send now. */
  offset: number;
  /** Earlier offsets that were missed (downtime) and will never be sent. */
  skip: number[];
}

/**
 * When the reminder for `offset` days before `endsAt` is due: that local day at the reminder time
 * (but before the end itself), moved past quiet hours.
 */
export function reminderDueAt(endsAt: number, offset: number, rules: ReminderRules): number {
  let at = atLocalTime(endsAt, -offset, rules.time, rules.timeZone);
  if (at >= endsAt) at = endsAt - 60 * 60_000; // "the day itself" for a subscription ending before the reminder time
  return afterQuietHours(at, rules.quietHours, rules.timeZone);
}

/**
 * Which reminder a subscription gets now, if any: of the offsets that are due and not yet handled,
 * only the one closest to the end (after downtime, one reminder, not a burst); never after the end,
 * never in quiet hours. Pure: the same rows and `now` give the same answer.
 */
export function planReminder(endsAt: number, handled: ReadonlySet<number>, rules: ReminderRules, now: number): ReminderDecision | undefined {
  if (now >= endsAt || inQuietHours(now, rules.quietHours, rules.timeZone)) return undefined;
  const due = rules.daysBeforeEnd.filter((k) => !handled.has(k) && reminderDueAt(endsAt, k, rules) <= now);
  if (due.length === 0) return undefined;
  const offset = Math.min(...due);
  return { offset, skip: due.filter((k) => k !== offset) };
}
