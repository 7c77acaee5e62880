import express, { type Request, type Response, type Router } from 'express';
import type { CatalogStore } from '../catalog/catalog-store.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Outbox } from '../outbox/outbox.js';
import { parseEvent } from '../payments/parse-event.js';
import { recordEvent, type EventOutcome } from '../payments/record-event.js';
import type { Orders } from '../payments/orders.js';
import { verifySignature } from '../payments/verify-signature.js';
import { DatabaseBusy, DatabaseUnavailable, toStoreError } from '../storage/errors.js';
import type { Db } from '../storage/open-database.js';
import { GroupCommit } from '../storage/group-commit.js';
import { writeHealth } from '../storage/write-health.js';

export type RejectReason = 'signature' | 'malformed' | 'too_large' | 'busy' | 'unavailable' | 'error';

export interface AipayWebhookOptions {
  db: Db;
  orders: Orders;
  outbox: Outbox;
  catalog: CatalogStore;
  clock: Clock;
  log: Logger;
  webhookSecret: string;
  /** Called after the transaction commits, e.g. to wake the outbox worker. */
  onRecorded?: (outcome: EventOutcome) => void;
  onRejected?: (reason: RejectReason) => void;
}

/** Largest body accepted; AiPay's events are a few hundred bytes. */
export const WEBHOOK_BODY_LIMIT = '64kb';

/**
 * `POST /webhook/aipay`: raw bytes → signature (403) → strict parse (400) → one transaction
 * (shared with webhooks that arrived together) → 200. A locked database, or one that cannot
 * store anything now (disk full, I/O error, read-only), is 503, so AiPay may retry and nothing is
 * acknowledged that isn't stored; any other failure is 500.
 */
export function aipayWebhookRouter(o: AipayWebhookOptions): Router {
  const router = express.Router();
  // Webhooks arriving together share one commit (one fsync); see GroupCommit.
  const commits = new GroupCommit(o.db);
  // Raw body on this route only: the signature is over the exact bytes AiPay sent.
  router.post('/webhook/aipay', express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }), (req: Request, res: Response) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifySignature(raw, req.get('x-aipay-signature'), o.webhookSecret)) {
      o.onRejected?.('signature');
      o.log.warn({ reason: 'signature', bytes: raw.length }, 'aipay webhook rejected');
      res.status(403).json({ error: 'invalid signature' });
      return;
    }
    const parsed = parseEvent(raw);
    if (!parsed.ok) {
      o.onRejected?.('malformed');
      o.log.warn({ reason: 'malformed', error: parsed.error }, 'aipay webhook rejected');
      res.status(400).json({ error: parsed.error });
      return;
    }
    const e = parsed.event;
    const received = o.clock.now();
    // What the write met is what /healthz reports about the database (see writeHealth); a
    // duplicate wrote nothing, so it proves nothing.
    const answer = (outcome: EventOutcome) => {
      if (outcome !== 'duplicate') writeHealth(o.db).succeeded();
      o.log.info({ event: e.event, invoiceId: e.invoiceId, externalId: e.externalId, amount: e.amount, outcome }, 'aipay event');
      o.onRecorded?.(outcome);
      res.status(200).json({ ok: true, outcome });
    };
    const refuse = (error: unknown) => {
      const typed = toStoreError(error);
      const reason: RejectReason = typed instanceof DatabaseBusy ? 'busy' : typed instanceof DatabaseUnavailable ? 'unavailable' : 'error';
      if (reason === 'unavailable') writeHealth(o.db).failed(typed);
      o.onRejected?.(reason);
      o.log.error({ err: typed, reason, invoiceId: e.invoiceId, externalId: e.externalId, event: e.event }, 'aipay webhook not recorded');
      res.status(reason === 'error' ? 500 : 503).json({ error: reason === 'busy' ? 'busy, retry' : 'not recorded, retry' });
    };
    // Answered only after the commit: 200 means stored, whatever happens next.
    commits.run(() => recordEvent({ db: o.db, orders: o.orders, outbox: o.outbox, catalog: o.catalog.current() }, e, raw.toString('utf8'), received)).then(answer, refuse);
  });
  return router;
}
