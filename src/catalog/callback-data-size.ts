/** Telegram's limit on a button's callback data, in bytes. */
export const CALLBACK_DATA_LIMIT = 64;

/**
 * Bytes of the longest callback data the bot builds around an item id. Kept in step with
 * the bot's callback formats by a test; the catalog check uses it so a creator learns at
 * validation time, not when a customer taps.
 */
export function longestCallbackData(itemId: string): number {
  return Buffer.byteLength(itemId, 'utf8') + 'v1:rt:1:'.length;
}
