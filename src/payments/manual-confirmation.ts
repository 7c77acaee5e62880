import { fulfilOrder } from '../access/fulfil-order.js';
import { audit } from '../admin/audit.js';
import type { Catalog } from '../catalog/types.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Db } from '../storage/open-database.js';
import type { Orders } from './orders.js';

export type ManualOutcome = 'confirmed' | 'already_paid' | 'rejected' | 'unknown_order';

/**
 * An admin confirms (or rejects) a payment no webhook reported. Confirm grants exactly as a
 * webhook would, in one transaction, recorded as a manual confirmation in the audit table.
 */
export function confirmManually(
  d: { db: Db; orders: Orders; outbox: Outbox; catalog: Catalog },
  orderId: number,
  adminId: number,
  decision: 'confirm' | 'reject',
  now: number,
): ManualOutcome {
  const { db, orders } = d;
  return db
    .transaction((): ManualOutcome => {
      const order = orders.get(orderId);
      if (!order) return 'unknown_order';
      const record = (action: string) => audit(db, adminId, action, { orderId, externalId: order.externalId, amount: order.amount }, now);
      if (order.state === 'paid') return 'already_paid';
      if (decision === 'reject') {
        record('payment_rejected');
        return 'rejected';
      }
      orders.move(orderId, 'paid', now, { paid_via: 'manual', paid_at: now });
      fulfilOrder(d, orders.get(orderId)!, now);
      record('payment_confirmed');
      return 'confirmed';
    })
    .immediate();
}
