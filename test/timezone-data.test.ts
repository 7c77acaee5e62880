import { describe, expect, it } from 'vitest';
import { checkAlmatyOffset, outdatedTimezoneData, utcOffset, type OffsetOf } from '../src/timezone-data.js';

describe('time-zone data', () => {
  it("reads a zone's offset as +HH:MM from this Node.js", () => {
    expect(utcOffset('Asia/Almaty', new Date('2024-06-01T00:00:00Z'))).toBe('+05:00');
    expect(utcOffset('Asia/Almaty', new Date('2023-06-01T00:00:00Z'))).toBe('+06:00');
    expect(utcOffset('UTC', new Date('2024-06-01T00:00:00Z'))).toBe('+00:00');
    expect(utcOffset('America/New_York', new Date('2024-01-15T00:00:00Z'))).toBe('-05:00');
  });

  it('accepts data that puts Almaty at UTC+5 after 1 March 2024', () => {
    const asked: Array<[string, string]> = [];
    const current: OffsetOf = (zone, at) => (asked.push([zone, at.toISOString()]), '+05:00');
    expect(outdatedTimezoneData(current)).toBeUndefined();
    expect(asked).toEqual([['Asia/Almaty', '2024-06-01T00:00:00.000Z']]);
    expect(outdatedTimezoneData()).toBeUndefined(); // this machine's Node.js
  });

  it('refuses the data of Node.js before 20.12 (Almaty still at UTC+6) with one sentence saying to update', () => {
    const old: OffsetOf = () => '+06:00';
    expect(checkAlmatyOffset(old)).toEqual({ ok: false, offset: '+06:00' });
    expect(outdatedTimezoneData(old)).toBe(
      'This Node.js has old time-zone data (it puts Asia/Almaty at UTC+06:00, not UTC+05:00 as since 1 March 2024, so every time in Kazakhstan would be an hour off): update Node.js to 20.12 or newer.',
    );
  });
});
