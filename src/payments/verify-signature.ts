import { createHmac, timingSafeEqual } from 'node:crypto';

const HEX_64 = /^[0-9a-f]{64}$/i;

/**
 * Checks `X-AiPay-Signature`: exactly 64 hex characters equal, in constant time, to
 * HMAC-SHA256(raw body, secret). Anything else (missing, short, "<hex>zz") is false, never a throw.
 */
export function verifySignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined || !HEX_64.test(header)) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(header, 'hex'));
}
