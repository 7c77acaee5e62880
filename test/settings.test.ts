import { describe, expect, it } from 'vitest';
import { readSettings, SettingsError } from '../src/settings.js';

const live = { BOT_TOKEN: '123456789:AAH-real-looking_secret_part_0123456789', AIPAY_API_KEY: 'k', AIPAY_WEBHOOK_SECRET: 'whsec_0123456789abcdef' };

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
  it('sends at 30 messages a second unless TELEGRAM_SEND_RATE says a slower pace, and refuses a faster one', () => {
    expect(readSettings({}).sendRate).toBe(30);
    expect(readSettings({ TELEGRAM_SEND_RATE: '12.5' }).sendRate).toBe(12.5);
    const refused = 'TELEGRAM_SEND_RATE must be a number of messages per second from 1 to 30';
    expect(() => readSettings({ TELEGRAM_SEND_RATE: '60' })).toThrow(`${refused}, like 30 (it is "60").`);
    expect(() => readSettings({ TELEGRAM_SEND_RATE: 'fast' })).toThrow(refused);
  });
});

describe('AIPAY_WEBHOOK_SECRET and METRICS_TOKEN', () => {
  const refusal = (env: Record<string, string>) => {
    try {
      readSettings({ ...live, ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('refuses a webhook secret shorter than 16 characters, saying what to paste and never the value', () => {
    const message = refusal({ AIPAY_WEBHOOK_SECRET: 'x' });
    expect(message).toBe('AIPAY_WEBHOOK_SECRET is too short (1 character; at least 16): paste the whole webhook secret from your AiPay dashboard into .env.');
    expect(refusal({ AIPAY_WEBHOOK_SECRET: 'sixteen-chars-1' })).toContain('(15 characters; at least 16)');
    expect(readSettings({ ...live, AIPAY_WEBHOOK_SECRET: 'sixteen-chars-12' }).aipayWebhookSecret).toBe('sixteen-chars-12');
  });

  it('refuses a webhook secret with whitespace anywhere instead of trimming it, so the value used is the value AiPay signs with', () => {
    const secret = 'whsec_0123456789abcdef';
    for (const written of [`${secret}  `, ` ${secret}`, 'whsec_0123 456789abcdef', `${secret}\t`]) {
      const message = refusal({ AIPAY_WEBHOOK_SECRET: written });
      expect(message).toBe(
        'AIPAY_WEBHOOK_SECRET contains a space or a line break: paste the whole webhook secret from your AiPay dashboard into .env, with nothing around it (no spaces, no quotes).',
      );
      expect(message).not.toContain('0123');
    }
    expect(readSettings({ ...live, AIPAY_WEBHOOK_SECRET: '   ' }).aipayWebhookSecret).toBeUndefined(); // blank = not set
  });

  it('takes METRICS_TOKEN by the same rule, and leaves it unset (metrics off) by default', () => {
    expect(readSettings(live).metricsToken).toBeUndefined();
    expect(readSettings({ ...live, METRICS_TOKEN: 'a'.repeat(32) }).metricsToken).toBe('a'.repeat(32));
    expect(refusal({ METRICS_TOKEN: 'short' })).toBe(
      'METRICS_TOKEN is too short (5 characters; at least 16): paste a random one into .env, such as the output of openssl rand -hex 32.',
    );
  });
});

describe('HOST', () => {
  it('listens on 127.0.0.1 unless told otherwise, and takes an IP address', () => {
    expect(readSettings(live).host).toBe('127.0.0.1');
    expect(readSettings({ ...live, HOST: '' }).host).toBe('127.0.0.1');
    expect(readSettings({ ...live, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(readSettings({ ...live, HOST: '::1' }).host).toBe('::1');
    expect(() => readSettings({ ...live, HOST: 'my server' })).toThrow(
      'HOST must be an IP address of this server (it is "my server"). Remove it to use 127.0.0.1, where the reverse proxy reaches the bot, or write 0.0.0.0 for every address.',
    );
  });
});
