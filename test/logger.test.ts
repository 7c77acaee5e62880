import { Writable } from 'node:stream';
import { Api, HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

const TOKEN = '123456789:AAH-real-looking_secret_part_0123456789';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, log: createLogger({ destination }) };
}

describe('createLogger', () => {
  it('keeps the bot token out of a logged network error, whose message quotes the Telegram URL', async () => {
    // A real grammY error: nothing listens on port 1, so the request fails at once.
    const error = await new Api(TOKEN, { apiRoot: 'http://127.0.0.1:1' }).getMe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(JSON.stringify({ message: (error as HttpError).message, inner: String((error as HttpError).error) })).toContain(TOKEN);

    const { lines, log } = capture();
    log.warn({ err: error }, 'could not register the command menu');
    log.error(`request to http://127.0.0.1:1/bot${TOKEN}/getMe failed`);
    const out = lines.join('');
    expect(out).not.toContain(TOKEN.split(':')[1]);
    expect(out).toContain('/bot[redacted]/getMe');
    expect(lines).toHaveLength(2);
  });

  it('masks phone numbers in messages and drops secrets by field name', () => {
    const { lines, log } = capture();
    log.info({ apiKey: 'k-123', nested: { secret: 's-456' } }, 'invoice for +7 701 555 12 34');
    const out = lines.join('');
    expect(out).not.toMatch(/k-123|s-456|555 12 34/);
    expect(out).toContain('7 701***1234');
  });
});
