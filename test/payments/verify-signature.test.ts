import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/payments/verify-signature.js';

const SECRET = 'test-webhook-secret';
const BODY = Buffer.from('{"event":"invoice.paid","invoice_id":"inv_abc123","external_id":"order_telegram_98765","amount":4900,"paid_at":"2026-03-27T02:17:43Z"}');
const hmac = (body: Buffer | string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const VALID = hmac(BODY);

describe('verifySignature', () => {
  it.each<[string, string | undefined, boolean]>([
    ['the lowercase hex HMAC of the raw body', VALID, true],
    ['the same HMAC in uppercase hex', VALID.toUpperCase(), true],
    ['the same HMAC in mixed case', VALID.slice(0, 32).toUpperCase() + VALID.slice(32), true],
    ['an HMAC under a wrong secret', hmac(BODY, 'wrong-secret'), false],
    ['an HMAC of another body', hmac(Buffer.concat([BODY, Buffer.from(' ')])), false],
    ['63 hex characters (the valid one, truncated)', VALID.slice(0, 63), false],
    ['65 hex characters (the valid one plus a digit)', `${VALID}0`, false],
    ['the valid one followed by "zz" (Buffer.from(…, "hex") would stop there)', `${VALID}zz`, false],
    ['64 characters ending in a non-hex one', `${VALID.slice(0, 63)}z`, false],
    ['the valid one with surrounding spaces', ` ${VALID} `, false],
    ['the valid one with a "sha256=" prefix', `sha256=${VALID}`, false],
    ['the HMAC in base64', createHmac('sha256', SECRET).update(BODY).digest('base64'), false],
    ['128 hex characters (two HMACs)', VALID + VALID, false],
    ['an empty header', '', false],
    ['no header at all', undefined, false],
  ])('%s → %s', (_name, header, expected) => {
    expect(verifySignature(BODY, header, SECRET)).toBe(expected);
  });

  it('never throws, whatever the header', () => {
    for (const header of ['', 'z', '0'.repeat(64), 'g'.repeat(64), '0'.repeat(1000), '\u0000'.repeat(64), 'é'.repeat(32)]) {
      expect(() => verifySignature(BODY, header, SECRET)).not.toThrow();
      expect(verifySignature(BODY, header, SECRET)).toBe(false);
    }
  });

  it('checks the exact bytes: a pretty-printed body with \\u00e9 escapes verifies against its own HMAC only', () => {
    const compact = Buffer.from('{"description":"café"}');
    const pretty = Buffer.from('{\n  "description": "caf\\u00e9"\n}');
    expect(verifySignature(pretty, hmac(pretty), SECRET)).toBe(true);
    expect(verifySignature(pretty, hmac(compact), SECRET)).toBe(false);
    expect(verifySignature(compact, hmac(pretty), SECRET)).toBe(false);
  });

  it('verifies an empty body against the HMAC of nothing', () => {
    expect(verifySignature(Buffer.alloc(0), hmac(''), SECRET)).toBe(true);
    expect(verifySignature(Buffer.alloc(0), VALID, SECRET)).toBe(false);
  });
});
