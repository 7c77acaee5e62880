import { describe, expect, it } from 'vitest';
import { afterQuietHours, atLocalTime, inQuietHours, minutesOf } from '../../src/lifecycle/local-time.js';

const ZONE = 'Asia/Almaty';
/** Almaty wall-clock time as an instant (UTC+5 all year). */
const almaty = (local: string) => Date.parse(`${local}:00+05:00`);
const NIGHT = { from: '22:00', to: '09:00' };

describe('minutesOf', () => {
  it('counts minutes since midnight of an HH:MM time', () => {
    expect(minutesOf('00:00')).toBe(0);
    expect(minutesOf('09:00')).toBe(540);
    expect(minutesOf('22:00')).toBe(1320);
    expect(minutesOf('23:59')).toBe(1439);
    expect(minutesOf('07:05')).toBe(425);
  });
});

describe('atLocalTime', () => {
  it('gives the local time of day on the same local day', () => {
    expect(atLocalTime(almaty('2026-12-10T15:00'), 0, '10:00', ZONE)).toBe(almaty('2026-12-10T10:00'));
  });

  it('counts days back from the local day, not the UTC day', () => {
    // 02:00 in Almaty is still the previous day in UTC (21:00 on the 9th).
    const earlyMorning = almaty('2026-12-10T02:00');
    expect(new Date(earlyMorning).getUTCDate()).toBe(9);
    expect(atLocalTime(earlyMorning, -3, '10:00', ZONE)).toBe(almaty('2026-12-07T10:00'));
    expect(atLocalTime(earlyMorning, 0, '10:00', ZONE)).toBe(almaty('2026-12-10T10:00'));
  });

  it('crosses month and year boundaries', () => {
    expect(atLocalTime(almaty('2027-01-02T12:00'), -3, '10:00', ZONE)).toBe(almaty('2026-12-30T10:00'));
    expect(atLocalTime(almaty('2026-12-31T23:30'), 1, '09:00', ZONE)).toBe(almaty('2027-01-01T09:00'));
    expect(atLocalTime(almaty('2028-03-01T08:00'), -1, '10:00', ZONE)).toBe(almaty('2028-02-29T10:00'));
  });

  it('keeps the wall-clock time across a daylight-saving change', () => {
    // Berlin moves from +01:00 to +02:00 on 29 March 2026.
    expect(atLocalTime(Date.parse('2026-03-30T12:00:00+02:00'), -3, '10:00', 'Europe/Berlin')).toBe(Date.parse('2026-03-27T10:00:00+01:00'));
    expect(atLocalTime(Date.parse('2026-03-27T12:00:00+01:00'), 3, '10:00', 'Europe/Berlin')).toBe(Date.parse('2026-03-30T10:00:00+02:00'));
  });
});

describe('inQuietHours', () => {
  it('is never quiet without quiet hours', () => {
    expect(inQuietHours(almaty('2026-12-10T03:00'), undefined, ZONE)).toBe(false);
  });

  it('treats 22:00–09:00 as one window across midnight, starting at 22:00 and ending at 09:00', () => {
    const quiet = (local: string) => inQuietHours(almaty(local), NIGHT, ZONE);
    expect(quiet('2026-12-10T21:59')).toBe(false);
    expect(quiet('2026-12-10T22:00')).toBe(true);
    expect(quiet('2026-12-10T23:30')).toBe(true);
    expect(quiet('2026-12-11T00:00')).toBe(true);
    expect(quiet('2026-12-11T08:00')).toBe(true);
    expect(quiet('2026-12-11T08:59')).toBe(true);
    expect(quiet('2026-12-11T09:00')).toBe(false);
    expect(quiet('2026-12-11T14:00')).toBe(false);
  });

  it('treats a daytime window as [from, to)', () => {
    const lunch = { from: '13:00', to: '14:00' };
    expect(inQuietHours(almaty('2026-12-10T12:59'), lunch, ZONE)).toBe(false);
    expect(inQuietHours(almaty('2026-12-10T13:00'), lunch, ZONE)).toBe(true);
    expect(inQuietHours(almaty('2026-12-10T13:59'), lunch, ZONE)).toBe(true);
    expect(inQuietHours(almaty('2026-12-10T14:00'), lunch, ZONE)).toBe(false);
    expect(inQuietHours(almaty('2026-12-10T23:00'), lunch, ZONE)).toBe(false);
  });

  it('reads the clock of the given time zone', () => {
    // 23:00 in Almaty is 19:00 in Berlin (winter): quiet in one, not in the other.
    const instant = almaty('2026-12-10T23:00');
    expect(inQuietHours(instant, NIGHT, ZONE)).toBe(true);
    expect(inQuietHours(instant, NIGHT, 'Europe/Berlin')).toBe(false);
  });
});

describe('afterQuietHours', () => {
  it('leaves a time outside quiet hours alone', () => {
    expect(afterQuietHours(almaty('2026-12-10T10:00'), NIGHT, ZONE)).toBe(almaty('2026-12-10T10:00'));
    expect(afterQuietHours(almaty('2026-12-10T21:59'), NIGHT, ZONE)).toBe(almaty('2026-12-10T21:59'));
    expect(afterQuietHours(almaty('2026-12-10T03:00'), undefined, ZONE)).toBe(almaty('2026-12-10T03:00'));
  });

  it('moves a morning time in quiet hours to 09:00 the same day', () => {
    expect(afterQuietHours(almaty('2026-12-10T08:00'), NIGHT, ZONE)).toBe(almaty('2026-12-10T09:00'));
    expect(afterQuietHours(almaty('2026-12-10T00:00'), NIGHT, ZONE)).toBe(almaty('2026-12-10T09:00'));
  });

  it('moves an evening time in quiet hours to 09:00 the next day', () => {
    expect(afterQuietHours(almaty('2026-12-10T22:00'), NIGHT, ZONE)).toBe(almaty('2026-12-11T09:00'));
    expect(afterQuietHours(almaty('2026-12-10T23:30'), NIGHT, ZONE)).toBe(almaty('2026-12-11T09:00'));
    expect(afterQuietHours(almaty('2026-12-31T23:30'), NIGHT, ZONE)).toBe(almaty('2027-01-01T09:00'));
  });

  it('moves a time in a daytime window to its end', () => {
    expect(afterQuietHours(almaty('2026-12-10T13:30'), { from: '13:00', to: '14:00' }, ZONE)).toBe(almaty('2026-12-10T14:00'));
  });
});
