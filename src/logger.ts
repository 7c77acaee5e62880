import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Paths of fields that never reach a log line, whatever logs them. */
const REDACT = [
  'token',
  'botToken',
  'apiKey',
  'secret',
  'webhookSecret',
  'authorization',
  'headers.authorization',
  'headers["x-aipay-signature"]',
  'headers["x-telegram-bot-api-secret-token"]',
  '*.token',
  '*.apiKey',
  '*.secret',
];

/** Masks anything that looks like a Kazakhstan phone number: 77011234567 → 7701***4567. */
export function redactPhones(text: string): string {
  return text.replace(/(?<!\d)(\+?7|8)(\s?\d{3})\s?\d{3}\s?(\d{2}\s?\d{2})(?!\d)/g, (_m, c: string, a: string, b: string) => `${c}${a}***${b.replace(/\s/g, '')}`);
}

/**
 * Removes bot tokens from text: Telegram's API URLs carry them (`…/bot<id>:<secret>/method`), and
 * network errors quote the URL they failed on, nested where no field path reaches.
 */
export function redactBotTokens(text: string): string {
  return text.replace(/\d{5,}:[\w-]{30,}/g, '[redacted]');
}

/**
 * JSON-lines logger with level and time; secrets are removed by path, bot tokens wherever they
 * appear, and phone numbers masked in every message. `destination` defaults to stdout.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? redactPhones(a) : a));
          return method.apply(this, masked as Parameters<typeof method>);
        },
        // A last look at every finished line, whatever was logged and however deeply nested.
        streamWrite: redactBotTokens,
      },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination,
  );
}

/** A logger that writes nothing (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
