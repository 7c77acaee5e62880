/**
 * A Telegram Bot API emulator served over HTTP, for tests and the local playground. The bot under
 * test connects with `new Bot(token, { client: { apiRoot: emulator.apiRoot } })`; scripted users
 * act in the emulated world; tests observe calls, messages and members, and inject faults.
 */
import { type Clock, systemClock } from '../../clock.js';
import { createDispatcher } from './api-dispatcher.js';
import { startApiServer } from './api-server.js';
import { botSettingsMethods } from './bot-settings-methods.js';
import { toBotMessage } from './bot-message.js';
import { chatMemberMethods } from './chat-member-methods.js';
import type { EmulatorCore } from './emulator-core.js';
import type {
  AdminRights,
  BotInfo,
  BotMessage,
  CallbackAnswer,
  ChatInfo,
  EmulatorCall,
  InviteLinkRecord,
  JoinRequestRecord,
  MemberStatus,
  ScriptedUser,
  UserInfo,
} from './emulator-types.js';
import { FaultInjector, type FaultSpec } from './fault-injector.js';
import { inviteLinkMethods } from './invite-link-methods.js';
import { messageMethods } from './message-methods.js';
import { StarsState, starsMethods } from './stars-methods.js';
import { createRateLimiter, type RateLimiterOptions } from './rate-limiter.js';
import { RequestParams } from './request-params.js';
import { ScriptedUserImpl } from './scripted-user.js';
import { type RawUpdate, UpdateQueue } from './update-queue.js';
import { updateMethods } from './update-methods.js';
import { WebhookSender } from './webhook-sender.js';
import { FULL_ADMIN_RIGHTS, isPresent, type MemberRecord, TelegramWorld } from './world.js';

export type {
  AdminRights,
  BotInfo,
  BotMessage,
  CallbackAnswer,
  ChatInfo,
  EmulatorCall,
  InviteLinkRecord,
  JoinRequestRecord,
  MemberStatus,
  ScriptedUser,
  UserInfo,
} from './emulator-types.js';
export type { FaultBehavior, FaultSpec } from './fault-injector.js';

/** Options for {@link startTelegramEmulator}. */
export interface TelegramEmulatorOptions {
  /** The only token the emulator accepts; others get 401 `Unauthorized`. */
  token: string;
  /**
   * The bot's account. (default: id from the token's digits before `:`, else 100000001;
   * username `emulated_bot`; first_name `Emulated Bot`)
   */
  bot?: { id?: number; username?: string; first_name?: string };
  /** Source of message dates, ban and link expiry, rate-limit refills. (default: systemClock) */
  clock?: Clock;
  /**
   * Answer 429 `Too Many Requests: retry after N` beyond Telegram's limits: 30 sends/s overall,
   * 1/s per chat after a burst of 3, 20/min per group (sends and edits count). (default: false)
   */
  enforceRateLimits?: boolean;
  /**
   * The limits `enforceRateLimits` keeps, changed for a test (e.g. a lower overall rate keeps a
   * crowd test short). (default: Telegram's, as above)
   */
  rateLimits?: Omit<RateLimiterOptions, 'clock'>;
  /** (default: 127.0.0.1) */
  host?: string;
  /** (default: 0, a random free port) */
  port?: number;
  /**
   * Reject a bare `&` in HTML text (see `ParseHtmlOptions.strictAmpersand`); false behaves like
   * Telegram, which shows it literally. (default: true)
   */
  strictHtmlAmpersand?: boolean;
  /** First webhook retry delay after a failed delivery, doubling up to 5 s. (default: 100 ms) */
  webhookRetryBaseMs?: number;
  /** Per-delivery webhook timeout. (default: 10 000 ms) */
  webhookTimeoutMs?: number;
}

/** The running emulator. */
export interface TelegramEmulator {
  /** e.g. `http://127.0.0.1:45678` (no trailing slash), for grammY's `client.apiRoot`. */
  readonly apiRoot: string;
  readonly token: string;
  readonly bot: BotInfo;
  /** Stops the server: held long polls answer `[]` at once, hung requests are dropped. */
  close(): Promise<void>;

  // ---- world model ----
  /** Adds a user (not yet talking to the bot). Throws if the id is taken. */
  addUser(u: UserInfo): ScriptedUser;
  /** A user added before (or created as a placeholder by setMember). Throws if unknown. */
  user(id: number): ScriptedUser;
  /** Adds a group, supergroup or channel (the bot is not in it yet). Throws if the id is taken. */
  addChat(c: ChatInfo): void;
  /**
   * Sets the bot's membership and reports it as a `my_chat_member` update (old → new). For
   * `administrator`, `rights` override full rights (every `can_*` true except
   * `can_promote_members`, `can_manage_topics`, `can_send_welcome_messages`).
   */
  setBotMember(
    chatId: number,
    status: 'administrator' | 'member' | 'left' | 'kicked',
    rights?: Partial<AdminRights>,
  ): void;
  /**
   * World setup: sets a member's status without telling the bot, unless `opts.emit` (then a
   * `chat_member` update, if the bot is an admin and asked for them). Unknown user ids become
   * placeholder users `User <id>`.
   */
  setMember(
    chatId: number,
    userId: number,
    status: 'creator' | 'administrator' | 'member' | 'left' | 'kicked',
    opts?: { emit?: boolean },
  ): void;
  memberStatus(chatId: number, userId: number): MemberStatus;
  /** Ids of users in the chat now (creator, administrators, members, restricted), the bot excluded. */
  members(chatId: number): number[];
  /** Copies of the chat's invite links, oldest first. */
  inviteLinks(chatId: number): InviteLinkRecord[];
  /** Copies of the chat's join requests (every status), oldest first. */
  joinRequests(chatId: number): JoinRequestRecord[];
  /**
   * The user blocks the bot (`my_chat_member` member → kicked in the private chat); sends then fail
   * with 403 `Forbidden: bot was blocked by the user`.
   */
  blockBot(userId: number): void;
  /** The user unblocks the bot (kicked → member), as `sendText` also does. */
  unblockBot(userId: number): void;

  // ---- observation ----
  /** Every call with a valid token, in completion order (live array). */
  readonly calls: EmulatorCall[];
  /** Successful answerCallbackQuery calls (live array). */
  readonly callbackAnswers: CallbackAnswer[];
  /** `tooManyRequests`: 429 responses sent (enforced or injected); `sent`: messages the bot sent. */
  readonly stats: { tooManyRequests: number; sent: number };
  /** Updates not yet confirmed by getUpdates or delivered to the webhook. */
  pendingUpdates(): RawUpdate[];
  /** The bot's messages in a group, supergroup or channel, current state, deleted left out. */
  chatMessages(chatId: number): BotMessage[];
  /** The bytes of a file the bot uploaded, by file_id. */
  fileContent(fileId: string): Buffer | undefined;

  // ---- fault injection ----
  /**
   * Makes the next `times` (default 1) calls of `method` (only with that `chat_id`, if given) fail
   * with the fault instead of running — or after running, with `afterEffect`.
   */
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  /**
   * Resolves with the first recorded call (past or future, oldest first) of `method` matching
   * `predicate`; rejects after `timeoutMs` listing the calls seen. (default: timeoutMs 10_000)
   */
  waitForCall(
    method: string,
    predicate?: (call: EmulatorCall) => boolean,
    timeoutMs?: number,
  ): Promise<EmulatorCall>;
}

function defaultBotId(token: string): number {
  const digits = /^(\d+):/.exec(token)?.[1];
  const id = digits === undefined ? NaN : Number(digits);
  return Number.isSafeInteger(id) && id > 0 ? id : 100_000_001;
}

interface CallWaiter {
  method: string;
  predicate: (call: EmulatorCall) => boolean;
  resolve(call: EmulatorCall): void;
  reject(error: Error): void;
}

/** Starts an emulator on `host:port` and resolves once it listens. */
export async function startTelegramEmulator(opts: TelegramEmulatorOptions): Promise<TelegramEmulator> {
  if (!opts.token) throw new Error('startTelegramEmulator: token is required');
  const clock = opts.clock ?? systemClock;
  const bot: BotInfo = {
    id: opts.bot?.id ?? defaultBotId(opts.token),
    username: opts.bot?.username ?? 'emulated_bot',
    first_name: opts.bot?.first_name ?? 'Emulated Bot',
  };
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new Error('The Telegram emulator is closed');
  };

  const queue = new UpdateQueue();
  const scripted = new Map<number, ScriptedUserImpl>();
  const world = new TelegramWorld({
    clock,
    bot,
    hooks: {
      emit: (type, payload) => {
        queue.push(type, payload);
      },
      onPrivateBotMessage: (userId, message, kind) => scriptedUser(userId).onBotMessage(message, kind),
    },
  });
  const calls: EmulatorCall[] = [];
  const callWaiters = new Set<CallWaiter>();
  const webhook = new WebhookSender({
    queue,
    clock,
    ...(opts.webhookRetryBaseMs !== undefined ? { retryBaseMs: opts.webhookRetryBaseMs } : {}),
    ...(opts.webhookTimeoutMs !== undefined ? { timeoutMs: opts.webhookTimeoutMs } : {}),
    onReply: async (call) => {
      const { method, ...params } = call;
      await dispatch(String(method), new RequestParams(params), params, new AbortController().signal);
    },
  });
  const core: EmulatorCore = {
    world,
    queue,
    webhook,
    callbackQueries: new Map(),
    callbackAnswers: [],
    stats: { tooManyRequests: 0, sent: 0 },
    settings: {
      commands: new Map(),
      descriptions: new Map(),
      shortDescriptions: new Map(),
      names: new Map(),
      menuButtons: new Map(),
    },
    stars: new StarsState(clock),
    strictHtmlAmpersand: opts.strictHtmlAmpersand ?? true,
  };
  const faults = new FaultInjector();
  const dispatch = createDispatcher({
    core,
    methods: {
      ...updateMethods(),
      ...messageMethods(),
      ...chatMemberMethods(),
      ...inviteLinkMethods(),
      ...botSettingsMethods(),
      ...starsMethods(),
    },
    faults,
    ...(opts.enforceRateLimits ? { rateLimiter: createRateLimiter({ ...opts.rateLimits, clock }) } : {}),
    clock,
    record: (call) => {
      calls.push(call);
      for (const waiter of [...callWaiters]) {
        if (waiter.method === call.method.toLowerCase() && waiter.predicate(call)) {
          callWaiters.delete(waiter);
          waiter.resolve(call);
        }
      }
    },
  });
  const server = await startApiServer({
    token: opts.token,
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    dispatch,
    world,
  });

  function scriptedUser(id: number): ScriptedUserImpl {
    let user = scripted.get(id);
    if (!user) {
      user = new ScriptedUserImpl({ core, state: world.user(id), ensureOpen });
      scripted.set(id, user);
    }
    return user;
  }

  return {
    apiRoot: server.apiRoot,
    token: opts.token,
    bot: { ...bot },
    calls,
    callbackAnswers: core.callbackAnswers,
    stats: core.stats,

    async close() {
      if (closed) return;
      closed = true;
      queue.terminatePoll();
      webhook.close();
      for (const user of scripted.values()) user.abortWaiters('the emulator was closed');
      for (const waiter of callWaiters) waiter.reject(new Error('waitForCall: the emulator was closed'));
      callWaiters.clear();
      await server.close();
    },

    addUser(u) {
      world.addUser(u);
      return scriptedUser(u.id);
    },
    user: (id) => scriptedUser(id),
    addChat(c) {
      world.addChat(c);
    },

    setBotMember(chatId, status, rights) {
      const chat = world.chat(chatId);
      const next: MemberRecord =
        status === 'administrator' ? { status, rights: { ...FULL_ADMIN_RIGHTS, ...rights } } : { status };
      world.changeMember(chat, bot.id, next, { emit: true });
    },

    setMember(chatId, userId, status, setOpts) {
      if (userId === bot.id) throw new Error('setMember: use setBotMember() for the bot');
      const chat = world.chat(chatId);
      world.ensureUser(userId);
      const next: MemberRecord =
        status === 'administrator' ? { status, rights: { ...FULL_ADMIN_RIGHTS } } : { status };
      const selfAction = status === 'member' || status === 'left';
      world.changeMember(chat, userId, next, {
        emit: setOpts?.emit ?? false,
        ...(selfAction ? { from: world.userObject(userId) } : {}),
      });
    },

    memberStatus: (chatId, userId) => world.memberStatus(world.chat(chatId), userId),
    members(chatId) {
      const chat = world.chat(chatId);
      return [...chat.members.keys()].filter(
        (id) => id !== bot.id && isPresent(world.memberStatus(chat, id)),
      );
    },
    inviteLinks: (chatId) => structuredClone(world.chat(chatId).links),
    joinRequests: (chatId) => structuredClone(world.chat(chatId).joinRequests),

    blockBot(userId) {
      const state = world.user(userId);
      if (state.blocked) return;
      state.blocked = true;
      world.privateBotStatusChanged(state, 'member', 'kicked');
    },
    unblockBot(userId) {
      const state = world.user(userId);
      if (!state.blocked) return;
      state.blocked = false;
      world.privateBotStatusChanged(state, 'kicked', 'member');
    },

    pendingUpdates: () => structuredClone(queue.pending()),
    chatMessages(chatId) {
      return [...world.chat(chatId).conversation.messages.values()]
        .filter((m) => m.sender === 'bot' && !m.deleted)
        .map(toBotMessage);
    },
    fileContent: (fileId) => world.files.get(fileId)?.bytes,

    injectFault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),

    waitForCall(method, predicate = () => true, timeoutMs = 10_000) {
      const lower = method.toLowerCase();
      const existing = calls.find((c) => c.method.toLowerCase() === lower && predicate(c));
      if (existing) return Promise.resolve(existing);
      if (closed) return Promise.reject(new Error('waitForCall: the emulator is closed'));
      return new Promise<EmulatorCall>((resolve, reject) => {
        const timer = setTimeout(() => {
          callWaiters.delete(waiter);
          const same = calls.filter((c) => c.method.toLowerCase() === lower);
          const recent = calls.slice(-8).map((c) => `${c.method} → ${c.status}`);
          reject(
            new Error(
              `waitForCall(${method}): no matching call within ${timeoutMs} ms. ` +
                `${same.length} ${method} call(s) seen${same.length ? `: ${same.slice(-3).map((c) => JSON.stringify(c.params)).join('; ')}` : ''}. ` +
                `Recent calls: ${recent.join(', ') || 'none'}`,
            ),
          );
        }, timeoutMs);
        const waiter: CallWaiter = {
          method: lower,
          predicate,
          resolve: (call) => {
            clearTimeout(timer);
            resolve(call);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        callWaiters.add(waiter);
      });
    },
  };
}
