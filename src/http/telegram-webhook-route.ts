import express, { type Request, type Response, type Router } from 'express';
import type { Update } from 'grammy/types';
import type { Inbox } from '../inbox/inbox.js';
import type { Logger } from '../logger.js';
import { toStoreError } from '../storage/errors.js';
import { sameSecret } from './same-secret.js';

/** Path Telegram posts updates to when PUBLIC_URL is set. */
export const TELEGRAM_WEBHOOK_PATH = '/webhook/telegram';

/** Largest update accepted; Telegram's updates are a few kilobytes. */
export const TELEGRAM_BODY_LIMIT = '256kb';

export interface TelegramWebhookOptions {
  /** Where updates are stored before Telegram gets its 200; the inbox dispatcher handles them from there. */
  inbox: Inbox;
  /** Told of an update just stored (wakes the dispatcher). */
  onStored: (updates: Update[]) => void;
  /** The secret_token given to setWebhook. */
  secretToken: string;
  log: Logger;
}

/**
 * `POST /webhook/telegram`: updates from Telegram in webhook mode. The secret token header is
 * checked first, in constant time, before any of the body is read (401); then the update is
 * parsed (at most {@link TELEGRAM_BODY_LIMIT}) and stored in the inbox, and answered 200 once it
 * is on disk: it is handled from there, exactly once, whatever its handling does (a handler
 * error is logged and the customer told, as in long polling). A redelivered update changes
 * nothing. Only a database that cannot store it answers 503, so that Telegram sends it again.
 */
export function telegramWebhookRouter(o: TelegramWebhookOptions): Router {
  const router = express.Router();
  router.post(
    TELEGRAM_WEBHOOK_PATH,
    (req: Request, res: Response, next) => {
      if (sameSecret(req.get('x-telegram-bot-api-secret-token'), o.secretToken)) return next();
      // The body is never read: close the connection rather than drain it.
      res.set('Connection', 'close').status(401).json({ error: 'unauthorized' });
    },
    express.json({ limit: TELEGRAM_BODY_LIMIT }),
    (req: Request, res: Response) => {
      const update = req.body as Update | undefined;
      if (typeof update !== 'object' || update === null || !Number.isSafeInteger(update.update_id)) {
        res.status(400).json({ error: 'not a Telegram update' });
        return;
      }
      let fresh: Update[];
      try {
        fresh = o.inbox.store([update]);
      } catch (error) {
        o.log.error({ err: toStoreError(error), updateId: update.update_id }, 'telegram update not stored: the database cannot commit; answered 503 so Telegram sends it again');
        res.status(503).json({ error: 'database unavailable, send again' });
        return;
      }
      res.status(200).end();
      if (fresh.length > 0) o.onStored(fresh);
    },
  );
  return router;
}
