import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api, Bot, GrammyError, HttpError, InlineKeyboard, InputFile } from 'grammy';
import type { Update } from 'grammy/types';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import {
  startTelegramEmulator,
  type TelegramEmulator,
  type TelegramEmulatorOptions,
} from '../../src/sandbox/telegram/emulator.js';

const TOKEN = '123456789:TEST-token-for-the-emulator';
const CHANNEL = -1001000000001;
const GROUP = -1001000000002;
const ALL_UPDATES = ['message', 'callback_query', 'my_chat_member', 'chat_member', 'chat_join_request'];

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Last in, first out: bots stop before the emulator they poll closes.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  options: Partial<TelegramEmulatorOptions> = {},
): Promise<{ emulator: TelegramEmulator; api: Api }> {
  const emulator = await startTelegramEmulator({ token: TOKEN, ...options });
  cleanups.push(() => emulator.close());
  return { emulator, api: new Api(TOKEN, { apiRoot: emulator.apiRoot }) };
}

/** Runs a grammY bot with long polling against the emulator until the test ends. */
async function runBot(emulator: TelegramEmulator, install: (bot: Bot) => void): Promise<Bot> {
  const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
  install(bot);
  await new Promise<void>((resolve, reject) => {
    bot.start({ onStart: () => resolve(), timeout: 10 }).catch(reject);
  });
  cleanups.push(() => bot.stop());
  return bot;
}

async function apiError(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

/** Confirms everything pending and asks for every update type the tests look at. */
async function subscribeAll(api: Api): Promise<void> {
  const pending = await api.getUpdates({ allowed_updates: ALL_UPDATES as never, timeout: 0 });
  const last = pending.at(-1);
  if (last) await api.getUpdates({ offset: last.update_id + 1, timeout: 0 });
}

describe('Telegram emulator: transport', () => {
  it('answers getMe for its token and 401 Unauthorized for another', async () => {
    const { emulator, api } = await setup({ bot: { username: 'members_bot', first_name: 'Members' } });
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 123456789, is_bot: true, username: 'members_bot', first_name: 'Members' });
    expect(emulator.apiRoot).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const wrong = await apiError(new Api('42:wrong', { apiRoot: emulator.apiRoot }).getMe());
    expect(wrong.error_code).toBe(401);
    expect(wrong.description).toBe('Unauthorized');

    const unknown = await apiError((api.raw as unknown as Record<string, (p: object) => Promise<unknown>>).fooBar!({}));
    expect(unknown.error_code).toBe(404);
    expect(unknown.description).toBe('Not Found: method not found');
  });

  it('accepts GET with a query string and records calls with decoded parameters', async () => {
    const { emulator } = await setup();
    emulator.addUser({ id: 1001, first_name: 'Alice' });
    await emulator.user(1001).sendText('hi');
    const response = await fetch(`${emulator.apiRoot}/bot${TOKEN}/sendMessage?chat_id=1001&text=From%20GET`);
    expect(await response.json()).toMatchObject({ ok: true, result: { text: 'From GET', chat: { id: 1001 } } });
    const call = await emulator.waitForCall('sendMessage');
    expect(call).toMatchObject({ method: 'sendMessage', params: { chat_id: 1001, text: 'From GET' }, status: 200 });
  });

  it('holds a long poll until an update arrives, and answers a held poll at once on close', async () => {
    const { emulator, api } = await setup();
    const alice = emulator.addUser({ id: 1001, first_name: 'Alice' });
    const held = api.getUpdates({ timeout: 20 });
    await new Promise((r) => setTimeout(r, 50));
    await alice.sendText('wake up');
    const [update] = await held;
    expect(update?.message?.text).toBe('wake up');

    const second = api.getUpdates({ offset: update!.update_id + 1, timeout: 20 });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await emulator.close();
    expect(await second).toEqual([]);
    // Not answered by close, the poll would end at its own timeout (20 s); wide for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('ends a held long poll with 409 when another getUpdates arrives', async () => {
    const { api } = await setup();
    const first = apiError(api.getUpdates({ timeout: 20 }));
    await new Promise((r) => setTimeout(r, 50));
    await api.getUpdates({ timeout: 0 });
    const error = await first;
    expect(error.error_code).toBe(409);
    expect(error.description).toBe(
      'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    );
  });
});

describe('Telegram emulator: a running grammY bot', () => {
  it('delivers a user message by long polling and shows the reply to the user', async () => {
    const { emulator } = await setup();
    await runBot(emulator, (bot) => {
      bot.command('start', (ctx) =>
        ctx.reply(`Hello, <b>${ctx.from?.first_name}</b>! Payload: ${ctx.match || 'none'}`, {
          parse_mode: 'HTML',
          reply_markup: new InlineKeyboard().text('Monthly', 'plan:monthly').text('Yearly', 'plan:yearly'),
        }),
      );
    });
    const alice = emulator.addUser({ id: 1001, first_name: 'Alice' });
    await alice.sendText('/start plan_monthly');
    const reply = await alice.waitForMessage();
    expect(reply.text).toBe('Hello, Alice! Payload: plan_monthly');
    expect(reply.entities).toEqual([{ type: 'bold', offset: 7, length: 5 }]);
    expect(reply.parse_mode).toBe('HTML');
    expect(alice.buttons()).toEqual(['Monthly', 'Yearly']);
    expect(alice.lastMessage()?.message_id).toBe(2); // the user's /start was message 1
  });

  it('turns a button press into a callback_query and records answerCallbackQuery', async () => {
    const { emulator } = await setup();
    await runBot(emulator, (bot) => {
      bot.command('start', (ctx) =>
        ctx.reply('Choose a plan', { reply_markup: new InlineKeyboard().text('Monthly', 'plan:monthly') }),
      );
      bot.callbackQuery(/^plan:/, async (ctx) => {
        await ctx.answerCallbackQuery({ text: 'Noted' });
        await ctx.editMessageText(`You chose ${ctx.callbackQuery.data}`);
      });
    });
    const alice = emulator.addUser({ id: 1001, first_name: 'Alice' });
    await alice.sendText('/start');
    const menu = await alice.waitForMessage((m) => m.text === 'Choose a plan');

    await expect(alice.pressButton('Weekly')).rejects.toThrow(/Available buttons: \["Monthly"\]/);
    await alice.pressButton('Monthly');
    const edited = await alice.waitForMessage((m) => m.text === 'You chose plan:monthly');
    expect(edited.message_id).toBe(menu.message_id);
    expect(edited.edit_date).toBeDefined();
    expect(edited.reply_markup).toBeUndefined();
    const answer = await emulator.waitForCall('answerCallbackQuery');
    expect(answer.status).toBe(200);
    expect(emulator.callbackAnswers).toEqual([expect.objectContaining({ text: 'Noted' })]);
    expect(alice.messages().map((m) => m.text)).toEqual(['You chose plan:monthly']);
  });

  it('explains a waitForMessage timeout with the messages the user did get', async () => {
    const { emulator, api } = await setup();
    const alice = emulator.addUser({ id: 1001, first_name: 'Alice' });
    await alice.sendText('/start');
    await api.sendMessage(1001, 'Welcome', { reply_markup: new InlineKeyboard().text('Buy', 'buy') });
    await expect(alice.waitForMessage((m) => m.text === 'Paid', 50)).rejects.toThrow(
      /after sendText\("\/start"\)[\s\S]*sent #2 "Welcome" \[Buy\]/,
    );
    alice.mark();
    await expect(alice.waitForMessage(undefined, 30)).rejects.toThrow(/sent or edited nothing/);
  });
});

describe('Telegram emulator: message checks', () => {
  async function withUser() {
    const context = await setup();
    const alice = context.emulator.addUser({ id: 1001, first_name: 'Alice' });
    await alice.sendText('hi');
    return { ...context, alice };
  }

  it('rejects malformed HTML with Telegram’s parse errors', async () => {
    const { api } = await withUser();
    const cases: Array<[string, string]> = [
      ['<b>unclosed', `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`],
      ['<div>x</div>', `Bad Request: can't parse entities: Unsupported start tag "div" at byte offset 0`],
      ['1 < 2', `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 2`],
      ['<b>x</i>', `Bad Request: can't parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"`],
    ];
    for (const [text, description] of cases) {
      const error = await apiError(api.sendMessage(1001, text, { parse_mode: 'HTML' }));
      expect(error.error_code).toBe(400);
      expect(error.description).toBe(description);
    }
    const amp = await apiError(api.sendMessage(1001, 'Tom & Jerry', { parse_mode: 'HTML' }));
    expect(amp.description).toMatch(/^Bad Request: can't parse entities: Character '&' at byte offset 4/);
    const ok = await api.sendMessage(1001, 'Tom &amp; Jerry &lt;3 <a href="https://t.me/x">link</a>', {
      parse_mode: 'HTML',
    });
    expect(ok.text).toBe('Tom & Jerry <3 link');
    expect(ok.entities).toEqual([{ type: 'text_link', offset: 15, length: 4, url: 'https://t.me/x' }]);
  });

  it('rejects unescaped MarkdownV2 reserved characters', async () => {
    const { api } = await withUser();
    const error = await apiError(api.sendMessage(1001, 'Price: 4900.00', { parse_mode: 'MarkdownV2' }));
    expect(error.description).toBe(
      `Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'`,
    );
    const ok = await api.sendMessage(1001, '*Price:* 4900\\.00', { parse_mode: 'MarkdownV2' });
    expect(ok.text).toBe('Price: 4900.00');
  });

  it('measures length after parsing and rejects empty text and long callback data', async () => {
    const { api } = await withUser();
    const long = await apiError(api.sendMessage(1001, 'x'.repeat(4097)));
    expect(long.description).toBe('Bad Request: message is too long');
    await api.sendMessage(1001, `<b>${'x'.repeat(4096)}</b>`, { parse_mode: 'HTML' });
    expect((await apiError(api.sendMessage(1001, '  '))).description).toBe('Bad Request: message text is empty');
    const button = await apiError(
      api.sendMessage(1001, 'Pick', { reply_markup: new InlineKeyboard().text('A', 'a'.repeat(65)) }),
    );
    expect(button.description).toBe('Bad Request: BUTTON_DATA_INVALID');
  });

  it('refuses an edit that changes nothing', async () => {
    const { api } = await withUser();
    const markup = new InlineKeyboard().text('A', 'a');
    const sent = await api.sendMessage(1001, 'Same', { reply_markup: markup });
    const error = await apiError(api.editMessageText(1001, sent.message_id, 'Same', { reply_markup: markup }));
    expect(error.description).toBe(
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    );
    await api.editMessageText(1001, sent.message_id, 'Same'); // dropping the keyboard is a change
  });

  it('keeps the bot from messaging strangers, blockers and unknown chats', async () => {
    const { emulator, api } = await setup();
    emulator.addUser({ id: 2002, first_name: 'Stranger' });
    expect((await apiError(api.sendMessage(2002, 'hi'))).description).toBe(
      "Forbidden: bot can't initiate conversation with a user",
    );
    const alice = emulator.addUser({ id: 1001, first_name: 'Alice' });
    await alice.sendText('/start');
    emulator.blockBot(1001);
    const blocked = await apiError(api.sendMessage(1001, 'hi'));
    expect([blocked.error_code, blocked.description]).toEqual([403, 'Forbidden: bot was blocked by the user']);
    expect((await apiError(api.sendMessage(999, 'hi'))).description).toBe('Bad Request: chat not found');
    await alice.sendText('/start'); // "Restart" unblocks
    await api.sendMessage(1001, 'welcome back');
  });
});

describe('Telegram emulator: invite links and members', () => {
  async function withChannel(options: Partial<TelegramEmulatorOptions> = {}) {
    const context = await setup(options);
    const { emulator } = context;
    emulator.addChat({ id: CHANNEL, type: 'channel', title: 'Premium' });
    emulator.setMember(CHANNEL, 500, 'creator');
    emulator.setBotMember(CHANNEL, 'administrator');
    return context;
  }

  it('runs the join request flow: request, a message through user_chat_id, approval', async () => {
    const { emulator, api } = await withChannel();
    await subscribeAll(api);
    const link = await api.createChatInviteLink(CHANNEL, { creates_join_request: true, name: 'order-42' });
    expect(link).toMatchObject({ creates_join_request: true, is_primary: false, is_revoked: false, name: 'order-42' });

    const bob = emulator.addUser({ id: 2002, first_name: 'Bob' });
    expect(await bob.openInviteLink(link.invite_link)).toBe('requested');
    const updates = await api.getUpdates({ timeout: 0 });
    const request = updates.find((u) => u.chat_join_request)?.chat_join_request;
    expect(request).toMatchObject({ user_chat_id: 2002, from: { id: 2002 }, chat: { id: CHANNEL } });
    expect(request?.invite_link?.invite_link).toBe(link.invite_link);
    expect(emulator.joinRequests(CHANNEL)).toEqual([expect.objectContaining({ user_id: 2002, status: 'pending' })]);

    await api.sendMessage(request!.user_chat_id, 'We are checking your payment');
    expect(bob.lastMessage()?.text).toBe('We are checking your payment');

    await api.approveChatJoinRequest(CHANNEL, 2002);
    expect(emulator.memberStatus(CHANNEL, 2002)).toBe('member');
    const after = await api.getUpdates({ offset: updates.at(-1)!.update_id + 1, timeout: 0 });
    const joined = after.find((u) => u.chat_member)?.chat_member;
    expect(joined).toMatchObject({
      old_chat_member: { status: 'left' },
      new_chat_member: { status: 'member', user: { id: 2002 } },
      invite_link: { invite_link: link.invite_link },
    });
    const again = await apiError(api.approveChatJoinRequest(CHANNEL, 2002));
    expect(again.description).toBe('Bad Request: HIDE_REQUESTER_MISSING');
    // The user_chat_id exception ends with the request: Bob never wrote to the bot.
    expect((await apiError(api.sendMessage(2002, 'hi'))).error_code).toBe(403);
  });

  it('enforces invite link rights and the member_limit/join request exclusivity', async () => {
    const { emulator, api } = await withChannel();
    const both = await apiError(api.createChatInviteLink(CHANNEL, { creates_join_request: true, member_limit: 1 }));
    expect(both.description).toBe(
      "Bad Request: member limit can't be specified for links requiring administrator approval",
    );
    emulator.setBotMember(CHANNEL, 'administrator', { can_invite_users: false });
    const rights = await apiError(api.createChatInviteLink(CHANNEL, { member_limit: 1 }));
    expect(rights.description).toBe('Bad Request: not enough rights to manage chat invite link');
    emulator.setBotMember(CHANNEL, 'left');
    const gone = await apiError(api.createChatInviteLink(CHANNEL, { member_limit: 1 }));
    expect([gone.error_code, gone.description]).toEqual([403, 'Forbidden: bot is not a member of the channel chat']);
  });

  it('counts member_limit against current members: a limit-1 link works again after the first joiner leaves', async () => {
    const { emulator, api } = await withChannel();
    const link = await api.createChatInviteLink(CHANNEL, { member_limit: 1 });
    const carol = emulator.addUser({ id: 3003, first_name: 'Carol' });
    const dave = emulator.addUser({ id: 4004, first_name: 'Dave' });
    expect(await carol.openInviteLink(link.invite_link)).toBe('joined');
    expect(await dave.openInviteLink(link.invite_link)).toBe('refused');
    await carol.leaveChat(CHANNEL);
    expect(await dave.openInviteLink(link.invite_link)).toBe('joined');
    expect(emulator.members(CHANNEL)).toEqual([500, 4004]);
    expect(emulator.inviteLinks(CHANNEL)[0]?.joined_user_ids).toEqual([3003, 4004]);
    // chat_member updates were not asked for (the default allowed_updates leave them out).
    expect(emulator.pendingUpdates().some((u) => 'chat_member' in u)).toBe(false);

    await api.revokeChatInviteLink(CHANNEL, link.invite_link);
    await dave.leaveChat(CHANNEL);
    expect(await dave.openInviteLink(link.invite_link)).toBe('refused');
  });

  it('bans and unbans; unban without only_if_banned removes a current member', async () => {
    const { emulator, api } = await setup();
    emulator.addChat({ id: GROUP, type: 'supergroup', title: 'Club' });
    emulator.setBotMember(GROUP, 'administrator', { can_restrict_members: false });
    emulator.addUser({ id: 5005, first_name: 'Erin' });
    emulator.addUser({ id: 6006, first_name: 'Frank' });
    emulator.setMember(GROUP, 5005, 'member');
    emulator.setMember(GROUP, 6006, 'member');
    const rights = await apiError(api.banChatMember(GROUP, 5005));
    expect(rights.description).toBe('Bad Request: not enough rights to restrict/unrestrict chat member');

    emulator.setBotMember(GROUP, 'administrator');
    await api.banChatMember(GROUP, 5005);
    expect(emulator.memberStatus(GROUP, 5005)).toBe('kicked');
    expect((await api.getChatMember(GROUP, 5005)).status).toBe('kicked');
    await api.unbanChatMember(GROUP, 5005, { only_if_banned: true });
    expect(emulator.memberStatus(GROUP, 5005)).toBe('left');

    await api.unbanChatMember(GROUP, 6006, { only_if_banned: true });
    expect(emulator.memberStatus(GROUP, 6006)).toBe('member');
    await api.unbanChatMember(GROUP, 6006);
    expect(emulator.memberStatus(GROUP, 6006)).toBe('left');
    expect(await api.getChatMemberCount(GROUP)).toBe(1); // the bot
  });
});

describe('Telegram emulator: faults and rate limits', () => {
  it('injects 429 with retry_after and 500, then recovers', async () => {
    const { emulator, api } = await setup();
    await emulator.addUser({ id: 1001, first_name: 'Alice' }).sendText('hi');
    emulator.injectFault({ method: 'sendMessage', fault: { status: 429, retryAfter: 7 } });
    emulator.injectFault({ method: 'sendMessage', fault: { status: 500 } });
    const limited = await apiError(api.sendMessage(1001, 'one'));
    expect([limited.error_code, limited.description, limited.parameters.retry_after]).toEqual([
      429,
      'Too Many Requests: retry after 7',
      7,
    ]);
    const broken = await apiError(api.sendMessage(1001, 'two'));
    expect([broken.error_code, broken.description]).toEqual([500, 'Internal Server Error']);
    await api.sendMessage(1001, 'three');
    expect(emulator.calls.filter((c) => c.method === 'sendMessage').map((c) => c.status)).toEqual([429, 500, 200]);
    expect(emulator.stats).toEqual({ tooManyRequests: 1, sent: 1 });
    expect(emulator.user(1001).messages().map((m) => m.text)).toEqual(['three']);
  });

  it('can apply a call and still lose the response (afterEffect + reset)', async () => {
    const { emulator, api } = await setup();
    await emulator.addUser({ id: 1001, first_name: 'Alice' }).sendText('hi');
    emulator.injectFault({ method: 'sendMessage', chatId: 1001, fault: { reset: true }, afterEffect: true });
    const error = await api.sendMessage(1001, 'sent, but the response was lost').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(emulator.user(1001).lastMessage()?.text).toBe('sent, but the response was lost');
  });

  it('enforces per-chat rate limits with a small burst when asked to', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const { emulator, api } = await setup({ enforceRateLimits: true, clock });
    await emulator.addUser({ id: 1001, first_name: 'Alice' }).sendText('hi');
    for (let i = 0; i < 3; i++) await api.sendMessage(1001, `burst ${i}`);
    const limited = await apiError(api.sendMessage(1001, 'too fast'));
    expect(limited.description).toBe('Too Many Requests: retry after 1');
    expect(limited.parameters.retry_after).toBe(1);
    expect(emulator.stats.tooManyRequests).toBe(1);
    clock.advance(1000);
    await api.sendMessage(1001, 'after waiting');
    expect(emulator.user(1001).lastMessage()?.date).toBe(Math.floor(clock.now() / 1000));
  });

  it('enforces lowered limits when given, and records the retry_after of each 429 in the call log', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const { emulator, api } = await setup({ enforceRateLimits: true, rateLimits: { globalPerSecond: 2 }, clock });
    for (const id of [1001, 1002, 1003]) await emulator.addUser({ id, first_name: 'User' }).sendText('hi');
    await api.sendMessage(1001, 'one');
    await api.sendMessage(1002, 'two');
    // The overall limit (2 a second here), not the chat's: a 429 with no hint of which.
    const limited = await apiError(api.sendMessage(1003, 'three'));
    expect([limited.error_code, limited.parameters.retry_after]).toEqual([429, 1]);
    emulator.injectFault({ method: 'sendMessage', fault: { status: 429, retryAfter: 5 } });
    await apiError(api.sendMessage(1003, 'injected'));
    expect(emulator.calls.filter((c) => c.method === 'sendMessage').map((c) => [c.status, c.retryAfter])).toEqual([
      [200, undefined],
      [200, undefined],
      [429, 1],
      [429, 5],
    ]);
    clock.advance(1000);
    await api.sendMessage(1003, 'three, later');
  });
});

describe('Telegram emulator: files and webhooks', () => {
  it('uploads a document by multipart and reuses its file_id', async () => {
    const { emulator, api } = await setup();
    await emulator.addUser({ id: 1001, first_name: 'Alice' }).sendText('/export');
    const bytes = Buffer.from('id,amount\n1,4900\n');
    const sent = await api.sendDocument(1001, new InputFile(bytes, 'members.csv'), {
      caption: '<b>Export</b>',
      parse_mode: 'HTML',
    });
    expect(sent.document).toMatchObject({ file_name: 'members.csv', mime_type: 'text/csv', file_size: bytes.length });
    expect(sent.caption).toBe('Export');
    expect(emulator.fileContent(sent.document.file_id)?.equals(bytes)).toBe(true);
    const upload = await emulator.waitForCall('sendDocument');
    expect(upload.params).toMatchObject({ chat_id: 1001, document: { upload: 'members.csv', size: bytes.length } });

    const again = await api.sendDocument(1001, sent.document.file_id);
    expect(again.document.file_id).toBe(sent.document.file_id);
    const unknown = await apiError(api.sendDocument(1001, 'no-such-file-id'));
    expect(unknown.description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
    expect(emulator.user(1001).messages().map((m) => m.document?.file_name)).toEqual(['members.csv', 'members.csv']);
  });

  it('POSTs updates to the webhook with the secret header and retries a failed delivery', async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: Update }> = [];
    let failuresLeft = 1;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Update });
        res.statusCode = failuresLeft-- > 0 ? 500 : 200;
        res.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    cleanups.push(() => new Promise((resolve) => receiver.close(resolve)));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/telegram`;

    const { emulator, api } = await setup({ webhookRetryBaseMs: 20 });
    await api.setWebhook(url, { secret_token: 'S3cret_token' });
    const conflict = await apiError(api.getUpdates());
    expect([conflict.error_code, conflict.description]).toEqual([
      409,
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    ]);

    await emulator.addUser({ id: 1001, first_name: 'Alice' }).sendText('hello');
    await expect.poll(() => received.length, { timeout: 2000, interval: 10 }).toBe(2);
    expect(received.map((r) => r.body.message?.text)).toEqual(['hello', 'hello']);
    expect(received[1]!.headers['x-telegram-bot-api-secret-token']).toBe('S3cret_token');
    await expect.poll(async () => (await api.getWebhookInfo()).pending_update_count).toBe(0);
    const info = await api.getWebhookInfo();
    expect(info).toMatchObject({ url, last_error_message: 'Wrong response from the webhook: 500 Internal Server Error' });

    await api.deleteWebhook();
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
  });
});

describe('Telegram emulator: bot settings and world events', () => {
  it('keeps commands per scope and language', async () => {
    const { api } = await setup();
    await api.setMyCommands([{ command: 'start', description: 'Start' }]);
    await api.setMyCommands([{ command: 'buy', description: 'Купить' }], { language_code: 'ru' });
    await api.setMyCommands([{ command: 'stats', description: 'Stats' }], { scope: { type: 'chat', chat_id: 1001 } });
    expect(await api.getMyCommands()).toEqual([{ command: 'start', description: 'Start' }]);
    expect(await api.getMyCommands({ language_code: 'ru' })).toEqual([{ command: 'buy', description: 'Купить' }]);
    expect(await api.getMyCommands({ scope: { type: 'chat', chat_id: 1001 } })).toHaveLength(1);
    await api.deleteMyCommands({ language_code: 'ru' });
    expect(await api.getMyCommands({ language_code: 'ru' })).toEqual([]);
    const invalid = await apiError(api.setMyCommands([{ command: 'Start', description: 'x' }]));
    expect(invalid.description).toBe('Bad Request: BOT_COMMAND_INVALID');
    await api.setMyDescription('Paid channel access');
    expect(await api.getMyDescription()).toEqual({ description: 'Paid channel access' });
    await api.setChatMenuButton({ menu_button: { type: 'commands' } });
  });

  it('reports the bot being promoted and users blocking it as my_chat_member', async () => {
    const { emulator, api } = await setup();
    emulator.addChat({ id: CHANNEL, type: 'channel', title: 'Premium' });
    emulator.setMember(CHANNEL, 500, 'creator');
    emulator.setBotMember(CHANNEL, 'administrator', { can_restrict_members: false });
    await emulator.addUser({ id: 1001, first_name: 'Alice' }).sendText('/start');
    emulator.blockBot(1001);
    const updates = await api.getUpdates({ timeout: 0 });
    const changes = updates.flatMap((u) => (u.my_chat_member ? [u.my_chat_member] : []));
    expect(changes).toMatchObject([
      {
        chat: { id: CHANNEL, type: 'channel' },
        from: { id: 500 },
        old_chat_member: { status: 'left' },
        new_chat_member: { status: 'administrator', can_invite_users: true, can_restrict_members: false },
      },
      { chat: { id: 1001, type: 'private' }, old_chat_member: { status: 'member' }, new_chat_member: { status: 'kicked' } },
    ]);
    const admins = await api.getChatAdministrators(CHANNEL);
    expect(admins.map((a) => a.status).sort()).toEqual(['administrator', 'creator']);
  });

  it('lets a hung call time out on the client and deletes only within 48 hours', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const { emulator, api } = await setup({ clock });
    await emulator.addUser({ id: 1001, first_name: 'Alice' }).sendText('hi');
    emulator.injectFault({ method: 'sendChatAction', fault: { hang: true } });
    // grammY types its signal with the abort-controller shim; Node's AbortSignal is what it uses at runtime.
    const signal = AbortSignal.timeout(100) as unknown as Parameters<Api['sendChatAction']>[3];
    const hung = await api.sendChatAction(1001, 'typing', undefined, signal).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(HttpError);
    expect(emulator.calls.at(-1)).toMatchObject({ method: 'sendChatAction', status: 0 });

    const old = await api.sendMessage(1001, 'old');
    await api.sendMessage(1001, 'fresh');
    clock.advance(48 * 3600 * 1000);
    const tooOld = await apiError(api.deleteMessage(1001, old.message_id));
    expect(tooOld.description).toBe("Bad Request: message can't be deleted for everyone");
    const sameSecond = await api.sendMessage(1001, 'new');
    await api.deleteMessage(1001, sameSecond.message_id);
    expect(emulator.user(1001).messages().map((m) => m.text)).toEqual(['old', 'fresh']);
    expect((await apiError(api.deleteMessage(1001, sameSecond.message_id))).description).toBe(
      'Bad Request: message to delete not found',
    );
  });
});

describe('Telegram emulator: waitForMessage semantics', () => {
  it('finds replies sent before the wait, ignores those before the last action, and sees edits', async () => {
    const { emulator, api } = await setup();
    const alice = emulator.addUser({ id: 1001, first_name: 'Alice' });
    await alice.sendText('/start');
    const first = await api.sendMessage(1001, 'Processing…');
    expect((await alice.waitForMessage()).text).toBe('Processing…'); // already there: still found
    expect(emulator.calls.at(-1)?.method).toBe('sendMessage');

    await alice.sendText('/status');
    const pending = alice.waitForMessage((m) => m.text === 'Done');
    await api.sendMessage(1001, 'Still working');
    await api.editMessageText(1001, first.message_id, 'Done'); // an edit of an older message counts
    const done = await pending;
    expect([done.message_id, done.text]).toEqual([first.message_id, 'Done']);
    // Same mark, same first match: without a new action the first event after it comes back again.
    expect((await alice.waitForMessage()).text).toBe('Still working');
  });
});
