import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock.js';
import type { InviteLinkRecord, ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, MAIN_CHAT, type Harness } from '../support/harness.js';
import { almaty, buyer, INVITE_LINK_CATALOG, startOffers, startsWith, type OffersHarness } from '../support/offers-helpers.js';
import { checkoutMonthly, createInvoicedOrder, eventually, messageJobs, sendEvent } from '../support/payments-helpers.js';

/*
 * settings.access_mode: invite_link — each paid channel gets a personal link for one person that
 * expires in 24 h and is revoked once used; someone else who gets in through it is removed.
 */

let o: OffersHarness;
let h: Harness;
let clock: ManualClock;
beforeEach(async () => {
  o = await startOffers(almaty('2027-03-10T12:00'), { catalog: INVITE_LINK_CATALOG });
  ({ h, clock } = o);
});
afterEach(async () => {
  await o.stop();
});

interface InviteRow {
  user_id: number;
  chat_id: number;
  link: string;
  job_id: number | null;
  used_at: number | null;
  revoked_at: number | null;
}
const inviteRows = (userId: number) => h.app.db.prepare<[number], InviteRow>('SELECT * FROM invite_links WHERE user_id = ? ORDER BY id').all(userId);
const emulatorLink = (link: string): InviteLinkRecord | undefined => h.tg.inviteLinks(MAIN_CHAT).find((l) => l.invite_link === link);
const linkIn = (text: string | undefined): string => {
  const match = /https:\/\/t\.me\/\+[\w-]+/.exec(text ?? '');
  if (!match) throw new Error(`no invite link in ${JSON.stringify(text)}`);
  return match[0];
};
const membershipOf = (userId: number) =>
  h.app.db.prepare<[number, number], { status: string }>('SELECT status FROM memberships WHERE chat_id = ? AND user_id = ?').get(MAIN_CHAT, userId)?.status;
const removalJobs = (userId: number) =>
  h.app.db
    .prepare<[], { payload: string }>("SELECT payload FROM outbox WHERE kind = 'remove_member'")
    .all()
    .filter((r) => (JSON.parse(r.payload) as { userId: number }).userId === userId);
/** ban/unban calls about `userId` since call index `from`, as [method, chat_id, only_if_banned]. */
const restrictCalls = (from: number, userId: number) =>
  h.tg.calls
    .slice(from)
    .filter((c) => (c.method === 'banChatMember' || c.method === 'unbanChatMember') && Number(c.params.user_id) === userId)
    .map((c) => [c.method, Number(c.params.chat_id), c.params.only_if_banned ?? null]);

/** Pays a monthly order for `user` by webhook and returns the personal link message. */
async function payAndGetLink(user: ScriptedUser) {
  const order = createInvoicedOrder(h.app, { userId: user.id });
  user.mark();
  const res = await sendEvent(h, order);
  expect(JSON.parse(res.body)).toEqual({ ok: true, outcome: 'granted' });
  const message = await user.waitForMessage(startsWith('Your personal link to Channel: '));
  return { order, message, link: linkIn(message.text) };
}

/** A one-person link that expires within 24 h of the manual clock and does not ask to join. */
function expectPersonalLink(record: InviteLinkRecord | undefined): void {
  const nowSec = Math.floor(clock.now() / 1000);
  expect(record).toMatchObject({ member_limit: 1, creates_join_request: false, is_revoked: false, is_primary: false });
  expect(record!.expire_date).toBeGreaterThan(nowSec);
  expect(record!.expire_date! - nowSec).toBeLessThanOrEqual(24 * 3600);
}

describe('invite_link mode: the customer who paid', () => {
  it('gets a one-person link valid for at most 24 h and named after the order, joins with it, and the link is revoked', async () => {
    const { user, externalId } = await checkoutMonthly(h, 201);
    user.mark();
    const res = await h.aipay.pay(externalId);
    expect(JSON.parse(res.body)).toEqual({ ok: true, outcome: 'granted' });

    const message = await user.waitForMessage(startsWith('Your personal link to Channel: '));
    const links = h.tg.inviteLinks(MAIN_CHAT).filter((l) => !l.is_primary);
    expect(links).toHaveLength(1);
    const link = links[0]!;
    expect(message.text).toBe(`Your personal link to Channel: ${link.invite_link}`);
    expect(link.invite_link).toMatch(/^https:\/\/t\.me\/\+/);
    expectPersonalLink(link);
    expect(link.expire_date).toBe(Math.floor(clock.now() / 1000) + 24 * 3600);
    expect(link.name).toContain(externalId);
    expect(inviteRows(201)).toEqual([expect.objectContaining({ chat_id: MAIN_CHAT, link: link.invite_link, used_at: null, revoked_at: null })]);

    expect(await user.openInviteLink(link.invite_link)).toBe('joined');
    expect(h.tg.memberStatus(MAIN_CHAT, 201)).toBe('member');
    await eventually(() => emulatorLink(link.invite_link)?.is_revoked, 5000, 'the used link revoked in Telegram');
    await eventually(() => inviteRows(201)[0]?.revoked_at !== null, 5000, 'invite_links.revoked_at set');
    expect(inviteRows(201)[0]).toMatchObject({ used_at: clock.now(), revoked_at: clock.now() });

    await o.settle();
    expect(h.tg.memberStatus(MAIN_CHAT, 201)).toBe('member');
    expect(membershipOf(201)).toBe('member');
    expect(removalJobs(201)).toEqual([]);
    expect(user.messages().filter(startsWith('Someone else used your link'))).toEqual([]);
    // Revoked: a friend given the link later cannot get in with it.
    const friend = h.tg.addUser({ id: 202, first_name: 'Friend', language_code: 'en' });
    expect(await friend.openInviteLink(link.invite_link)).toBe('refused');
    expect(h.tg.memberStatus(MAIN_CHAT, 202)).toBe('left');
  });
});

describe('invite_link mode: a link used by someone else first', () => {
  it('removes the stranger (ban, then unban only_if_banned), tells them why, and sends the customer a fresh link that works', async () => {
    const owner = await buyer(h, 211, 'Owner');
    const stranger = await buyer(h, 212, 'Stranger');
    const { link: first } = await payAndGetLink(owner);
    owner.mark();
    stranger.mark();
    const callsBefore = h.tg.calls.length;

    // Telegram lets the stranger in (the link has room for one) …
    expect(await stranger.openInviteLink(first)).toBe('joined');
    // … and the bot takes them out again and explains.
    const told = await stranger.waitForMessage(startsWith('That link was made for another customer'));
    expect(told.text).toMatch(/^That link was made for another customer, so you were removed from .+\. Buy your own access with \/start\.$/);
    await eventually(() => h.tg.memberStatus(MAIN_CHAT, 212) === 'left', 5000, 'the stranger removed');
    await eventually(() => restrictCalls(callsBefore, 212).length === 2, 5000, 'ban and unban calls');
    expect(restrictCalls(callsBefore, 212)).toEqual([
      ['banChatMember', MAIN_CHAT, null],
      ['unbanChatMember', MAIN_CHAT, true],
    ]);

    // The customer gets a different link, for one person again, and it works for them.
    const fresh = await owner.waitForMessage(startsWith('Someone else used your link'));
    const second = linkIn(fresh.text);
    expect(second).not.toBe(first);
    expect(fresh.text).toBe(`Someone else used your link to Channel. Here is a fresh one: ${second}`);
    expectPersonalLink(emulatorLink(second));
    await eventually(() => emulatorLink(first)?.is_revoked, 5000, 'the misused link revoked');
    expect(await owner.openInviteLink(second)).toBe('joined');
    await eventually(() => emulatorLink(second)?.is_revoked, 5000, 'the fresh link revoked after use');
    await o.settle();

    expect(h.tg.memberStatus(MAIN_CHAT, 211)).toBe('member');
    expect(h.tg.memberStatus(MAIN_CHAT, 212)).toBe('left');
    expect(membershipOf(212)).toBe('left');
    expect(removalJobs(211)).toEqual([]);
    expect(inviteRows(211)).toEqual([
      expect.objectContaining({ link: first, used_at: clock.now(), revoked_at: clock.now() }),
      expect.objectContaining({ link: second, used_at: clock.now(), revoked_at: clock.now() }),
    ]);
    // Not banned for good: the stranger may still buy their own access later. The old link stays shut.
    expect(h.tg.memberStatus(MAIN_CHAT, 212)).not.toBe('kicked');
    expect(await stranger.openInviteLink(first)).toBe('refused');
    // One warning and one fresh link, not more.
    expect(stranger.messages().filter(startsWith('That link was made'))).toHaveLength(1);
    expect(owner.messages().filter(startsWith('Someone else used your link'))).toHaveLength(1);
  });

  it('removes a stranger who never wrote to the bot as well, and still sends the customer a fresh link', async () => {
    const owner = await buyer(h, 231, 'Owner');
    const { link } = await payAndGetLink(owner);
    const stranger = h.tg.addUser({ id: 232, first_name: 'Lurker', language_code: 'en' });
    owner.mark();
    expect(await stranger.openInviteLink(link)).toBe('joined');
    await eventually(() => h.tg.memberStatus(MAIN_CHAT, 232) === 'left', 5000, 'the stranger removed');
    const fresh = await owner.waitForMessage(startsWith('Someone else used your link'));
    expect(linkIn(fresh.text)).not.toBe(link);
  });

  // BUG (src/access/membership.ts, onJoinedByLink + src/outbox/worker.ts): `link_not_yours` is a
  // plain message job; to someone who never wrote to the bot Telegram answers 403 "bot can't
  // initiate conversation", so the job goes to `attention` and every admin gets "⚠️ Could not do a
  // message to …  needs attention" for an expected, harmless case. Fix: treat a 403 on that
  // message as done (as decline_join_request already does for its own notice).
  it('does not alert the admins when the stranger cannot be told (never wrote to the bot)', async () => {
    const owner = await buyer(h, 261, 'Owner');
    const { link } = await payAndGetLink(owner);
    const stranger = h.tg.addUser({ id: 262, first_name: 'Lurker', language_code: 'en' });
    expect(await stranger.openInviteLink(link)).toBe('joined');
    await eventually(() => h.tg.memberStatus(MAIN_CHAT, 262) === 'left', 5000, 'the stranger removed');
    await o.settle();
    expect(messageJobs(h.app, ADMIN_ID, /Could not do/)).toEqual([]);
  });

  // BUG (src/access/membership.ts, onJoinedByLink): the channel title in `link_not_yours` is
  // localized in the catalog's default language (ru), not the joiner's, so an English stranger
  // reads "…removed from Канал." Fix: localize(channel.title, joinerLang, defaultLanguage).
  it('tells the stranger in their own language, the channel title included', async () => {
    const owner = await buyer(h, 241, 'Owner');
    const stranger = await buyer(h, 242, 'Stranger');
    const { link } = await payAndGetLink(owner);
    stranger.mark();
    await stranger.openInviteLink(link);
    const told = await stranger.waitForMessage(startsWith('That link was made for another customer'));
    expect(told.text).toBe('That link was made for another customer, so you were removed from Channel. Buy your own access with /start.');
  });
});

describe('invite_link mode: a stranger with access of their own', () => {
  it('is not removed when they come in through someone else’s link', async () => {
    const owner = await buyer(h, 221, 'Owner');
    const subscriber = await buyer(h, 222, 'Subscriber');
    const { link } = await payAndGetLink(owner);
    await payAndGetLink(subscriber);
    subscriber.mark();

    expect(await subscriber.openInviteLink(link)).toBe('joined');
    await eventually(() => emulatorLink(link)?.is_revoked, 5000, 'the used link revoked');
    await o.settle();

    expect(h.tg.memberStatus(MAIN_CHAT, 222)).toBe('member');
    expect(membershipOf(222)).toBe('member');
    expect(removalJobs(222)).toEqual([]);
    expect(subscriber.messages().filter(startsWith('That link was made'))).toEqual([]);
  });

  // BUG (src/access/membership.ts, onJoinedByLink): when the joiner is entitled on their own, the
  // function returns right after enqueueing revoke_link, so the owner's only link is consumed and
  // revoked and the owner — who paid and never joined — gets no fresh link and has no way in.
  // Fix: issue the fresh link (enqueueChannelAccess … 'link_misused') whenever joiner !== owner,
  // and skip only the removal and the `link_not_yours` message when the joiner is entitled.
  it('still sends the customer whose link was used a fresh one', async () => {
    const owner = await buyer(h, 251, 'Owner');
    const subscriber = await buyer(h, 252, 'Subscriber');
    const { link } = await payAndGetLink(owner);
    await payAndGetLink(subscriber);
    owner.mark();
    await subscriber.openInviteLink(link);
    await eventually(() => emulatorLink(link)?.is_revoked, 5000, 'the used link revoked');
    await o.settle();
    const fresh = owner.messages().filter(startsWith('Someone else used your link'));
    expect(fresh).toHaveLength(1);
    expect(await owner.openInviteLink(linkIn(fresh[0]!.text))).toBe('joined');
  });
});
