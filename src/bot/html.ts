/** Escapes text for Telegram's HTML parse mode (the only three characters it requires). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Telegram's limit on a message's text after entity parsing. */
export const MESSAGE_LIMIT = 4096;

/**
 * Shortens plain text so that, escaped, it fits in `budget` characters of a message;
 * cuts at a word boundary and adds an ellipsis.
 */
export function fitPlain(text: string, budget: number): string {
  if (text.length <= budget) return text;
  const cut = text.slice(0, Math.max(0, budget - 1));
  const space = cut.lastIndexOf(' ');
  return (space > budget * 0.6 ? cut.slice(0, space) : cut) + '…';
}
