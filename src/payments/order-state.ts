/** Every state an order can be in, and the moves between them, in one place. */
export type OrderState = 'created' | 'invoiced' | 'paid' | 'expired' | 'failed' | 'cancelled' | 'stale';

const ALLOWED: Record<OrderState, readonly OrderState[]> = {
  created: ['invoiced', 'failed', 'cancelled', 'stale', 'paid'],
  invoiced: ['paid', 'expired', 'failed', 'cancelled', 'stale'],
  // Money taken is always honoured: paid may follow any state, and nothing follows paid.
  expired: ['paid'],
  failed: ['paid'],
  cancelled: ['paid'],
  stale: ['paid', 'expired', 'failed'],
  paid: [],
};

export function canMove(from: OrderState, to: OrderState): boolean {
  return ALLOWED[from].includes(to);
}

/** States in which an invoice may still be paid by the customer ("open"). */
export const OPEN_STATES: readonly OrderState[] = ['created', 'invoiced'];
