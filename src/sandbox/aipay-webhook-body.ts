import { createHmac } from 'node:crypto';

/**
 * Lowercase hex `HMAC-SHA256(rawBody, secret)`: the value AiPay puts in `X-AiPay-Signature`.
 * A string body is hashed as its UTF-8 bytes. Never throws.
 */
export function signAipayBody(rawBody: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Options of {@link serializeAipayBody}. */
export interface SerializeAipayBodyOptions {
  /**
   * Pretty-print with two-space indentation and escape every non-ASCII character as `\uXXXX`, so the raw
   * bytes differ from any re-serialisation of the parsed object (default: false, compact `JSON.stringify`).
   */
  pretty?: boolean;
}

/**
 * The exact bytes (as a string) a webhook carries: compact JSON by default, or pretty and ASCII-only.
 * Throws a TypeError if `payload` cannot be serialised (e.g. a BigInt or a cycle).
 */
export function serializeAipayBody(payload: unknown, opts: SerializeAipayBodyOptions = {}): string {
  const json = opts.pretty ? JSON.stringify(payload, null, 2) : JSON.stringify(payload);
  if (json === undefined) throw new TypeError('webhook payload is not JSON-serialisable');
  return opts.pretty ? escapeNonAscii(json) : json;
}

/**
 * Replaces every UTF-16 code unit above U+007F with its `\uXXXX` escape (lowercase hex, as Python's
 * `json.dumps` does). Only valid inside JSON strings, which is the only place non-ASCII occurs in JSON text.
 */
export function escapeNonAscii(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** An instant as AiPay writes it: ISO 8601 UTC, whole seconds, `Z` suffix (`2026-03-27T02:17:43Z`). */
export function aipayTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
