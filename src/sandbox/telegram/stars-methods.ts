/**
 * Telegram Stars in the emulator: sendInvoice (currency XTR, no provider token), the customer
 * paying (ScriptedUser.payInvoice → pre_checkout_query → answerPreCheckoutQuery within 10 s →
 * a successful_payment message), refundStarPayment and getStarTransactions. Depends on the Clock
 * only: no product code.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { badRequest } from './api-error.js';
import type { MethodHandler } from './emulator-core.js';
import type { Json } from './world.js';

/** How long Telegram waits for answerPreCheckoutQuery before it cancels the payment. */
export const PRE_CHECKOUT_DEADLINE_MS = 10_000;
/** Telegram's range for one Stars price. */
const MAX_STARS = 10_000;

interface SentInvoice {
  chatId: number;
  messageId: number;
  payload: string;
  amount: number;
  title: string;
}

interface PendingCheckout {
  id: string;
  userId: number;
  invoice: SentInvoice;
  deadline: number;
  settle(answer: { ok: true; chargeId: string } | { ok: false; error: string }): void;
}

/** A Star transaction as getStarTransactions returns it. */
export interface StarTransactionRecord {
  id: string;
  amount: number;
  date: number;
  userId: number;
  kind: 'payment' | 'refund';
  payload: string;
}

/** What the emulator keeps of Stars. */
export class StarsState {
  readonly invoices = new Map<string, SentInvoice>();
  readonly checkouts = new Map<string, PendingCheckout>();
  readonly transactions: StarTransactionRecord[] = [];
  /** Charge id → refunded. */
  readonly charges = new Map<string, { userId: number; amount: number; refunded: boolean }>();
  #counter = 0;

  constructor(readonly clock: Clock) {}

  nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}${this.#counter}_${randomBytes(6).toString('hex')}`;
  }
}

const invoiceKey = (chatId: number, messageId: number) => `${chatId}:${messageId}`;

/** sendInvoice, answerPreCheckoutQuery, refundStarPayment, getStarTransactions. */
export function starsMethods(): Record<string, MethodHandler> {
  return {
    sendInvoice(p, core) {
      const { world, stars } = core;
      const target = world.resolve(p.chatId());
      const title = p.string('title') ?? '';
      const description = p.string('description') ?? '';
      const payload = p.string('payload') ?? '';
      const currency = p.string('currency');
      if (title.length < 1 || title.length > 32) throw badRequest('TITLE_INVALID');
      if (description.length < 1 || description.length > 255) throw badRequest('DESCRIPTION_INVALID');
      if (Buffer.byteLength(payload) < 1 || Buffer.byteLength(payload) > 128) throw badRequest('INVOICE_PAYLOAD_INVALID');
      if (currency !== 'XTR') throw badRequest('CURRENCY_INVALID');
      if (p.has('provider_token')) throw badRequest('PROVIDER_TOKEN_INVALID'); // Stars take an empty token
      const prices = p.json('prices', 'prices JSON object');
      if (!Array.isArray(prices) || prices.length !== 1) throw badRequest('STARS_INVOICE_INVALID');
      const amount = (prices[0] as { amount?: unknown }).amount;
      if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount > MAX_STARS) throw badRequest('STARS_INVOICE_INVALID');
      if (target.kind === 'private') world.requireCanMessage(target.user);
      else world.requireBotPresent(target.chat);
      const message = world.appendMessage(world.conversationOf(target), {
        chat_id: target.kind === 'private' ? target.user.info.id : target.chat.info.id,
        date: world.now(),
        sender: 'bot',
        invoice: { title, description, start_parameter: '', currency, total_amount: amount },
      });
      stars.invoices.set(invoiceKey(message.chat_id, message.message_id), { chatId: message.chat_id, messageId: message.message_id, payload, amount, title });
      core.stats.sent += 1;
      world.notifyPrivate(message, 'sent');
      return world.messageObject(message);
    },

    answerPreCheckoutQuery(p, core) {
      const { world, stars } = core;
      const id = p.string('pre_checkout_query_id') ?? '';
      const pending = stars.checkouts.get(id);
      if (!pending) throw badRequest('QUERY_ID_INVALID');
      const ok = p.raw.ok === true || p.raw.ok === 'true';
      const error = p.string('error_message');
      if (!ok && !error) throw badRequest('error_message is required when ok is false');
      stars.checkouts.delete(id);
      if (stars.clock.now() > pending.deadline) throw badRequest('query is too old and response timeout expired or query ID is invalid');
      if (!ok) {
        pending.settle({ ok: false, error: error! });
        return true;
      }
      const chargeId = stars.nextId('stxch');
      const { invoice } = pending;
      stars.charges.set(chargeId, { userId: pending.userId, amount: invoice.amount, refunded: false });
      stars.transactions.push({ id: chargeId, amount: invoice.amount, date: world.now(), userId: pending.userId, kind: 'payment', payload: invoice.payload });
      const user = world.user(pending.userId);
      const message = world.appendMessage(user.conversation, {
        chat_id: pending.userId,
        date: world.now(),
        sender: pending.userId,
        successful_payment: {
          currency: 'XTR',
          total_amount: invoice.amount,
          invoice_payload: invoice.payload,
          telegram_payment_charge_id: chargeId,
          provider_payment_charge_id: '',
        },
      });
      world.hooks.emit('message', world.messageObject(message));
      pending.settle({ ok: true, chargeId });
      return true;
    },

    refundStarPayment(p, core) {
      const { stars, world } = core;
      const userId = p.int('user_id');
      const chargeId = p.string('telegram_payment_charge_id') ?? '';
      const charge = stars.charges.get(chargeId);
      if (!charge || charge.userId !== userId) throw badRequest('CHARGE_NOT_FOUND');
      if (charge.refunded) throw badRequest('CHARGE_ALREADY_REFUNDED');
      charge.refunded = true;
      stars.transactions.push({ id: chargeId, amount: charge.amount, date: world.now(), userId: charge.userId, kind: 'refund', payload: '' });
      return true;
    },

    getStarTransactions(p, core) {
      const { stars, world } = core;
      const offset = Math.max(0, p.int('offset') ?? 0);
      const limit = Math.min(100, Math.max(1, p.int('limit') ?? 100));
      const partner = (userId: number): Json => ({ type: 'user', transaction_type: 'invoice_payment', user: world.userObject(userId) });
      return {
        transactions: stars.transactions.slice(offset, offset + limit).map((t) => ({
          id: t.id,
          amount: t.amount,
          date: t.date,
          ...(t.kind === 'payment' ? { source: { ...partner(t.userId), invoice_payload: t.payload } } : { receiver: partner(t.userId) }),
        })),
      };
    },
  };
}

/**
 * The customer pays an invoice: a pre_checkout_query update, settled by the bot's answer or by
 * the 10-second deadline (real time; the emulator Clock decides whether an answer came too late).
 */
export function startCheckout(
  core: { world: import('./world.js').TelegramWorld; stars: StarsState },
  userId: number,
  invoice: SentInvoice,
): Promise<{ ok: true; chargeId: string } | { ok: false; error: string }> {
  const { world, stars } = core;
  const id = stars.nextId('pcq');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (stars.checkouts.delete(id)) resolve({ ok: false, error: 'timeout' });
    }, PRE_CHECKOUT_DEADLINE_MS);
    stars.checkouts.set(id, {
      id,
      userId,
      invoice,
      deadline: stars.clock.now() + PRE_CHECKOUT_DEADLINE_MS,
      settle: (answer) => {
        clearTimeout(timer);
        resolve(answer);
      },
    });
    world.hooks.emit('pre_checkout_query', {
      id,
      from: world.userObject(userId),
      currency: 'XTR',
      total_amount: invoice.amount,
      invoice_payload: invoice.payload,
    });
  });
}

/** The invoice sent as message `messageId` in chat `chatId`, if any. */
export function sentInvoice(stars: StarsState, chatId: number, messageId: number): SentInvoice | undefined {
  return stars.invoices.get(invoiceKey(chatId, messageId));
}
