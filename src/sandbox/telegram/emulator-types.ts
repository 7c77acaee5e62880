import type { ChatAdministratorRights, Document, MessageEntity } from 'grammy/types';
import type { ReplyMarkup } from './reply-markup.js';

/** A chat member's status, as the Bot API names it. */
export type MemberStatus = 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked';

/** A Telegram user of the emulated world (the bot sees the Telegram `User` fields). */
export interface UserInfo {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  /** Used by `shareContact()` when no phone is given. */
  phone_number?: string;
}

/** A group, supergroup or channel of the emulated world. */
export interface ChatInfo {
  /** Negative by Telegram convention (e.g. -1001234567890), though any integer works. */
  id: number;
  type: 'channel' | 'supergroup' | 'group';
  title: string;
  username?: string;
}

/** The emulated bot's own account. */
export interface BotInfo {
  id: number;
  username: string;
  first_name: string;
}

/** Administrator rights of the bot, as in the Bot API. */
export type AdminRights = ChatAdministratorRights;

/**
 * A message the bot sent, in its current state (after edits), in Telegram's field names. `text`
 * and `entities` are what the user sees (after `parse_mode` was applied and the text trimmed);
 * `source_text` and `parse_mode` are what the bot sent.
 */
export interface BotMessage {
  message_id: number;
  chat_id: number;
  /** Unix seconds from the emulator's clock. */
  date: number;
  edit_date?: number;
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  parse_mode?: string;
  source_text?: string;
  /** The markup as sent: an inline keyboard, or a reply keyboard / removal / force reply. */
  reply_markup?: ReplyMarkup;
  document?: Document;
  /** An invoice sent with sendInvoice. */
  invoice?: { title: string; description: string; start_parameter: string; currency: string; total_amount: number };
}

/** One Bot API call the emulator answered (or is holding, for a `hang` fault: status 0). */
export interface EmulatorCall {
  method: string;
  /** Parameters as received; uploaded files appear as `{ upload: filename, size }`. */
  params: Record<string, unknown>;
  /** Clock time (ms) when the call arrived. */
  at: number;
  /** HTTP status sent: 200, 400, 403, 429, 500, …; 0 when no response was sent (hang/reset). */
  status: number;
  /** With a 429: the `retry_after` sent (seconds), before which this chat must not be sent to again. */
  retryAfter?: number;
}

/** A successful answerCallbackQuery. */
export interface CallbackAnswer {
  callback_query_id: string;
  text?: string;
  show_alert?: boolean;
  url?: string;
  cache_time?: number;
  /** Clock time (ms). */
  at: number;
}

/** An invite link of a chat with the emulator's bookkeeping. */
export interface InviteLinkRecord {
  chat_id: number;
  invite_link: string;
  creator_id: number;
  name?: string;
  expire_date?: number;
  member_limit?: number;
  creates_join_request: boolean;
  is_primary: boolean;
  is_revoked: boolean;
  /** Unix seconds. */
  created_date: number;
  /** Everyone who ever joined through the link, in order (including those who left since). */
  joined_user_ids: number[];
}

/** A request to join a chat through a `creates_join_request` link. */
export interface JoinRequestRecord {
  chat_id: number;
  user_id: number;
  user_chat_id: number;
  /** Unix seconds. */
  date: number;
  invite_link?: string;
  status: 'pending' | 'approved' | 'declined';
}

/** A user of the world that tests (or the playground) drive. */
export interface ScriptedUser {
  readonly id: number;
  readonly info: UserInfo;
  /**
   * Sends a private text message to the bot. Text starting with `/command` (and any
   * whitespace-separated `/command`) gets a `bot_command` entity, as Telegram sets. Starts the
   * private chat (the bot may message the user afterwards) and unblocks a blocked bot (with a
   * `my_chat_member` update), like Telegram's "Restart".
   */
  sendText(text: string): Promise<void>;
  /**
   * Pays the bot's invoice `m` (default: the latest bot message with an invoice) in Telegram Stars:
   * a `pre_checkout_query` update; when the bot answers ok within 10 s, a `successful_payment`
   * message from the user (a new charge id). Resolves with the charge, the bot's refusal, or
   * 'timeout' (no answer in 10 s real time: nothing is charged).
   */
  payInvoice(m?: BotMessage): Promise<{ ok: true; chargeId: string } | { ok: false; error: string }>;
  /**
   * Presses the inline button whose label equals `label` (or matches the RegExp) in the bot's
   * latest message in this private chat, or in `opts.messageId`. Emits a `callback_query` carrying
   * the message in its current state. Throws, listing the message's buttons, when there is no such
   * button or it is not a callback button.
   */
  pressButton(label: string | RegExp, opts?: { messageId?: number }): Promise<void>;
  /**
   * Shares a contact as a message (what a `request_contact` keyboard button sends). `phone`
   * defaults to the user's `phone_number` (or a made-up one); `ownContact: false` sends someone
   * else's contact (a different `user_id`). (default: ownContact true)
   */
  shareContact(opts?: { phone?: string; ownContact?: boolean }): Promise<void>;
  /**
   * Opens an invite link. `creates_join_request` links create a pending request and a
   * `chat_join_request` update → `'requested'`. Other links join the chat (with a `chat_member`
   * update that carries the link) → `'joined'`, unless revoked, expired, full (`member_limit`
   * counts current members who joined through it) or the user is banned → `'refused'`. An unknown
   * link is `'refused'`; a user already in the chat gets `'joined'` with no update.
   */
  openInviteLink(link: string): Promise<'joined' | 'requested' | 'refused'>;
  /** Leaves a group, supergroup or channel (a `chat_member` update); nothing if not a member. */
  leaveChat(chatId: number): Promise<void>;
  /** Everything the bot sent to this private chat, current state, deleted messages left out. */
  messages(): BotMessage[];
  lastMessage(): BotMessage | undefined;
  /**
   * Resolves with the first bot message event (a send or an edit) in this private chat that
   * happened after this user's last action and matches `pred`. See the module docs of
   * `scripted-user.ts` for the exact semantics. (default: timeoutMs 10_000)
   */
  waitForMessage(pred?: (m: BotMessage) => boolean, timeoutMs?: number): Promise<BotMessage>;
  /** Labels of the inline buttons of `m` (default: the latest bot message), row by row. */
  buttons(m?: BotMessage): string[];
  /**
   * Moves the point after which `waitForMessage` looks to now, without acting — use it before
   * something outside the chat (a payment webhook, a scheduler tick) makes the bot write.
   */
  mark(): void;
}
