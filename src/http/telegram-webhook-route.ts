import express, { type Request, type Response, type Router } from 'express';
import { BotError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { BotContext } from '../bot/context.js';
import type { Logger } from '../logger.js';
import { ConstraintViolation, DatabaseBusy, StoreError, toStoreError, UniqueViolation } from '../storage/errors.js';
import { sameSecret } from './same-secret.js';

/** Path Telegram posts updates to when PUBLIC_URL is set. */
export const TELEGRAM_WEBHOOK_PATH = '/webhook/telegram';

/** Largest update accepted; Telegram's updates are a few kilobytes. */
export const TELEGRAM_BODY_LIMIT = '256kb';

export interface TelegramWebhookOptions {
  /** Handles each update; its error handler (`bot.catch`) hears about an update that failed. */
  bot: Pick<Bot<BotContext>, 'handleUpdate' | 'errorHandler'>;
  /** The secret_token given to setWebhook. */
  secretToken: string;
  log: Logger;
  /** An update still running after this is answered 200 and finished in the background, before Telegram gives up and sends it again (default: 9 000 ms). */
  answerWithinMs?: number;
}

/**
 * `POST /webhook/telegram`: updates from Telegram in webhook mode. The secret token header is
 * checked first, in constant time, before any of the body is read (401); then the update is
 * parsed (at most {@link TELEGRAM_BODY_LIMIT}) and handled. The answer is 200 once it is handled,
 * also when handling failed (the error is logged, the customer told, as in long polling):
 * redelivering would fail the same way each time. Only a database that cannot commit answers
 * 503, so that Telegram delivers the update again.
 */
export function telegramWebhookRouter(o: TelegramWebhookOptions): Router {
  const router = express.Router();
  const answerWithinMs = o.answerWithinMs ?? 9000;

  /** Handles one update: 'retry' when the database could not commit, 'done' otherwise. Never rejects. */
  const handle = async (update: Update): Promise<'done' | 'retry'> => {
    try {
      await o.bot.handleUpdate(update);
      return 'done';
    } catch (error) {
      const cause = error instanceof BotError ? error.error : error;
      if (cannotCommit(cause)) {
        o.log.error({ err: toStoreError(cause), updateId: update.update_id }, 'telegram update not handled: the database cannot commit; answered 503 so Telegram sends it again');
        return 'retry';
      }
      try {
        // bot.catch logs it and tells the customer, as the long-polling runner does.
        if (error instanceof BotError) await o.bot.errorHandler(error);
        else o.log.error({ err: error, updateId: update.update_id }, 'update failed');
      } catch (handlerError) {
        o.log.error({ err: handlerError, updateId: update.update_id }, 'update failed');
      }
      return 'done';
    }
  };

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
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<'slow'>((resolve) => {
        timer = setTimeout(() => resolve('slow'), answerWithinMs);
      });
      void Promise.race([handle(update), slow]).then((outcome) => {
        clearTimeout(timer);
        if (outcome === 'retry') res.status(503).json({ error: 'database unavailable, send again' });
        else res.status(200).end();
      });
    },
  );
  return router;
}

/** A database that could not write now (locked, full, read-only, I/O): worth Telegram's redelivery. */
function cannotCommit(error: unknown): boolean {
  const typed = toStoreError(error);
  if (typed instanceof DatabaseBusy) return true;
  if (!(typed instanceof StoreError) || typed instanceof UniqueViolation || typed instanceof ConstraintViolation) return false;
  return /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|NOMEM|PROTOCOL)/.test(typed.code);
}
