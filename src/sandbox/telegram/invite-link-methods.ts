import { randomBytes } from 'node:crypto';
import { badRequest } from './api-error.js';
import type { EmulatorCore, MethodHandler } from './emulator-core.js';
import type { InviteLinkRecord } from './emulator-types.js';
import type { RequestParams } from './request-params.js';
import { type ChatState, isPresent, type TelegramWorld } from './world.js';

const MAX_LINK_NAME_LENGTH = 32;
const MAX_MEMBER_LIMIT = 99_999;

/** A fresh `https://t.me/+…` link, unique in the world. */
export function newInviteLink(world: TelegramWorld): string {
  for (;;) {
    const link = `https://t.me/+${randomBytes(12).toString('base64url')}`;
    if (![...world.chats.values()].some((c) => c.links.some((l) => l.invite_link === link))) return link;
  }
}

/** Finds the chat and link an invite link string belongs to. */
export function findInviteLink(
  world: TelegramWorld,
  link: string,
): { chat: ChatState; record: InviteLinkRecord } | undefined {
  const normalized = link.trim().replace(/^http:\/\//, 'https://');
  for (const chat of world.chats.values()) {
    const record = chat.links.find((l) => l.invite_link === normalized);
    if (record) return { chat, record };
  }
  return undefined;
}

function manageableChat(p: RequestParams, core: EmulatorCore): ChatState {
  const { world } = core;
  const chat = world.resolveGroup(p.chatId(), "can't invite members to a private chat");
  world.requireBotPresent(chat);
  if (!world.botHasRight(chat, 'can_invite_users')) throw badRequest('not enough rights to manage chat invite link');
  return chat;
}

/** name, expire_date, member_limit, creates_join_request as Telegram checks them. */
function readLinkFields(p: RequestParams, world: TelegramWorld): Pick<
  InviteLinkRecord,
  'name' | 'expire_date' | 'member_limit' | 'creates_join_request'
> {
  const createsJoinRequest = p.bool('creates_join_request') ?? false;
  const memberLimit = p.int('member_limit') || undefined;
  if (createsJoinRequest && memberLimit !== undefined) {
    throw badRequest("member limit can't be specified for links requiring administrator approval");
  }
  if (memberLimit !== undefined && (memberLimit < 1 || memberLimit > MAX_MEMBER_LIMIT)) {
    throw badRequest('USAGE_LIMIT_INVALID');
  }
  const expireDate = p.int('expire_date') || undefined;
  if (expireDate !== undefined && expireDate <= world.now()) throw badRequest('EXPIRE_DATE_INVALID');
  const name = p.string('name')?.slice(0, MAX_LINK_NAME_LENGTH);
  return {
    ...(name ? { name } : {}),
    ...(expireDate !== undefined ? { expire_date: expireDate } : {}),
    ...(memberLimit !== undefined ? { member_limit: memberLimit } : {}),
    creates_join_request: createsJoinRequest,
  };
}

function linkOf(chat: ChatState, p: RequestParams): InviteLinkRecord {
  const link = p.string('invite_link');
  if (!link) throw badRequest('invite link must be non-empty');
  const record = chat.links.find((l) => l.invite_link === link.trim());
  if (!record) throw badRequest('INVITE_HASH_EXPIRED');
  return record;
}

function createPrimary(world: TelegramWorld, chat: ChatState): InviteLinkRecord {
  for (const link of chat.links) {
    if (link.is_primary && !link.is_revoked) link.is_revoked = true;
  }
  const record: InviteLinkRecord = {
    chat_id: chat.info.id,
    invite_link: newInviteLink(world),
    creator_id: world.bot.id,
    creates_join_request: false,
    is_primary: true,
    is_revoked: false,
    created_date: world.now(),
    joined_user_ids: [],
  };
  chat.links.push(record);
  return record;
}

/** Invite links and join requests. */
export function inviteLinkMethods(): Record<string, MethodHandler> {
  const processJoinRequest = (p: RequestParams, core: EmulatorCore, approve: boolean): true => {
    const { world } = core;
    const chat = world.resolveGroup(p.chatId(), "the chat can't have join requests");
    const userId = p.int('user_id', 'invalid user_id specified');
    if (userId === undefined || userId <= 0) throw badRequest('invalid user_id specified');
    world.requireBotPresent(chat);
    if (!world.botHasRight(chat, 'can_invite_users')) {
      throw badRequest('not enough rights to manage chat join requests');
    }
    if (!world.users.has(userId)) throw badRequest('user not found');
    const request = world.pendingJoinRequest(chat, userId);
    if (!request) throw badRequest('HIDE_REQUESTER_MISSING');
    if (approve && isPresent(world.memberStatus(chat, userId))) {
      request.status = 'approved';
      throw badRequest('USER_ALREADY_PARTICIPANT');
    }
    request.status = approve ? 'approved' : 'declined';
    if (approve) {
      const link = request.invite_link ? chat.links.find((l) => l.invite_link === request.invite_link) : undefined;
      link?.joined_user_ids.push(userId);
      world.changeMember(
        chat,
        userId,
        { status: 'member', ...(link ? { joinedVia: link.invite_link } : {}) },
        {
          emit: true,
          from: world.userObject(userId),
          ...(link ? { inviteLink: link } : { viaJoinRequest: true }),
        },
      );
    }
    return true;
  };

  return {
    createChatInviteLink(p, core) {
      const { world } = core;
      const chat = manageableChat(p, core);
      const record: InviteLinkRecord = {
        chat_id: chat.info.id,
        invite_link: newInviteLink(world),
        creator_id: world.bot.id,
        ...readLinkFields(p, world),
        is_primary: false,
        is_revoked: false,
        created_date: world.now(),
        joined_user_ids: [],
      };
      chat.links.push(record);
      return world.linkObject(record);
    },

    editChatInviteLink(p, core) {
      const { world } = core;
      const chat = manageableChat(p, core);
      const fields = readLinkFields(p, world);
      const record = linkOf(chat, p);
      if (record.is_revoked) throw badRequest('INVITE_REVOKED_MISSING');
      // Telegram replaces every field: the ones left out go back to their defaults.
      delete record.name;
      delete record.expire_date;
      delete record.member_limit;
      Object.assign(record, fields);
      return world.linkObject(record);
    },

    revokeChatInviteLink(p, core) {
      const { world } = core;
      const chat = manageableChat(p, core);
      const record = linkOf(chat, p);
      const wasPrimary = record.is_primary && !record.is_revoked;
      record.is_revoked = true;
      if (wasPrimary) createPrimary(world, chat);
      return world.linkObject(record);
    },

    exportChatInviteLink(p, core) {
      const chat = manageableChat(p, core);
      return createPrimary(core.world, chat).invite_link;
    },

    approveChatJoinRequest: (p, core) => processJoinRequest(p, core, true),
    declineChatJoinRequest: (p, core) => processJoinRequest(p, core, false),
  };
}
