/** The fields of an AiPay webhook the bot acts on; everything else is kept in the raw body. */
export interface AipayEvent {
  event: string;
  invoiceId: string;
  externalId: string;
  amount?: number;
  paidAt?: string;
}

export type ParseResult = { ok: true; event: AipayEvent } | { ok: false; error: string };

/**
 * Strict parse of a verified body: a JSON object with string `event`, `invoice_id`,
 * `external_id`; an integer `amount` (required for invoice.paid); a string `paid_at` if present.
 * Extra fields are allowed. Duplicate keys: JSON.parse keeps the last, and so do we — the
 * signature covers the bytes, so only AiPay could have written them.
 */
export function parseEvent(raw: Buffer): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, error: 'body is not JSON' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'body is not a JSON object' };
  const b = body as Record<string, unknown>;
  for (const field of ['event', 'invoice_id', 'external_id'] as const) {
    if (typeof b[field] !== 'string' || (b[field] as string).length === 0 || (b[field] as string).length > 200) {
      return { ok: false, error: `${field} must be a non-empty string` };
    }
  }
  if (b.amount !== undefined && (typeof b.amount !== 'number' || !Number.isSafeInteger(b.amount) || b.amount < 0)) {
    return { ok: false, error: 'amount must be a whole number of tenge' };
  }
  if (b.event === 'invoice.paid' && b.amount === undefined) return { ok: false, error: 'amount is required for invoice.paid' };
  if (b.paid_at !== undefined && (typeof b.paid_at !== 'string' || Number.isNaN(Date.parse(b.paid_at)))) {
    return { ok: false, error: 'paid_at must be an ISO date-time' };
  }
  return {
    ok: true,
    event: {
      event: b.event as string,
      invoiceId: b.invoice_id as string,
      externalId: b.external_id as string,
      amount: b.amount as number | undefined,
      paidAt: b.paid_at as string | undefined,
    },
  };
}
