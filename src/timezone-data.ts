/** A zone's UTC offset at an instant, like `+05:00`, by this Node.js's time-zone data. */
export type OffsetOf = (timeZone: string, at: Date) => string;

/** {@link OffsetOf} from `Intl` (Node's ICU carries the time-zone data). */
export const utcOffset: OffsetOf = (timeZone, at) => {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
  // 'GMT+05:00'; UTC itself is plain 'GMT'.
  return name === 'GMT' ? '+00:00' : name.replace(/^GMT/, '');
};

/** Kazakhstan moved Asia/Almaty from UTC+6 to UTC+5 on 1 March 2024 (Node.js 20.12 has it). */
export const ALMATY = { zone: 'Asia/Almaty', offset: '+05:00', probe: new Date('2024-06-01T00:00:00Z') } as const;

/**
 * Asia/Almaty's offset after 1 March 2024 by this Node.js's data, and whether it is the real one
 * (+05:00). Older Node.js releases say +06:00: reminders and expiry in Kazakhstan would be an hour off.
 */
export function checkAlmatyOffset(offsetOf: OffsetOf = utcOffset): { ok: boolean; offset: string } {
  const offset = offsetOf(ALMATY.zone, ALMATY.probe);
  return { ok: offset === ALMATY.offset, offset };
}

/** The start-up refusal for old time-zone data, in one sentence; undefined when the data is current. */
export function outdatedTimezoneData(offsetOf: OffsetOf = utcOffset): string | undefined {
  const { ok, offset } = checkAlmatyOffset(offsetOf);
  if (ok) return undefined;
  return `This Node.js has old time-zone data (it puts Asia/Almaty at UTC${offset}, not UTC+05:00 as since 1 March 2024, so every time in Kazakhstan would be an hour off): update Node.js to 20.12 or newer.`;
}
