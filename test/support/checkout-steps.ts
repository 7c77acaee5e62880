import type { BotMessage, ScriptedUser } from '../../src/sandbox/telegram/emulator-types.js';

/**
 * An English-speaking customer buys `itemId` up to the Kaspi invoice, sharing their own contact.
 * Resolves with the "Invoice for …" message.
 */
export async function checkoutToInvoice(u: ScriptedUser, itemId = 'monthly', phone = '+77011234567'): Promise<BotMessage> {
  await u.sendText(`/start ${itemId}`);
  await u.waitForMessage();
  await u.pressButton(/^Buy for/);
  await u.waitForMessage((m) => m.text?.includes('Kaspi number') ?? false);
  await u.shareContact({ phone });
  return u.waitForMessage((m) => m.text?.startsWith('Invoice for') ?? false);
}
