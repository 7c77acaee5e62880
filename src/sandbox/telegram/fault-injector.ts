/** What an injected fault does to a call. */
export type FaultBehavior =
  /** 500 `Internal Server Error`. */
  | { status: 500; description?: string }
  /** 429 `Too Many Requests: retry after N` with `parameters.retry_after`. */
  | { status: 429; retryAfter: number }
  /** A 400/403 with the given description, e.g. `Forbidden: bot was blocked by the user`. */
  | { status: 400 | 403; description: string }
  /** No response until the client gives up or the emulator closes. */
  | { hang: true }
  /** The connection is destroyed without a response (a network error for the client). */
  | { reset: true };

/** A fault to inject; see `TelegramEmulator.injectFault`. */
export interface FaultSpec {
  /** The Bot API method, e.g. `sendMessage` (case-insensitive). */
  method: string;
  /** How many matching calls fail (default: 1). */
  times?: number;
  /** Only calls whose `chat_id` equals this (compared as strings). */
  chatId?: number | string;
  fault: FaultBehavior;
  /**
   * Perform the call first, then fail anyway: the side effect happens (the message is sent, the
   * link created) but the client sees the fault, which is how a lost response looks in production.
   * (default: false)
   */
  afterEffect?: boolean;
}

/** Holds injected faults and hands out the one that applies to a call, if any. */
export class FaultInjector {
  #faults: Array<FaultSpec & { remaining: number }> = [];

  add(spec: FaultSpec): void {
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError('injectFault: times must be a positive integer');
    this.#faults.push({ ...spec, remaining: times });
  }

  clear(): void {
    this.#faults = [];
  }

  /** Consumes and returns the first fault matching the call, oldest first. */
  take(method: string, params: Record<string, unknown>): FaultSpec | undefined {
    const index = this.#faults.findIndex(
      (f) =>
        f.method.toLowerCase() === method.toLowerCase() &&
        (f.chatId === undefined || String(params.chat_id) === String(f.chatId)),
    );
    if (index === -1) return undefined;
    const fault = this.#faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults.splice(index, 1);
    return fault;
  }
}
