import { describe, expect, it } from 'vitest';
import { readSettings } from '../src/settings.js';

const live = { BOT_TOKEN: '123456789:AAH-real-looking_secret_part_0123456789', AIPAY_API_KEY: 'k', AIPAY_WEBHOOK_SECRET: 's' };

describe('readSettings', () => {
  it('takes blank values as unset, so an .env copied from .env.example works', () => {
    const s = readSettings({ ...live, CATALOG_PATH: '', DATABASE_PATH: ' ', PORT: '', AIPAY_BASE_URL: '' });
    expect([s.catalogPath, s.databasePath, s.port, s.aipayBaseUrl]).toEqual(['catalog.yaml', 'data/bot.db', 3000, 'https://api.aipay.kz/v1']);
  });

  it('refuses port 0, as its message says', () => {
    expect(() => readSettings({ ...live, PORT: '0' })).toThrow('PORT must be a number from 1 to 65535, like 3000 (it is "0"). Fix it in .env.');
  });

  it('says http:// is for a server on this machine when an address has another scheme', () => {
    expect(() => readSettings({ ...live, AIPAY_BASE_URL: 'ftp://api.aipay.kz' })).toThrow('AIPAY_BASE_URL must start with https:// (or http:// for a server on this machine).');
    expect(readSettings({ ...live, AIPAY_BASE_URL: 'http://127.0.0.1:8080/v1' }).aipayBaseUrl).toBe('http://127.0.0.1:8080/v1');
  });

  it('reads PLAYGROUND_START as an instant, and refuses a day that is not on the calendar or a time without its offset', () => {
    expect(readSettings({}).playgroundStart).toBeUndefined();
    expect(readSettings({ PLAYGROUND_START: '2027-01-30T10:00+05:00' }).playgroundStart).toBe(Date.UTC(2027, 0, 30, 5));
    expect(readSettings({ PLAYGROUND_START: '2027-02-28' }).playgroundStart).toBe(Date.UTC(2027, 1, 28));
    const refused = 'PLAYGROUND_START must be an ISO date, like 2027-01-30 or 2027-01-30T10:00+05:00';
    expect(() => readSettings({ PLAYGROUND_START: '2027-02-30' })).toThrow(`${refused} (it is "2027-02-30").`);
    expect(() => readSettings({ PLAYGROUND_START: '2027-01-30T10:00' })).toThrow(refused);
    expect(() => readSettings({ PLAYGROUND_START: '30.01.2027' })).toThrow(refused);
  });
});
