import { badRequest } from './api-error.js';
import type { EmulatorCore, MethodHandler } from './emulator-core.js';
import type { RequestParams } from './request-params.js';
import { type ChatState, isPresent, type MemberRecord } from './world.js';

/** A ban shorter than 30 s or longer than 366 days is forever (until_date 0), as in Telegram. */
function normalizeUntilDate(untilDate: number | undefined, now: number): number {
  if (!untilDate) return 0;
  const seconds = untilDate - now;
  return seconds < 30 || seconds > 366 * 24 * 60 * 60 ? 0 : untilDate;
}

function requireUserId(p: RequestParams): number {
  const id = p.int('user_id', 'invalid user_id specified');
  if (id === undefined || id <= 0) throw badRequest('invalid user_id specified');
  return id;
}

/** Checks shared by ban/unban: a group the bot is in, the right, and a removable target. */
function restrictTarget(p: RequestParams, core: EmulatorCore, privateError: string): { chat: ChatState; userId: number } {
  const { world } = core;
  const chat = world.resolveGroup(p.chatId(), privateError);
  const userId = requireUserId(p);
  world.requireBotPresent(chat);
  if (!world.botHasRight(chat, 'can_restrict_members')) {
    throw badRequest('not enough rights to restrict/unrestrict chat member');
  }
  if (userId === world.bot.id) throw badRequest("can't restrict self");
  if (!world.users.has(userId)) throw badRequest('user not found');
  const status = world.memberStatus(chat, userId);
  if (status === 'creator') throw badRequest("can't remove chat owner");
  if (status === 'administrator') throw badRequest('user is an administrator of the chat');
  return { chat, userId };
}

/** getChat, getChatMember, getChatAdministrators, getChatMemberCount, ban/unban, leaveChat. */
export function chatMemberMethods(): Record<string, MethodHandler> {
  const getChatMemberCount: MethodHandler = (p, core) => {
    const { world } = core;
    const target = world.resolve(p.chatId());
    if (target.kind === 'private') return 2;
    world.requireBotPresent(target.chat);
    let count = 0;
    for (const [userId] of target.chat.members) {
      if (isPresent(world.memberStatus(target.chat, userId))) count++;
    }
    return count;
  };
  const banChatMember: MethodHandler = (p, core) => {
    const { world } = core;
    const { chat, userId } = restrictTarget(p, core, "can't ban members in private chats");
    const untilDate = normalizeUntilDate(p.int('until_date'), world.now());
    world.changeMember(chat, userId, { status: 'kicked', untilDate }, { emit: true, from: world.botUserObject() });
    return true;
  };

  return {
    getChat(p, core) {
      const { world } = core;
      const target = world.resolve(p.chatId());
      if (target.kind === 'private') {
        return { ...world.privateChatObject(target.user), accent_color_id: 0, max_reaction_count: 11 };
      }
      const { chat } = target;
      if (!isPresent(world.memberStatus(chat, world.bot.id)) && chat.info.username === undefined) {
        throw badRequest('chat not found');
      }
      const primary = chat.links.find((l) => l.is_primary && !l.is_revoked);
      return {
        ...world.chatObject(chat),
        accent_color_id: 0,
        max_reaction_count: 11,
        ...(primary && world.isBotAdmin(chat) ? { invite_link: primary.invite_link } : {}),
      };
    },

    getChatMember(p, core) {
      const { world } = core;
      const target = world.resolve(p.chatId());
      const userId = requireUserId(p);
      if (target.kind === 'private') {
        if (userId !== target.user.info.id && userId !== world.bot.id) throw badRequest('user not found');
        return { status: 'member', user: world.userObject(userId) };
      }
      const { chat } = target;
      world.requireBotPresent(chat);
      if (chat.info.type === 'channel' && !world.isBotAdmin(chat) && userId !== world.bot.id) {
        throw badRequest('member list is inaccessible');
      }
      if (userId !== world.bot.id && !world.users.has(userId)) throw badRequest('user not found');
      return world.memberObject(chat, userId);
    },

    getChatAdministrators(p, core) {
      const { world } = core;
      const chat = world.resolveGroup(p.chatId(), 'there are no administrators in the private chat');
      world.requireBotPresent(chat);
      if (chat.info.type === 'channel' && !world.isBotAdmin(chat)) throw badRequest('member list is inaccessible');
      const admins: unknown[] = [];
      for (const [userId] of chat.members) {
        const status = world.memberStatus(chat, userId);
        if (status === 'creator' || status === 'administrator') admins.push(world.memberObject(chat, userId));
      }
      return admins;
    },

    getChatMemberCount,
    getChatMembersCount: getChatMemberCount,

    banChatMember,
    kickChatMember: banChatMember,

    unbanChatMember(p, core) {
      const { world } = core;
      const { chat, userId } = restrictTarget(p, core, "can't unban members in private chats");
      const status = world.memberStatus(chat, userId);
      const onlyIfBanned = p.bool('only_if_banned') ?? false;
      if (status === 'kicked') {
        world.changeMember(chat, userId, { status: 'left' }, { emit: true, from: world.botUserObject() });
      } else if (isPresent(status) && !onlyIfBanned) {
        // Telegram's documented trap: without only_if_banned, unbanning a member removes them.
        world.changeMember(chat, userId, { status: 'left' }, { emit: true, from: world.botUserObject() });
      }
      return true;
    },

    leaveChat(p, core) {
      const { world } = core;
      const chat = world.resolveGroup(p.chatId(), "chat member status can't be changed in private chats");
      world.requireBotPresent(chat);
      const next: MemberRecord = { status: 'left' };
      world.changeMember(chat, world.bot.id, next, { emit: true, from: world.botUserObject() });
      return true;
    },
  };
}
