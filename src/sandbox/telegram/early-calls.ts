import type { EmulatorCall } from './emulator-types.js';

/**
 * Calls to a chat that arrived after a 429 for that chat and before its `retry_after` ran out:
 * what Telegram punishes with longer waits. Every method with a `chat_id` counts; a call that
 * arrived in the same millisecond as the 429 (already on its way) does not.
 */
export function callsBeforeRetryAfter(calls: readonly EmulatorCall[]): EmulatorCall[] {
  const held = new Map<string, { from: number; until: number }>();
  const early: EmulatorCall[] = [];
  for (const call of [...calls].sort((a, b) => a.at - b.at)) {
    if (call.params.chat_id === undefined) continue;
    const chat = String(call.params.chat_id);
    const hold = held.get(chat);
    if (hold && call.at > hold.from && call.at < hold.until) early.push(call);
    if (call.status === 429) {
      const until = call.at + (call.retryAfter ?? 1) * 1000;
      if (!hold || until > hold.until) held.set(chat, { from: call.at, until });
    }
  }
  return early;
}
