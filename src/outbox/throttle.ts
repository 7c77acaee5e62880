/**
 * Telegram's sending limits, as the outbox keeps them: about `perSecond` messages per second
 * overall and one message per `perChatMs` to the same chat. Pure bookkeeping on a clock.
 */
export class Throttle {
  #globalNext = 0;
  readonly #chatNext = new Map<number, number>();

  constructor(
    private readonly perSecond = 30,
    private readonly perChatMs = 1000,
  ) {}

  /** Milliseconds to wait before sending to `chatId` (0 = now). */
  waitFor(chatId: number | null, now: number): number {
    const chat = chatId === null ? 0 : (this.#chatNext.get(chatId) ?? 0);
    return Math.max(0, this.#globalNext - now, chat - now);
  }

  /** Records a send to `chatId` at `now`. */
  take(chatId: number | null, now: number): void {
    this.#globalNext = Math.max(this.#globalNext, now) + 1000 / this.perSecond;
    if (chatId !== null) this.#chatNext.set(chatId, now + this.perChatMs);
    if (this.#chatNext.size > 10_000) {
      for (const [id, at] of this.#chatNext) if (at < now) this.#chatNext.delete(id);
    }
  }

  /** Someone else (Telegram's 429) says the chat must wait. */
  pause(chatId: number | null, until: number): void {
    if (chatId === null) this.#globalNext = Math.max(this.#globalNext, until);
    else this.#chatNext.set(chatId, Math.max(this.#chatNext.get(chatId) ?? 0, until));
  }
}
