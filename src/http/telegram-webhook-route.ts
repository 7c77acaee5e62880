import express, { type Router } from 'express';
import { webhookCallback, type Bot } from 'grammy';
import type { BotContext } from '../bot/context.js';

/** Path Telegram posts updates to when PUBLIC_URL is set. */
export const TELEGRAM_WEBHOOK_PATH = '/webhook/telegram';

/**
 * `POST /webhook/telegram`: updates from Telegram in webhook mode. The secret token header must
 * match the random one given to setWebhook at start-up (401 otherwise). A slow update is answered
 * after 9 s and finished in the background, so Telegram does not deliver it again.
 */
export function telegramWebhookRouter(bot: Bot<BotContext>, secretToken: string): Router {
  const router = express.Router();
  router.post(
    TELEGRAM_WEBHOOK_PATH,
    express.json({ limit: '1mb' }),
    webhookCallback(bot, 'express', { secretToken, onTimeout: 'return', timeoutMilliseconds: 9000 }),
  );
  return router;
}
