import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { badRequest, forbidden } from './api-error.js';
import type {
  AdminRights,
  BotInfo,
  ChatInfo,
  InviteLinkRecord,
  JoinRequestRecord,
  MemberStatus,
  UserInfo,
} from './emulator-types.js';
import { inlineKeyboardOf, type ReplyMarkup } from './reply-markup.js';
import type { TextEntity } from './text-entities.js';

/** A Telegram object as JSON. */
export type Json = Record<string, unknown>;

/** One chat member's state. */
export interface MemberRecord {
  status: MemberStatus;
  rights?: AdminRights;
  /** Unix seconds; 0 or undefined means forever (for `kicked`). */
  untilDate?: number;
  /** The invite link the member joined through. */
  joinedVia?: string;
}

/** A message as stored in a chat. */
export interface StoredMessage {
  message_id: number;
  chat_id: number;
  date: number;
  edit_date?: number;
  /** `'bot'` or the id of the user who wrote it. */
  sender: 'bot' | number;
  text?: string;
  entities?: TextEntity[];
  caption?: string;
  caption_entities?: TextEntity[];
  parse_mode?: string;
  source_text?: string;
  reply_markup?: ReplyMarkup;
  document?: Json;
  contact?: Json;
  /** A bot's invoice (sendInvoice): title, description, currency, total_amount. */
  invoice?: Json;
  /** A user's service message: a payment that succeeded. */
  successful_payment?: Json;
  deleted?: boolean;
}

/** The messages of one chat, with ids increasing from 1. */
export interface Conversation {
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
}

export interface UserState {
  info: UserInfo;
  /** The user wrote to the bot, so the bot may message them. */
  started: boolean;
  blocked: boolean;
  conversation: Conversation;
}

export interface ChatState {
  info: ChatInfo;
  members: Map<number, MemberRecord>;
  conversation: Conversation;
  links: InviteLinkRecord[];
  joinRequests: JoinRequestRecord[];
}

/** A file the bot uploaded. */
export interface StoredFile {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size?: number;
  file_path: string;
  bytes?: Buffer;
}

/** Where the world reports what the bot should hear about and what users see. */
export interface WorldHooks {
  /** An update for the bot (the queue still applies allowed_updates). */
  emit(type: string, payload: Json): void;
  /** A bot message in a user's private chat was sent, edited or deleted. */
  onPrivateBotMessage(userId: number, message: StoredMessage, kind: 'sent' | 'edited' | 'deleted'): void;
}

/** Options for {@link TelegramWorld}. */
export interface TelegramWorldOptions {
  clock: Clock;
  bot: BotInfo;
  hooks: WorldHooks;
}

/** Rights the bot gets when made an administrator without a rights object. */
export const FULL_ADMIN_RIGHTS: AdminRights = {
  is_anonymous: false,
  can_manage_chat: true,
  can_delete_messages: true,
  can_manage_video_chats: true,
  can_restrict_members: true,
  can_promote_members: false,
  can_change_info: true,
  can_invite_users: true,
  can_post_stories: true,
  can_edit_stories: true,
  can_delete_stories: true,
  can_send_welcome_messages: false,
  can_post_messages: true,
  can_edit_messages: true,
  can_pin_messages: true,
  can_manage_topics: false,
};

/** Telegram's anonymous admin, used as `from` when no chat owner is known. */
const ANONYMOUS_ADMIN: Json = {
  id: 1087968824,
  is_bot: true,
  first_name: 'Group',
  username: 'GroupAnonymousBot',
};

/** How long the bot may message a user through `user_chat_id` of a pending join request. */
export const JOIN_REQUEST_MESSAGE_WINDOW_SECONDS = 5 * 60;

/** A status counts as being in the chat. */
export function isPresent(status: MemberStatus): boolean {
  return status === 'creator' || status === 'administrator' || status === 'member' || status === 'restricted';
}

/**
 * The emulated Telegram: users, chats, members, messages, invite links, join requests, files.
 * Every change that Telegram would report to the bot goes through {@link WorldHooks.emit}.
 */
export class TelegramWorld {
  readonly users = new Map<number, UserState>();
  readonly chats = new Map<number, ChatState>();
  readonly files = new Map<string, StoredFile>();
  readonly clock: Clock;
  readonly bot: BotInfo;
  readonly hooks: WorldHooks;
  #fileCounter = 0;

  constructor(options: TelegramWorldOptions) {
    this.clock = options.clock;
    this.bot = options.bot;
    this.hooks = options.hooks;
  }

  /** The clock in Unix seconds. */
  now(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  // ---- users and chats ----

  addUser(info: UserInfo): UserState {
    if (this.users.has(info.id)) throw new Error(`User ${info.id} already exists`);
    if (info.id === this.bot.id) throw new Error(`User id ${info.id} is the bot's id`);
    if (this.chats.has(info.id)) throw new Error(`Id ${info.id} is already a chat`);
    const user: UserState = {
      info: { ...info },
      started: false,
      blocked: false,
      conversation: { nextMessageId: 1, messages: new Map() },
    };
    this.users.set(info.id, user);
    return user;
  }

  user(id: number): UserState {
    const user = this.users.get(id);
    if (!user) throw new Error(`Unknown user ${id}: call addUser() first`);
    return user;
  }

  /** A known user, or a placeholder `User <id>` for world setup that names someone only by id. */
  ensureUser(id: number): UserState {
    return this.users.get(id) ?? this.addUser({ id, first_name: `User ${id}` });
  }

  addChat(info: ChatInfo): ChatState {
    if (this.chats.has(info.id)) throw new Error(`Chat ${info.id} already exists`);
    if (this.users.has(info.id)) throw new Error(`Id ${info.id} is already a user`);
    const chat: ChatState = {
      info: { ...info },
      members: new Map(),
      conversation: { nextMessageId: 1, messages: new Map() },
      links: [],
      joinRequests: [],
    };
    this.chats.set(info.id, chat);
    return chat;
  }

  chat(id: number): ChatState {
    const chat = this.chats.get(id);
    if (!chat) throw new Error(`Unknown chat ${id}: call addChat() first`);
    return chat;
  }

  /** Resolves a `chat_id` parameter (id or `@username`); throws `Bad Request: chat not found`. */
  resolve(chatId: number | string): { kind: 'private'; user: UserState } | { kind: 'chat'; chat: ChatState } {
    if (typeof chatId === 'string') {
      const name = chatId.slice(1).toLowerCase();
      for (const chat of this.chats.values()) {
        if (chat.info.username?.toLowerCase() === name) return { kind: 'chat', chat };
      }
      throw badRequest('chat not found');
    }
    const user = this.users.get(chatId);
    if (user) return { kind: 'private', user };
    const chat = this.chats.get(chatId);
    if (chat) return { kind: 'chat', chat };
    throw badRequest('chat not found');
  }

  /** Resolves a group/supergroup/channel; a private chat gets `privateError`. */
  resolveGroup(chatId: number | string, privateError: string): ChatState {
    const target = this.resolve(chatId);
    if (target.kind === 'private') throw badRequest(privateError);
    return target.chat;
  }

  // ---- membership ----

  member(chat: ChatState, userId: number): MemberRecord {
    const record = chat.members.get(userId);
    if (!record) return { status: 'left' };
    if (record.status === 'kicked' && record.untilDate && record.untilDate <= this.now()) {
      chat.members.set(userId, { status: 'left' });
      return { status: 'left' };
    }
    return record;
  }

  memberStatus(chat: ChatState, userId: number): MemberStatus {
    return this.member(chat, userId).status;
  }

  botRecord(chat: ChatState): MemberRecord {
    return this.member(chat, this.bot.id);
  }

  isBotAdmin(chat: ChatState): boolean {
    const status = this.botRecord(chat).status;
    return status === 'administrator' || status === 'creator';
  }

  /** Whether the bot holds `right` (a creator holds all). */
  botHasRight(chat: ChatState, right: keyof AdminRights): boolean {
    const record = this.botRecord(chat);
    if (record.status === 'creator') return true;
    return record.status === 'administrator' && record.rights?.[right] === true;
  }

  /**
   * Throws what Telegram answers when the bot is not in the chat:
   * `Forbidden: bot is not a member of the <type> chat` / `Forbidden: bot was kicked from the <type> chat`.
   */
  requireBotPresent(chat: ChatState): void {
    const status = this.botRecord(chat).status;
    const type = chat.info.type;
    if (status === 'kicked') throw forbidden(`bot was kicked from the ${type} chat`);
    if (status === 'left') throw forbidden(`bot is not a member of the ${type} chat`);
  }

  /** The chat's creator, for `from` of updates the world itself causes. */
  ownerObject(chat: ChatState): Json {
    for (const [userId, record] of chat.members) {
      if (record.status === 'creator' && userId !== this.bot.id) return this.userObject(userId);
    }
    return { ...ANONYMOUS_ADMIN };
  }

  /**
   * Changes a member's record and reports it: `my_chat_member` for the bot, `chat_member` for
   * others (only while the bot is an administrator; allowed_updates is applied by the queue).
   * Does nothing when the status and rights stay the same.
   */
  changeMember(
    chat: ChatState,
    userId: number,
    next: MemberRecord,
    report: { emit: boolean; from?: Json; inviteLink?: InviteLinkRecord; viaJoinRequest?: boolean },
  ): void {
    const before = this.member(chat, userId);
    const botWasAdmin = this.isBotAdmin(chat);
    chat.members.set(userId, { ...next });
    if (!report.emit) return;
    if (
      before.status === next.status &&
      JSON.stringify(before.rights ?? null) === JSON.stringify(next.rights ?? null) &&
      (before.untilDate ?? 0) === (next.untilDate ?? 0)
    ) {
      return;
    }
    const isBot = userId === this.bot.id;
    if (!isBot && !botWasAdmin && !this.isBotAdmin(chat)) return;
    const payload: Json = {
      chat: this.chatObject(chat),
      from: report.from ?? this.ownerObject(chat),
      date: this.now(),
      old_chat_member: this.memberObject(chat, userId, before),
      new_chat_member: this.memberObject(chat, userId, next),
    };
    if (report.inviteLink) payload.invite_link = this.linkObject(report.inviteLink);
    if (report.viaJoinRequest) payload.via_join_request = true;
    this.hooks.emit(isBot ? 'my_chat_member' : 'chat_member', payload);
  }

  /** Users currently in the chat who joined through `link`. */
  membersJoinedVia(chat: ChatState, link: string): number[] {
    const ids: number[] = [];
    for (const [userId] of chat.members) {
      const record = this.member(chat, userId);
      if (record.joinedVia === link && isPresent(record.status)) ids.push(userId);
    }
    return ids;
  }

  pendingJoinRequest(chat: ChatState, userId: number): JoinRequestRecord | undefined {
    return chat.joinRequests.find((r) => r.user_id === userId && r.status === 'pending');
  }

  // ---- private chats ----

  /**
   * Throws unless the bot may send to the user: `Forbidden: bot was blocked by the user`, or
   * `Forbidden: bot can't initiate conversation with a user` when the user never wrote to the bot
   * and has no join request pending for less than 5 minutes (the `user_chat_id` exception).
   */
  requireCanMessage(user: UserState): void {
    if (user.blocked) throw forbidden('bot was blocked by the user');
    if (user.started) return;
    const now = this.now();
    for (const chat of this.chats.values()) {
      const request = this.pendingJoinRequest(chat, user.info.id);
      if (request && now - request.date < JOIN_REQUEST_MESSAGE_WINDOW_SECONDS) return;
    }
    throw forbidden("bot can't initiate conversation with a user");
  }

  /** Reports a private-chat status change of the bot (block/unblock) as `my_chat_member`. */
  privateBotStatusChanged(user: UserState, before: MemberStatus, after: MemberStatus): void {
    const bot = this.botUserObject();
    this.hooks.emit('my_chat_member', {
      chat: this.privateChatObject(user),
      from: this.userObject(user.info.id),
      date: this.now(),
      old_chat_member: { status: before, user: bot, ...(before === 'kicked' ? { until_date: 0 } : {}) },
      new_chat_member: { status: after, user: bot, ...(after === 'kicked' ? { until_date: 0 } : {}) },
    });
  }

  // ---- messages ----

  /** Adds a message to a conversation, assigning the next id; returns it. */
  appendMessage(conversation: Conversation, message: Omit<StoredMessage, 'message_id'>): StoredMessage {
    const stored: StoredMessage = { ...message, message_id: conversation.nextMessageId++ };
    conversation.messages.set(stored.message_id, stored);
    return stored;
  }

  /** The conversation of a resolved chat. */
  conversationOf(target: ReturnType<TelegramWorld['resolve']>): Conversation {
    return target.kind === 'private' ? target.user.conversation : target.chat.conversation;
  }

  /** Reports a bot message change to the private chat's user (for scripted users). */
  notifyPrivate(message: StoredMessage, kind: 'sent' | 'edited' | 'deleted'): void {
    if (message.sender === 'bot' && this.users.has(message.chat_id)) {
      this.hooks.onPrivateBotMessage(message.chat_id, message, kind);
    }
  }

  // ---- files ----

  /** Stores an uploaded (or URL-referenced) document and returns its record. */
  addFile(file: { name?: string; mimeType?: string; bytes?: Buffer; kind: 'documents' | 'photos' }): StoredFile {
    this.#fileCounter += 1;
    const ext = file.name && file.name.includes('.') ? file.name.slice(file.name.lastIndexOf('.')) : '';
    const stored: StoredFile = {
      file_id: `BQACAgIAAxkBAA${randomBytes(24).toString('base64url')}`,
      file_unique_id: `AgAD${randomBytes(9).toString('base64url')}`,
      file_path: `${file.kind}/file_${this.#fileCounter}${ext}`,
      ...(file.name !== undefined ? { file_name: file.name } : {}),
      ...(file.mimeType !== undefined ? { mime_type: file.mimeType } : {}),
      ...(file.bytes !== undefined ? { file_size: file.bytes.length, bytes: file.bytes } : {}),
    };
    this.files.set(stored.file_id, stored);
    return stored;
  }

  // ---- Telegram objects ----

  botUserObject(): Json {
    return {
      id: this.bot.id,
      is_bot: true,
      first_name: this.bot.first_name,
      username: this.bot.username,
    };
  }

  userObject(id: number): Json {
    if (id === this.bot.id) return this.botUserObject();
    const info = this.users.get(id)?.info ?? { id, first_name: `User ${id}` };
    return {
      id: info.id,
      is_bot: false,
      first_name: info.first_name,
      ...(info.last_name !== undefined ? { last_name: info.last_name } : {}),
      ...(info.username !== undefined ? { username: info.username } : {}),
      ...(info.language_code !== undefined ? { language_code: info.language_code } : {}),
    };
  }

  privateChatObject(user: UserState): Json {
    const { info } = user;
    return {
      id: info.id,
      type: 'private',
      first_name: info.first_name,
      ...(info.last_name !== undefined ? { last_name: info.last_name } : {}),
      ...(info.username !== undefined ? { username: info.username } : {}),
    };
  }

  chatObject(chat: ChatState): Json {
    return {
      id: chat.info.id,
      type: chat.info.type,
      title: chat.info.title,
      ...(chat.info.username !== undefined ? { username: chat.info.username } : {}),
    };
  }

  /** A ChatMember object for `userId` (the current record unless one is given). */
  memberObject(chat: ChatState, userId: number, record: MemberRecord = this.member(chat, userId)): Json {
    const user = this.userObject(userId);
    switch (record.status) {
      case 'creator':
        return { status: 'creator', user, is_anonymous: false };
      case 'administrator':
        return {
          status: 'administrator',
          user,
          can_be_edited: false,
          ...(record.rights ?? FULL_ADMIN_RIGHTS),
        };
      case 'member':
        return { status: 'member', user };
      case 'restricted':
        return { status: 'restricted', user, is_member: true, until_date: record.untilDate ?? 0 };
      case 'left':
        return { status: 'left', user };
      case 'kicked':
        return { status: 'kicked', user, until_date: record.untilDate ?? 0 };
    }
  }

  /** A ChatInviteLink object as the bot (its creator) sees it. */
  linkObject(link: InviteLinkRecord): Json {
    const chat = this.chats.get(link.chat_id);
    const pending = chat
      ? chat.joinRequests.filter((r) => r.invite_link === link.invite_link && r.status === 'pending').length
      : 0;
    return {
      invite_link: link.invite_link,
      creator: this.userObject(link.creator_id),
      creates_join_request: link.creates_join_request,
      is_primary: link.is_primary,
      is_revoked: link.is_revoked,
      ...(link.name !== undefined ? { name: link.name } : {}),
      ...(link.expire_date !== undefined ? { expire_date: link.expire_date } : {}),
      ...(link.member_limit !== undefined ? { member_limit: link.member_limit } : {}),
      ...(link.creates_join_request ? { pending_join_request_count: pending } : {}),
    };
  }

  /** A Message object for a stored message. */
  messageObject(message: StoredMessage): Json {
    const user = this.users.get(message.chat_id);
    const chat = this.chats.get(message.chat_id);
    const chatJson = user ? this.privateChatObject(user) : chat ? this.chatObject(chat) : { id: message.chat_id };
    const json: Json = { message_id: message.message_id };
    if (message.sender === 'bot') {
      if (chat?.info.type === 'channel') json.sender_chat = chatJson;
      else json.from = this.botUserObject();
    } else {
      json.from = this.userObject(message.sender);
    }
    json.chat = chatJson;
    json.date = message.date;
    if (message.edit_date !== undefined) json.edit_date = message.edit_date;
    if (message.text !== undefined) json.text = message.text;
    if (message.entities?.length) json.entities = message.entities;
    if (message.document) json.document = message.document;
    if (message.caption !== undefined && message.caption !== '') json.caption = message.caption;
    if (message.caption_entities?.length) json.caption_entities = message.caption_entities;
    if (message.contact) json.contact = message.contact;
    if (message.invoice) json.invoice = message.invoice;
    if (message.successful_payment) json.successful_payment = message.successful_payment;
    const keyboard = inlineKeyboardOf(message.reply_markup);
    if (keyboard) json.reply_markup = { inline_keyboard: keyboard };
    return json;
  }
}
