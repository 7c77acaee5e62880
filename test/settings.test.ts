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
});
