import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/outbox/jobs.js';
import type { ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, MAIN_CHAT, startHarness, type Harness } from '../support/harness.js';
import { createInvoicedOrder, eventually, makeJobsDue, messageJobs, sendEvent, startCustomer, tables, type OutboxRow } from '../support/payments-helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

const t = () => tables(h.app);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const callsOf = (method: string, chatId?: number) => h.tg.calls.filter((c) => c.method === method && (chatId === undefined || Number(c.params.chat_id) === chatId));
const jobWhere = (state: string | string[], id: number) =>
  eventually(() => {
    const row = t().job(id);
    return row && ([] as string[]).concat(state).includes(row.state) ? row : undefined;
  }, 5000, `job ${id} in state ${String(state)}`);

/** Pays a monthly order for a customer who has started the bot; returns the receipt and grant job rows. */
async function payMonthly(userId: number): Promise<{ receipt: OutboxRow; grant: OutboxRow }> {
  const order = createInvoicedOrder(h.app, { userId });
  const res = await sendEvent(h, order);
  expect(JSON.parse(res.body)).toEqual({ ok: true, outcome: 'granted' });
  const receipt = t().jobsByKey(`receipt:${order.id}`)[0]!;
  const grant = t().jobsByKey(`grant:${order.id}:${MAIN_CHAT}`)[0]!;
  expect(receipt).toBeDefined();
  expect(grant).toBeDefined();
  return { receipt, grant };
}

/** Unhandled rejections caught while `fn` runs, so a product crash is asserted instead of failing the run. */
async function catchingUnhandled(fn: (caught: unknown[]) => Promise<void>): Promise<void> {
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const caught: unknown[] = [];
  const onRejection = (reason: unknown) => caught.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await fn(caught);
  } finally {
    await sleep(50);
    process.off('unhandledRejection', onRejection);
    for (const l of saved) process.on('unhandledRejection', l);
  }
}

function enqueue(job: Job): number {
  const id = h.app.outbox.enqueue(job);
  if (id === undefined) throw new Error('not enqueued');
  return id;
}

describe('the outbox worker and Telegram errors', () => {
  it('waits retry_after after a 429 on sendMessage, then delivers the message once', async () => {
    const user = await startCustomer(h, 201);
    h.tg.injectFault({ method: 'sendMessage', chatId: 201, fault: { status: 429, retryAfter: 1 } });
    user.mark();
    const id = enqueue({ kind: 'message', chatId: 201, userId: 201, text: 'Hello <b>again</b>' });
    const message = await user.waitForMessage((m) => m.text === 'Hello again');
    expect(message.entities).toEqual([{ type: 'bold', offset: 6, length: 5 }]);
    const calls = callsOf('sendMessage', 201).filter((c) => c.params.text === 'Hello <b>again</b>');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
    const row = await jobWhere('done', id);
    expect(row.attempts).toBe(1); // Telegram said when: a 429 is not a failed attempt
    await sleep(150);
    expect(user.messages().filter((m) => m.text === 'Hello again')).toHaveLength(1);
  });

  it('marks a grant needing attention and alerts the admin when Telegram refuses to create the invite link', async () => {
    const user = await startCustomer(h, 202);
    h.tg.injectFault({ method: 'createChatInviteLink', fault: { status: 400, description: 'Bad Request: not enough rights to manage chat invite links' } });
    const admin = h.tg.user(ADMIN_ID);
    admin.mark();
    user.mark();
    const { grant } = await payMonthly(202);
    const row = await jobWhere('attention', grant.id);
    expect(row.last_error).toBe('400: Bad Request: not enough rights to manage chat invite links');
    expect(row.attempts).toBe(1);
    const alert = await admin.waitForMessage((m) => m.text?.includes(`Job #${grant.id}`) ?? false);
    expect(alert.text).toBe(
      `⚠️ Could not do grant_access for user 202 in chat ${MAIN_CHAT}: 400: Bad Request: not enough rights to manage chat invite links. Job #${grant.id} needs attention.`,
    );
    // The receipt still reaches the customer; no link was made.
    await user.waitForMessage((m) => m.text?.startsWith('Payment received') ?? false);
    expect(h.tg.inviteLinks(MAIN_CHAT).filter((l) => !l.is_primary)).toEqual([]);
    expect(t().inviteLinks(202)).toEqual([]);
  });

  // Regression test, fixed (src/outbox/worker.ts:223-225, #failed): the backoff is `… * (0.5 + Math.random())`,
  // a fraction, so `now + backoff` is a REAL and the STRICT outbox.run_after INTEGER column rejects
  // it (SQLITE_CONSTRAINT_DATATYPE). #failed throws, #perform rejects unhandled (Node 20 exits on
  // an unhandled rejection), and the job stays 'running' until its 60 s lease runs out instead of
  // being scheduled for retry. Fix: Math.round(now + backoff).
  it('retries a message after a 500 with backoff, and delivers it once', async () => {
    const user = await startCustomer(h, 203);
    await catchingUnhandled(async (caught) => {
      h.tg.injectFault({ method: 'sendMessage', chatId: 203, fault: { status: 500 } });
      const before = Date.now();
      const id = enqueue({ kind: 'message', chatId: 203, userId: 203, text: 'After a hiccup' });
      {
        const failed = await eventually(() => {
          const r = t().job(id);
          return r && r.state === 'pending' && r.attempts === 1 ? r : undefined;
        }, undefined, 'a scheduled retry');
        const seen = Date.now();
        expect(failed.last_error).toBe('500: Internal Server Error');
        // 30 s × (0.5…1.5) for the first retry, from the failure, which came between `before` and `seen`.
        expect(failed.run_after - before).toBeGreaterThanOrEqual(15_000);
        expect(failed.run_after - seen).toBeLessThanOrEqual(45_000);
        user.mark();
        makeJobsDue(h.app);
        await user.waitForMessage((m) => m.text === 'After a hiccup');
        const done = await jobWhere('done', id);
        expect(done.attempts).toBe(2);
        expect(callsOf('sendMessage', 203).filter((c) => c.params.text === 'After a hiccup').map((c) => c.status)).toEqual([500, 200]);
        expect(user.messages().filter((m) => m.text === 'After a hiccup')).toHaveLength(1);
      }
      expect(caught).toEqual([]);
    });
  });

  // Regression test (fixed): same as above (worker.ts:225), for a network error (connection reset) instead of a 5xx.
  it('retries a grant whose link message lost its connection, with the link it already made', async () => {
    const user = await startCustomer(h, 206);
    await catchingUnhandled(async (caught) => {
      const id = enqueue({ kind: 'grant_access', userId: 206, chatId: MAIN_CHAT, channelTitle: 'Channel', text: 'Your link: {link}', mode: 'join_request', linkName: 'reset test' });
      h.tg.injectFault({ method: 'sendMessage', chatId: 206, fault: { reset: true } });
      {
        const pending = await eventually(() => {
          const r = t().job(id);
          return r && r.state === 'pending' && r.attempts === 1 ? r : undefined;
        }, undefined, 'a scheduled retry');
        expect(pending.last_error).toBeTruthy();
        user.mark();
        makeJobsDue(h.app);
        const message = await user.waitForMessage((m) => m.text?.startsWith('Your link:') ?? false);
        expect(message.text).toBe(`Your link: ${t().inviteLinks(206)[0]!.link}`);
        expect(callsOf('createChatInviteLink')).toHaveLength(1);
      }
      expect(caught).toEqual([]);
    });
  });

  it('gives up after the last transient attempt: attention and an admin alert', async () => {
    await startCustomer(h, 204);
    h.tg.injectFault({ method: 'sendMessage', chatId: 204, fault: { status: 500 } });
    const id = enqueue({ kind: 'message', chatId: 204, userId: 204, text: 'Never arrives' });
    // Eleven attempts already failed (the default maximum is 12); runs before the worker's wake-up.
    h.app.db.prepare('UPDATE outbox SET attempts = 11 WHERE id = ?').run(id);
    const row = await jobWhere('attention', id);
    expect(row.attempts).toBe(12);
    expect(row.last_error).toBe('500: Internal Server Error');
    expect(messageJobs(h.app, ADMIN_ID, new RegExp(`Job #${id} needs attention`))).toHaveLength(1);
  });

  it('does not alert about a failed alert: an admin message that fails only needs attention', async () => {
    // Start-up notices to the admin first, so the fault hits the message under test.
    await eventually(() => (h.app.db.prepare("SELECT count(*) FROM outbox WHERE chat_id = ? AND state IN ('pending', 'running')").pluck().get(ADMIN_ID) as number) === 0, undefined, 'admin queue idle');
    h.tg.injectFault({ method: 'sendMessage', chatId: ADMIN_ID, fault: { status: 400, description: 'Bad Request: chat not found' } });
    const id = enqueue({ kind: 'message', chatId: ADMIN_ID, text: 'An alert' });
    const row = await jobWhere('attention', id);
    expect(row.last_error).toBe('400: Bad Request: chat not found');
    await sleep(150);
    expect(t().outbox().filter((r) => r.dedupe_key?.startsWith('attention:'))).toEqual([]);
  });

  it('marks jobs for a customer who blocked the bot as needing attention and flags the customer blocked', async () => {
    await startCustomer(h, 205);
    h.tg.blockBot(205);
    // The my_chat_member update flags them too; once it has, clear the flag to see the worker set it
    // (an update can be missed, e.g. while the bot was down).
    const blocked = () => h.app.db.prepare('SELECT blocked FROM customers WHERE user_id = 205').pluck().get();
    await eventually(() => blocked() === 1, 1000, 'the my_chat_member update handled').catch(() => undefined);
    h.app.db.prepare('UPDATE customers SET blocked = 0 WHERE user_id = 205').run();
    const firstCall = h.tg.calls.length;
    const { receipt, grant } = await payMonthly(205);
    const receiptRow = await jobWhere('attention', receipt.id);
    const grantRow = await jobWhere('attention', grant.id);
    expect(receiptRow.last_error).toBe('403: Forbidden: bot was blocked by the user');
    expect(grantRow.last_error).toBe('403: Forbidden: bot was blocked by the user');
    expect(blocked()).toBe(1);
    const sends = h.tg.calls.slice(firstCall).filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === 205);
    expect(sends.map((c) => c.status)).toEqual([403, 403]);
    expect(messageJobs(h.app, ADMIN_ID, new RegExp(`Job #${receipt.id} needs attention`))).toHaveLength(1);
  });
});

describe('the outbox worker pacing', () => {
  // Regression test, fixed (src/outbox/worker.ts #startDue with src/outbox/throttle.ts; chat_id stored by
  // src/outbox/outbox.ts enqueue): a grant_access job is throttled by its job.chatId — the CHANNEL —
  // although its only message goes to job.userId. So every grant (and every approve/decline) for one
  // channel waits a second after the previous one: at a launch, the 100th buyer gets their link
  // ~100 s after paying, while the per-customer chat is not protected at all (the receipt and the
  // link go back to back). Fix: store/throttle grant_access and decline_join_request by the chat
  // that is messaged (userId), and do not apply the per-chat message limit to non-message calls.
  it('delivers the links of customers who paid at the same moment without one-per-second queueing per channel', async () => {
    const ids = [231, 232, 233, 234, 235, 236, 237, 238, 239, 240];
    const users: ScriptedUser[] = [];
    for (const id of ids) users.push(await startCustomer(h, id));
    for (const id of ids) await sendEvent(h, createInvoicedOrder(h.app, { userId: id }));
    // Queued one per second per channel, the tenth link would take 9 s; 5 s leaves a loaded machine room.
    await eventually(() => users.every((u) => u.messages().some((m) => m.text?.startsWith('Tap to join'))), 5000, 'every link delivered within 5 s');
  });
});

describe('the outbox worker after a crash', () => {
  /**
   * Runs the grant until the link exists and the message to the customer was refused (a long 429
   * holds the job there), then leaves the row as a kill -9 would: claimed ('running'), lease over.
   */
  async function crashAfterLink(grantId: number, userId: number, progress?: string): Promise<string> {
    const row = await eventually(() => {
      const r = t().job(grantId);
      return r && r.state === 'pending' && /^(429|500)/.test(r.last_error ?? '') ? r : undefined;
    }, 5000, 'the link message refused');
    const links = t().inviteLinks(userId);
    expect(links).toHaveLength(1);
    expect(JSON.parse(row.progress)).toMatchObject({ link: links[0]!.link });
    h.app.db
      .prepare("UPDATE outbox SET state = 'running', lease_until = ?, progress = coalesce(?, progress) WHERE id = ?")
      .run(Date.now() - 1, progress ?? null, grantId);
    return links[0]!.link;
  }

  it('reuses the link it already created when the app died before the message carrying it was sent', async () => {
    const user = await startCustomer(h, 210);
    // Both messages to the customer (the receipt and the link) fail with a 500: the link message is
    // rescheduled with backoff after its link was made. (A 429 would hold the whole chat, link included.)
    h.tg.injectFault({ method: 'sendMessage', chatId: 210, times: 2, fault: { status: 500 } });
    const { grant } = await payMonthly(210);
    const link = await crashAfterLink(grant.id, 210);
    expect(h.tg.inviteLinks(MAIN_CHAT).filter((l) => !l.is_primary).map((l) => l.invite_link)).toEqual([link]);

    await h.restart();
    user.mark();
    makeJobsDue(h.app);
    const message = await user.waitForMessage((m) => m.text?.startsWith('Tap to join') ?? false, 5000);
    expect(message.text).toContain(link);
    await jobWhere('done', grant.id);
    expect(callsOf('createChatInviteLink')).toHaveLength(1);
    expect(h.tg.inviteLinks(MAIN_CHAT).filter((l) => !l.is_primary)).toHaveLength(1);
    expect(t().inviteLinks(210)).toEqual([expect.objectContaining({ link, job_id: grant.id })]);
    expect(user.messages().filter((m) => m.text?.startsWith('Tap to join'))).toHaveLength(1);
  });

  it('reuses the stored link when the app died after recording it but before saving the job progress', async () => {
    const user = await startCustomer(h, 211);
    // A 500 leaves the job pending with its link recorded (a 429 is waited out inside the send pace instead).
    h.tg.injectFault({ method: 'sendMessage', chatId: 211, fault: { status: 500 } });
    const id = enqueue({ kind: 'grant_access', userId: 211, chatId: MAIN_CHAT, channelTitle: 'Channel', text: 'Your link: {link}', mode: 'join_request', linkName: 'crash test' });
    // The state a kill -9 between the INSERT into invite_links and the progress update leaves behind.
    const link = await crashAfterLink(id, 211, '{"unbanned":true}');
    await h.restart();
    user.mark();
    makeJobsDue(h.app);
    const message = await user.waitForMessage((m) => m.text?.startsWith('Your link:') ?? false);
    expect(message.text).toBe(`Your link: ${link}`);
    await jobWhere('done', id);
    expect(callsOf('createChatInviteLink')).toHaveLength(1);
    expect(t().inviteLinks(211)).toHaveLength(1);
  });
});

describe('the outbox worker and a locked database', () => {
  // Regression test, fixed (src/outbox/worker.ts, #startDue → this.#claim.get(...)): when a job is due while
  // another connection holds the write lock longer than the busy timeout, the claim throws
  // SQLITE_BUSY out of #startDue, #run() rejects (an unhandled rejection) and the worker's loop is
  // gone for good: nothing in the outbox is sent again until the process restarts.
  it('keeps delivering after the database was locked longer than the busy timeout', async () => {
    const user = await startCustomer(h, 220);
    await catchingUnhandled(async (caught) => {
      const before = enqueue({ kind: 'message', chatId: 220, userId: 220, text: 'Before' });
      await user.waitForMessage((m) => m.text === 'Before');
      await jobWhere('done', before); // nothing in flight when the lock is taken
      const other = new Database(h.databasePath);
      try {
        h.app.outbox.enqueue({ kind: 'message', chatId: 220, userId: 220, text: 'Due during the lock' }, { runAfter: Date.now() + 150 });
        other.exec('BEGIN IMMEDIATE');
        await sleep(1800); // the worker tries to claim the job during the lock (and blocks the event loop 1.5 s)
      } finally {
        if (other.inTransaction) other.exec('ROLLBACK');
        other.close();
      }
      user.mark();
      enqueue({ kind: 'message', chatId: 220, userId: 220, text: 'After the lock' });
      await user.waitForMessage((m) => m.text === 'After the lock');
      expect(caught).toEqual([]);
    });
  });
});
