import { describe, expect, it } from 'vitest';
import { planReminder, reminderDueAt, type ReminderRules } from '../../src/lifecycle/plan-reminder.js';

const ZONE = 'Asia/Almaty';
/** Almaty wall-clock time as an instant (UTC+5 all year). */
const almaty = (local: string) => Date.parse(`${local}:00+05:00`);
const MINUTE = 60_000;

const RULES: ReminderRules = { daysBeforeEnd: [3, 1, 0], time: '10:00', timeZone: ZONE };
const QUIET: ReminderRules = { ...RULES, quietHours: { from: '22:00', to: '09:00' } };
/** A subscription ending 10 December 2026 at 15:00 in Almaty. */
const END = almaty('2026-12-10T15:00');
const none = new Set<number>();

describe('when each reminder is due', () => {
  it('puts the 3, 1 and 0-day reminders at 10:00 Almaty on 7, 9 and 10 December', () => {
    expect(reminderDueAt(END, 3, RULES)).toBe(almaty('2026-12-07T10:00'));
    expect(reminderDueAt(END, 1, RULES)).toBe(almaty('2026-12-09T10:00'));
    expect(reminderDueAt(END, 0, RULES)).toBe(almaty('2026-12-10T10:00'));
  });

  it('puts the same-day reminder before the end when the subscription ends before the reminder time', () => {
    const end = almaty('2026-12-10T08:00');
    expect(reminderDueAt(end, 0, RULES)).toBe(almaty('2026-12-10T07:00'));
    expect(reminderDueAt(end, 0, RULES)).toBeLessThan(end);
    expect(reminderDueAt(end, 1, RULES)).toBe(almaty('2026-12-09T10:00'));
    expect(reminderDueAt(end, 3, RULES)).toBe(almaty('2026-12-07T10:00'));
  });

  it('moves the same-day reminder before the end also when the end is exactly at the reminder time', () => {
    const end = almaty('2026-12-10T10:00');
    expect(reminderDueAt(end, 0, RULES)).toBe(almaty('2026-12-10T09:00'));
  });

  it('defers a reminder time inside quiet hours (22:00–09:00, reminders at 08:00) to 09:00', () => {
    const early = { ...QUIET, time: '08:00' };
    expect(reminderDueAt(END, 3, early)).toBe(almaty('2026-12-07T09:00'));
    expect(reminderDueAt(END, 1, early)).toBe(almaty('2026-12-09T09:00'));
    expect(reminderDueAt(END, 0, early)).toBe(almaty('2026-12-10T09:00'));
  });

  it('makes a reminder due at 23:30 wait until 09:00 the next day', () => {
    const late = { ...QUIET, time: '23:30' };
    expect(reminderDueAt(END, 3, late)).toBe(almaty('2026-12-08T09:00'));
    expect(reminderDueAt(END, 1, late)).toBe(almaty('2026-12-10T09:00'));
  });

  it('counts back across month ends by Almaty days: an end on 1 March 2027 gets its reminders on 26 and 28 February, one on 1 January on 29 and 31 December', () => {
    expect(reminderDueAt(almaty('2027-03-01T15:00'), 3, RULES)).toBe(almaty('2027-02-26T10:00'));
    expect(reminderDueAt(almaty('2027-03-01T15:00'), 1, RULES)).toBe(almaty('2027-02-28T10:00'));
    // 02:00 on 1 March in Almaty is still 28 February in UTC.
    expect(reminderDueAt(almaty('2027-03-01T02:00'), 3, RULES)).toBe(almaty('2027-02-26T10:00'));
    expect(reminderDueAt(almaty('2027-01-01T15:00'), 3, RULES)).toBe(almaty('2026-12-29T10:00'));
    expect(reminderDueAt(almaty('2027-01-01T15:00'), 1, RULES)).toBe(almaty('2026-12-31T10:00'));
  });

  it('leaves a reminder time outside quiet hours where it is', () => {
    expect(reminderDueAt(END, 3, QUIET)).toBe(almaty('2026-12-07T10:00'));
  });
});

describe('which reminder a subscription gets now', () => {
  it('gets nothing before the first reminder is due', () => {
    expect(planReminder(END, none, RULES, almaty('2026-12-01T10:00'))).toBeUndefined();
    expect(planReminder(END, none, RULES, almaty('2026-12-07T10:00') - 1)).toBeUndefined();
  });

  it('gets the 3-day reminder from 10:00 on 7 December', () => {
    expect(planReminder(END, none, RULES, almaty('2026-12-07T10:00'))).toEqual({ offset: 3, skip: [] });
    expect(planReminder(END, none, RULES, almaty('2026-12-08T18:00'))).toEqual({ offset: 3, skip: [] });
  });

  it('gets each later reminder once the earlier ones are handled', () => {
    expect(planReminder(END, new Set([3]), RULES, almaty('2026-12-09T10:00'))).toEqual({ offset: 1, skip: [] });
    expect(planReminder(END, new Set([3, 1]), RULES, almaty('2026-12-10T10:00'))).toEqual({ offset: 0, skip: [] });
  });

  it('does not repeat handled offsets', () => {
    expect(planReminder(END, new Set([3]), RULES, almaty('2026-12-07T10:01'))).toBeUndefined();
    expect(planReminder(END, new Set([3]), RULES, almaty('2026-12-09T09:59'))).toBeUndefined();
    expect(planReminder(END, new Set([3, 1, 0]), RULES, almaty('2026-12-10T14:59'))).toBeUndefined();
  });

  it('after a 3-day downtime with all three due, decides on one reminder, the closest to the end, and skips the others', () => {
    expect(planReminder(END, none, RULES, almaty('2026-12-10T11:00'))).toEqual({ offset: 0, skip: [3, 1] });
    expect(planReminder(END, new Set([3]), RULES, almaty('2026-12-10T11:00'))).toEqual({ offset: 0, skip: [1] });
    expect(planReminder(END, none, RULES, almaty('2026-12-09T12:00'))).toEqual({ offset: 1, skip: [3] });
  });

  it('sends nothing at or after the end, even when nothing was sent', () => {
    expect(planReminder(END, none, RULES, END - MINUTE)).toEqual({ offset: 0, skip: [3, 1] });
    expect(planReminder(END, none, RULES, END)).toBeUndefined();
    expect(planReminder(END, none, RULES, END + 2 * 86_400_000)).toBeUndefined();
  });

  it('sends nothing during quiet hours, and the due reminder at 09:00', () => {
    // The 1-day reminder is due at 10:00 on the 9th; at 23:00 that night it is still unhandled.
    expect(planReminder(END, new Set([3]), QUIET, almaty('2026-12-09T23:00'))).toBeUndefined();
    expect(planReminder(END, new Set([3]), QUIET, almaty('2026-12-10T08:59'))).toBeUndefined();
    expect(planReminder(END, new Set([3]), QUIET, almaty('2026-12-10T09:00'))).toEqual({ offset: 1, skip: [] });
  });

  it('never sends a same-day reminder that quiet hours would push past the end', () => {
    // Ends 08:00: the day-of reminder would be 07:00, inside quiet hours, so 09:00 — after the end.
    const end = almaty('2026-12-10T08:00');
    expect(reminderDueAt(end, 0, QUIET)).toBe(almaty('2026-12-10T09:00'));
    expect(planReminder(end, new Set([3, 1]), QUIET, almaty('2026-12-10T07:59'))).toBeUndefined();
    expect(planReminder(end, new Set([3, 1]), QUIET, almaty('2026-12-10T09:00'))).toBeUndefined();
  });

  it('sends nothing when the catalog has no reminder days', () => {
    expect(planReminder(END, none, { ...RULES, daysBeforeEnd: [] }, almaty('2026-12-10T11:00'))).toBeUndefined();
  });

  it('gives the same answer for the same inputs', () => {
    const now = almaty('2026-12-10T11:00');
    const handled = new Set([3]);
    expect(planReminder(END, handled, RULES, now)).toEqual(planReminder(END, handled, RULES, now));
    expect([...handled]).toEqual([3]);
  });
});
