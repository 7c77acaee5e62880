/**
 * Telegram's sending limits, as the outbox keeps them: about `perSecond` messages per second
 * overall (after a burst of `globalBurst`, which absorbs timer lateness so the average really is
 * `perSecond`), and per chat one message per `perChatMs` after a short burst of `burst` (Telegram
 * tolerates short bursts; a receipt and its link arrive together). Pure bookkeeping on a clock.
 */
export class Throttle {
  #global = { tokens: 0, at: -Infinity };
  #pausedUntil = 0;
  readonly #chats = new Map<number, { tokens: number; at: number }>();

  constructor(
    private perSecond = 30,
    private readonly perChatMs = 1000,
    private readonly burst = 3,
    private readonly globalBurst = 5,
  ) {}

  #globalTokens(now: number): number {
    const g = this.#global;
    return g.at === -Infinity ? this.globalBurst : Math.min(this.globalBurst, g.tokens + ((now - g.at) * this.perSecond) / 1000);
  }

  #globalWait(now: number): number {
    const tokens = this.#globalTokens(now);
    return Math.max(0, this.#pausedUntil - now, tokens >= 1 - 1e-9 ? 0 : ((1 - tokens) * 1000) / this.perSecond);
  }

  #chat(chatId: number, now: number): { tokens: number; at: number } {
    const state = this.#chats.get(chatId) ?? { tokens: this.burst, at: now };
    if (now > state.at) {
      state.tokens = Math.min(this.burst, state.tokens + (now - state.at) / this.perChatMs);
      state.at = now;
    }
    return state;
  }

  /** The overall rate now (messages per second). */
  get rate(): number {
    return this.perSecond;
  }

  /** Changes the overall rate (the adaptive pace lowers it after a 429 and raises it again). */
  setRate(perSecond: number): void {
    this.perSecond = perSecond;
  }

  /** Milliseconds to wait before sending to `chatId` (0 = now). */
  waitFor(chatId: number | null, now: number): number {
    const global = this.#globalWait(now);
    if (chatId === null) return global;
    const state = this.#chats.get(chatId);
    if (!state) return global;
    if (now < state.at) return Math.max(global, state.at - now);
    const tokens = Math.min(this.burst, state.tokens + (now - state.at) / this.perChatMs);
    return Math.max(global, tokens >= 1 - 1e-9 ? 0 : (1 - tokens) * this.perChatMs);
  }

  /** Records a send to `chatId` at `now`. */
  take(chatId: number | null, now: number): void {
    this.#global = { tokens: this.#globalTokens(now) - 1, at: now };
    if (chatId === null) return;
    const state = this.#chat(chatId, now);
    state.tokens -= 1;
    this.#chats.set(chatId, state);
    if (this.#chats.size > 10_000) {
      for (const [id, s] of this.#chats) if (s.tokens >= this.burst - 1 && s.at < now - this.perChatMs * this.burst) this.#chats.delete(id);
    }
  }

  /** Telegram said (429) the chat, or everything when `chatId` is null, must wait until `until`. */
  pause(chatId: number | null, until: number): void {
    if (chatId === null) {
      this.#pausedUntil = Math.max(this.#pausedUntil, until);
      return;
    }
    const state = this.#chats.get(chatId);
    this.#chats.set(chatId, { tokens: 1, at: Math.max(until, state?.at ?? 0) });
  }
}
