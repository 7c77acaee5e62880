/**
 * Scripted users: the people of the emulated world, driven by tests and the playground.
 *
 * ## What `waitForMessage` waits for
 * Every bot message sent to the user's private chat, and every edit of one, is a *message event*
 * in a per-user log, numbered in the order the emulator handled the Bot API calls. Each user
 * action (`sendText`, `pressButton`, `shareContact`, `openInviteLink`, `leaveChat`, and the
 * explicit `mark()`) sets the user's *mark* to the end of the log, synchronously, before the
 * resulting update is queued — so no reply can slip in before the mark.
 *
 * `waitForMessage(pred)` resolves with the **first** event after the mark that was current when
 * `waitForMessage` was called, oldest first, whose message satisfies `pred` (default: any). It looks
 * at events already logged and then at future ones, so the call can come before or after the bot
 * replied. The resolved value is the message **as it was at that event** (a send gives the message
 * as sent, an edit the message as edited); `messages()` gives current states. Deletions are not
 * events. Calling `waitForMessage` twice without an action in between returns the same event, so
 * use `pred` to wait for a later message, or act (or `mark()`) first. A reply the bot sends to an
 * earlier action after a later action counts as after the later one; tests keep steps sequential.
 * The promise settles one macrotask after the event, so the Bot API call that caused it is
 * already in `emulator.calls`. On timeout (default 10 000 ms, real time, not the emulator clock;
 * generous, as a test must not fail because the machine is busy) it rejects with an error that
 * lists the events after the mark and the last messages of the chat.
 */
import { buttonLabels, describeMessage, toBotMessage } from './bot-message.js';
import type { EmulatorCore } from './emulator-core.js';
import type { BotMessage, ScriptedUser, UserInfo } from './emulator-types.js';
import { findInviteLink } from './invite-link-methods.js';
import { sentInvoice, startCheckout } from './stars-methods.js';
import { inlineKeyboardOf } from './reply-markup.js';
import type { TextEntity } from './text-entities.js';
import { isPresent, type StoredMessage, type UserState } from './world.js';

interface MessageEvent {
  kind: 'sent' | 'edited';
  message: BotMessage;
}

interface Waiter {
  from: number;
  pred: (m: BotMessage) => boolean;
  resolve(m: BotMessage): void;
  reject(error: Error): void;
}

/** Marks `/command` and `/command@bot` words as `bot_command` entities, as Telegram does. */
export function commandEntities(text: string): TextEntity[] {
  const entities: TextEntity[] = [];
  const pattern = /(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)(?=$|\s)/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    entities.push({ type: 'bot_command', offset: match.index + match[1]!.length, length: match[2]!.length });
  }
  return entities;
}

/** Options for {@link ScriptedUserImpl}. */
export interface ScriptedUserOptions {
  core: EmulatorCore;
  state: UserState;
  /** Throws when the emulator is closed. */
  ensureOpen(): void;
}

/** The {@link ScriptedUser} implementation; the emulator feeds it bot message events. */
export class ScriptedUserImpl implements ScriptedUser {
  readonly #core: EmulatorCore;
  readonly #state: UserState;
  readonly #ensureOpen: () => void;
  readonly #events: MessageEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  #mark = 0;
  #lastAction = 'none yet';
  #callbackCounter = 0;

  constructor(options: ScriptedUserOptions) {
    this.#core = options.core;
    this.#state = options.state;
    this.#ensureOpen = options.ensureOpen;
  }

  get id(): number {
    return this.#state.info.id;
  }

  get info(): UserInfo {
    return { ...this.#state.info };
  }

  /** Called by the emulator for each bot message change in this user's private chat. */
  onBotMessage(message: StoredMessage, kind: 'sent' | 'edited' | 'deleted'): void {
    if (kind === 'deleted') return;
    const event: MessageEvent = { kind, message: toBotMessage(message) };
    this.#events.push(event);
    const index = this.#events.length - 1;
    for (const waiter of [...this.#waiters]) {
      if (index >= waiter.from && waiter.pred(event.message)) {
        this.#waiters.delete(waiter);
        this.#settleSoon(() => waiter.resolve(event.message));
      }
    }
  }

  /**
   * Settles on the next macrotask: the event is logged while the Bot API call is still running,
   * and this way the call is already in `calls` when the waiting test continues.
   */
  #settleSoon(settle: () => void): void {
    setImmediate(settle);
  }

  mark(): void {
    this.#mark = this.#events.length;
    this.#lastAction = 'mark()';
  }

  #act(description: string): void {
    this.#ensureOpen();
    this.#mark = this.#events.length;
    this.#lastAction = description;
  }

  #startChat(): void {
    const { world } = this.#core;
    this.#state.started = true;
    if (this.#state.blocked) {
      this.#state.blocked = false;
      world.privateBotStatusChanged(this.#state, 'kicked', 'member');
    }
  }

  #sendUserMessage(content: Partial<StoredMessage>): void {
    const { world } = this.#core;
    const message = world.appendMessage(this.#state.conversation, {
      ...content,
      chat_id: this.id,
      date: world.now(),
      sender: this.id,
    });
    world.hooks.emit('message', world.messageObject(message));
  }

  async sendText(text: string): Promise<void> {
    this.#act(`sendText(${JSON.stringify(text)})`);
    this.#startChat();
    const entities = commandEntities(text);
    this.#sendUserMessage({ text, ...(entities.length ? { entities } : {}) });
  }

  async payInvoice(m?: BotMessage): Promise<{ ok: true; chargeId: string } | { ok: false; error: string }> {
    const target = m ?? this.messages().filter((x) => x.invoice !== undefined).at(-1);
    const invoice = target && sentInvoice(this.#core.stars, this.id, target.message_id);
    if (!target || !invoice) throw new Error(`payInvoice: the bot has sent user ${this.id} no invoice${m ? ` as #${m.message_id}` : ''}`);
    this.#act(`payInvoice(#${target.message_id})`);
    return startCheckout(this.#core, this.id, invoice);
  }

  async shareContact(opts: { phone?: string; ownContact?: boolean } = {}): Promise<void> {
    this.#act('shareContact()');
    this.#startChat();
    const own = opts.ownContact ?? true;
    const info = this.#state.info;
    const contact = own
      ? {
          phone_number: opts.phone ?? info.phone_number ?? `+7700${String(info.id).padStart(7, '0').slice(-7)}`,
          first_name: info.first_name,
          ...(info.last_name !== undefined ? { last_name: info.last_name } : {}),
          user_id: info.id,
        }
      : {
          phone_number: opts.phone ?? '+77001234567',
          first_name: 'Someone',
          last_name: 'Else',
          user_id: info.id + 1_000_000_000,
        };
    this.#sendUserMessage({ contact });
  }

  async pressButton(label: string | RegExp, opts: { messageId?: number } = {}): Promise<void> {
    this.#ensureOpen();
    const { world } = this.#core;
    const botMessages = [...this.#state.conversation.messages.values()].filter(
      (m) => m.sender === 'bot' && !m.deleted,
    );
    const target =
      opts.messageId !== undefined
        ? botMessages.find((m) => m.message_id === opts.messageId)
        : botMessages.sort((a, b) => b.message_id - a.message_id)[0];
    if (!target) {
      throw new Error(
        opts.messageId !== undefined
          ? `pressButton(${String(label)}): user ${this.id} has no bot message #${opts.messageId}`
          : `pressButton(${String(label)}): the bot has sent user ${this.id} no message`,
      );
    }
    const buttons = (inlineKeyboardOf(target.reply_markup) ?? []).flat();
    const button = buttons.find((b) => (typeof label === 'string' ? b.text === label : label.test(b.text)));
    if (!button) {
      const snapshot = toBotMessage(target);
      throw new Error(
        `pressButton(${String(label)}): no such inline button in ${describeMessage(snapshot)} ` +
          `(the ${opts.messageId !== undefined ? 'given' : 'latest'} bot message to user ${this.id}). ` +
          `Available buttons: ${buttons.length ? JSON.stringify(buttons.map((b) => b.text)) : 'none'}` +
          (opts.messageId === undefined ? '. Pass { messageId } to press a button of an older message.' : ''),
      );
    }
    if (button.callback_data === undefined) {
      const kind = Object.keys(button).find((k) => k !== 'text') ?? 'unknown';
      throw new Error(
        `pressButton(${String(label)}): "${button.text}" is a ${kind} button` +
          (button.url ? ` (${button.url})` : '') +
          '; only callback_data buttons send an update to the bot',
      );
    }
    this.#act(`pressButton(${String(label)}) on #${target.message_id}`);
    this.#callbackCounter += 1;
    const id = `${this.id}${String(this.#callbackCounter).padStart(6, '0')}`;
    this.#core.callbackQueries.set(id, { userId: this.id, messageId: target.message_id, answered: false });
    world.hooks.emit('callback_query', {
      id,
      from: world.userObject(this.id),
      message: world.messageObject(target),
      chat_instance: `${this.id}${world.bot.id}`,
      data: button.callback_data,
    });
  }

  async openInviteLink(link: string): Promise<'joined' | 'requested' | 'refused'> {
    this.#act(`openInviteLink(${link})`);
    const { world } = this.#core;
    const found = findInviteLink(world, link);
    if (!found) return 'refused';
    const { chat, record } = found;
    const status = world.memberStatus(chat, this.id);
    if (isPresent(status)) return 'joined';
    if (status === 'kicked') return 'refused';
    if (record.is_revoked) return 'refused';
    if (record.expire_date !== undefined && record.expire_date <= world.now()) return 'refused';
    if (record.creates_join_request) {
      if (world.pendingJoinRequest(chat, this.id)) return 'requested';
      const request = {
        chat_id: chat.info.id,
        user_id: this.id,
        user_chat_id: this.id,
        date: world.now(),
        invite_link: record.invite_link,
        status: 'pending' as const,
      };
      chat.joinRequests.push(request);
      if (world.botHasRight(chat, 'can_invite_users')) {
        world.hooks.emit('chat_join_request', {
          chat: world.chatObject(chat),
          from: world.userObject(this.id),
          user_chat_id: this.id,
          date: request.date,
          invite_link: world.linkObject(record),
        });
      }
      return 'requested';
    }
    if (record.member_limit !== undefined && world.membersJoinedVia(chat, record.invite_link).length >= record.member_limit) {
      return 'refused';
    }
    record.joined_user_ids.push(this.id);
    world.changeMember(
      chat,
      this.id,
      { status: 'member', joinedVia: record.invite_link },
      { emit: true, from: world.userObject(this.id), inviteLink: record },
    );
    return 'joined';
  }

  async leaveChat(chatId: number): Promise<void> {
    this.#act(`leaveChat(${chatId})`);
    const { world } = this.#core;
    const chat = world.chat(chatId);
    if (!isPresent(world.memberStatus(chat, this.id))) return;
    world.changeMember(chat, this.id, { status: 'left' }, { emit: true, from: world.userObject(this.id) });
  }

  messages(): BotMessage[] {
    return [...this.#state.conversation.messages.values()]
      .filter((m) => m.sender === 'bot' && !m.deleted)
      .sort((a, b) => a.message_id - b.message_id)
      .map(toBotMessage);
  }

  lastMessage(): BotMessage | undefined {
    return this.messages().at(-1);
  }

  buttons(m?: BotMessage): string[] {
    return buttonLabels(m ?? this.lastMessage());
  }

  waitForMessage(pred: (m: BotMessage) => boolean = () => true, timeoutMs = 10_000): Promise<BotMessage> {
    const from = this.#mark;
    for (let i = from; i < this.#events.length; i++) {
      const event = this.#events[i]!;
      if (pred(event.message)) {
        return new Promise((resolve) => this.#settleSoon(() => resolve(event.message)));
      }
    }
    const lastAction = this.#lastAction;
    return new Promise<BotMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(this.#timeoutMessage(from, timeoutMs, lastAction)));
      }, timeoutMs);
      const waiter: Waiter = {
        from,
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Rejects every pending waitForMessage (the emulator is closing). */
  abortWaiters(reason: string): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter.reject(new Error(`waitForMessage (user ${this.id}): ${reason}`));
  }

  #timeoutMessage(from: number, timeoutMs: number, lastAction: string): string {
    const after = this.#events.slice(from);
    const lines = [
      `waitForMessage: no matching bot message to user ${this.id} within ${timeoutMs} ms after ${lastAction}.`,
    ];
    if (after.length === 0) lines.push('The bot sent or edited nothing in this chat since then.');
    else {
      lines.push(`Events since then (none matched):`);
      for (const event of after.slice(-5)) lines.push(`  ${event.kind} ${describeMessage(event.message)}`);
    }
    const recent = this.messages().slice(-3);
    if (recent.length) {
      lines.push('Last messages in the chat:');
      for (const m of recent) lines.push(`  ${describeMessage(m)}`);
    }
    return lines.join('\n');
  }
}
