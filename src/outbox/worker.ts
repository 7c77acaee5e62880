import { statSync } from 'node:fs';
import { prepared } from '../storage/prepared.js';
import { basename } from 'node:path';
import { GrammyError, HttpError, InputFile, type Api } from 'grammy';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../storage/open-database.js';
import type { Job } from './jobs.js';
import { escapeHtml } from '../bot/html.js';
import { DatabaseBusy, toStoreError } from '../storage/errors.js';
import { whenUnlocked } from '../storage/when-unlocked.js';
import { sendScope } from '../telegram/paced-api.js';
import { isSendCancelled, type SendClass } from '../telegram/send-pace.js';

export interface OutboxWorkerOptions {
  db: Db;
  /** A Bot API client without auto-retry: the worker does its own retries. */
  api: Api;
  clock: Clock;
  log: Logger;
  /** Admin ids to alert when a job needs attention (read per alert: the catalog can change). */
  admins: () => readonly number[];
  /** Jobs in flight at once (default: 8). */
  concurrency?: number;
  /** How long a claimed job is ours before another worker may take it over (default: 60 000 ms). */
  leaseMs?: number;
  /** Idle poll interval; enqueue-side code calls `wake()` for instant pick-up (default: 1 000 ms). */
  pollMs?: number;
  /** Transient failures before a job needs attention (default: 12, about 2 h of backoff). */
  maxAttempts?: number;
  /**
   * Real time for pacing against Telegram (rate limits, retry_after), kept apart from `clock`, the
   * product's time, which tests and the playground move by hand. (default: systemClock)
   */
  realClock?: Clock;
  /**
   * Whether the user may be in the chat right now (a renewal paid after a removal was queued):
   * such a removal is dropped, and a grant does not take "already a member" for done while a
   * removal is pending. (default: never)
   */
  isEntitled?: (userId: number, chatId: number) => boolean;
}

interface Row {
  id: number;
  kind: string;
  payload: string;
  chat_id: number | null;
  attempts: number;
  progress: string;
  send_class: SendClass;
  batch: string | null;
}

type Progress = Record<string, unknown>;

/** A failure that retrying will not fix: the job needs a human. */
class NeedsAttention extends Error {}

/**
 * Performs outbox jobs: claims each with a lease (a crash or `kill -9` lets it be taken again),
 * records every side effect's result in the job's progress before the next one (so a resumed job
 * never creates a second link), and retries: 429 after `retry_after`, 5xx and network errors with
 * exponential backoff and jitter, 400/403 marked `attention` with an admin alert.
 *
 * A database locked by another process never blocks the event loop: claiming waits for the next
 * look, and what a job did (progress, outcome, a created link) is written with whenUnlocked,
 * waiting up to half the lease, so a finished job is not performed again.
 */
export class OutboxWorker {
  readonly #o: Required<Omit<OutboxWorkerOptions, 'realClock'>> & { realClock: Clock };
  #running = false;
  #inFlight = new Set<Promise<void>>();
  #accessInFlight = 0;
  /** Chat and batch of the batched messages being sent ("chatId:batch"). */
  readonly #batchesInFlight = new Set<string>();
  /** Ids of the jobs this worker is performing: a slow one whose lease ran out is not taken twice. */
  readonly #performing = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #wakeResolve: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Aborted by stop(): writes waiting for a locked database give up (the lease covers the job). */
  #stopping = new AbortController();
  /** The queue could not be claimed because the database was locked (logged once). */
  #locked = false;
  readonly #claim;
  readonly #finish;
  readonly #finishBatched;
  readonly #retry;
  readonly #saveProgress;

  #removalPending(userId: number, chatId: number): boolean {
    return (
      prepared(
        this.#o.db,
        `SELECT 1 FROM outbox WHERE kind = 'remove_member' AND state IN ('pending', 'running')
         AND json_extract(payload, '$.userId') = ? AND json_extract(payload, '$.chatId') = ?`,
      ).get(userId, chatId) !== undefined
    );
  }

  constructor(options: OutboxWorkerOptions) {
    this.#o = {
      concurrency: 8,
      leaseMs: 60_000,
      pollMs: 1000,
      maxAttempts: 12,
      isEntitled: () => false,
      realClock: systemClock,
      ...options,
    };
    const { db } = this.#o;
    this.#claim = prepared<[number, number, number, number], Row>(db, `
      UPDATE outbox SET state = 'running', lease_until = ?, attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND (state = 'pending' OR (state = 'running' AND lease_until < ?))
      RETURNING id, kind, payload, chat_id, attempts, progress, send_class, batch`);
    this.#finish = prepared(db, 'UPDATE outbox SET state = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?');
    this.#finishBatched = prepared(db, "UPDATE outbox SET state = 'done', last_error = ?, updated_at = ? WHERE id = ? AND state = 'pending'");
    this.#retry = prepared(db, "UPDATE outbox SET state = 'pending', run_after = ?, last_error = ?, lease_until = NULL, attempts = ?, updated_at = ? WHERE id = ?");
    this.#saveProgress = prepared(db, 'UPDATE outbox SET progress = ?, updated_at = ? WHERE id = ?');
  }

  /**
   * Starts working. Jobs left `running` by a previous process (a crash, `kill -9`) are taken back at
   * once: the bot runs as one process, so a running job at start-up has no other owner.
   */
  start(): void {
    if (this.#running) return;
    this.#stopping = new AbortController();
    try {
      const recovered = prepared(this.#o.db, "UPDATE outbox SET state = 'pending', lease_until = NULL WHERE state = 'running'").run().changes;
      if (recovered > 0) this.#o.log.warn({ recovered }, 'outbox jobs interrupted by the last stop are resumed');
    } catch (error) {
      if (!(toStoreError(error) instanceof DatabaseBusy)) throw error;
      // Not now: those jobs are taken over when their leases run out.
      this.#o.log.warn('the database is locked by another process: interrupted outbox jobs resume when their leases run out');
    }
    this.#running = true;
    this.#loop = this.#run();
  }

  /** New jobs were enqueued: look now instead of at the next poll. */
  wake(): void {
    this.#wakeResolve?.();
  }

  /** Stops claiming and waits for the jobs in flight (their leases keep them safe if we are killed). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping.abort();
    this.wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Resolves when no job is due (by the product clock) or running: every due job was performed or
   * rescheduled. For tests and the playground. Gives up after `timeoutMs` of real time.
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    const until = this.#o.realClock.now() + timeoutMs;
    const due = prepared(this.#o.db, "SELECT count(*) FROM outbox WHERE (state = 'pending' AND run_after <= ?) OR state = 'running'").pluck();
    while (this.#o.realClock.now() < until) {
      this.#startDue();
      if (this.#inFlight.size === 0 && (due.get(this.#o.clock.now()) as number) === 0) return;
      await Promise.race([...this.#inFlight, new Promise((r) => setTimeout(r, 20))]);
    }
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let delay = this.#o.pollMs;
      try {
        this.#startDue();
        if (this.#locked) {
          this.#locked = false;
          this.#o.log.info('the database is free again: the outbox resumes');
        }
        delay = this.#nextWakeDelay();
      } catch (error) {
        if (toStoreError(error) instanceof DatabaseBusy) {
          // Another process holds the write lock: look again soon (a look costs only the
          // few-millisecond busy timeout), and say so once, not at every look.
          if (!this.#locked) this.#o.log.warn('the database is locked by another process: the outbox waits for it');
          this.#locked = true;
          await this.#sleep(Math.min(this.#o.pollMs, 250));
          continue;
        }
        // A locked or failing database must not end the loop: wait a while and look again (a busy
        // wait blocks the whole process, so not every few milliseconds).
        this.#o.log.error({ err: error }, 'outbox worker could not read its queue; retrying');
        delay = Math.max(this.#o.pollMs, 2000);
      }
      await (this.#inFlight.size >= 2 * this.#o.concurrency ? Promise.race([...this.#inFlight]) : this.#sleep(delay));
    }
  }

  #nextWakeDelay(): number {
    const now = this.#o.clock.now();
    const next = prepared(this.#o.db, "SELECT min(run_after) FROM outbox WHERE state = 'pending'").pluck().get() as number | null;
    const due = next === null ? this.#o.pollMs : Math.max(50, next - now);
    return Math.min(due, this.#o.pollMs);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#timer = setTimeout(resolve, ms);
      this.#wakeResolve = () => {
        clearTimeout(this.#timer);
        resolve();
      };
    });
  }

  /**
   * Claims and starts as many due jobs as the concurrency allows (Telegram's pace is kept by the
   * Api's SendPace, which each job waits its turn in). Returns whether any started.
   */
  #startDue(): { started: boolean } {
    const { db, clock } = this.#o;
    const now = clock.now();
    let started = false;
    const full = (cls: SendClass) => (cls === 'access' ? this.#accessInFlight : this.#inFlight.size - this.#accessInFlight) >= this.#o.concurrency;
    if (full('access') && full('admin')) return { started };
    // The send pace orders messages by class; here, jobs of a class go in the order they are due.
    // Access jobs have slots of their own: other jobs waiting their turn never hold a customer's link back.
    const candidates = prepared<[number, number], { id: number; chat_id: number | null; send_class: SendClass; batch: string | null }>(db, 
        `SELECT id, chat_id, send_class, batch FROM outbox
         WHERE (state = 'pending' AND run_after <= ?) OR (state = 'running' AND lease_until < ?)
         ORDER BY send_class <> 'access', run_after, id LIMIT 200`,
      )
      .all(now, now);
    const busyChats = new Set<number>();
    for (const c of candidates) {
      if (this.#performing.has(c.id)) continue;
      if (full(c.send_class)) continue;
      if (c.chat_id !== null && busyChats.has(c.chat_id)) continue;
      // While a batch's message to a chat waits for its turn, the next ones gather: they go as one after it.
      const batch = c.batch === null ? undefined : `${c.chat_id}:${c.batch}`;
      if (batch !== undefined && this.#batchesInFlight.has(batch)) continue;
      const row = this.#claim.get(now + this.#o.leaseMs, now, c.id, now);
      if (!row) continue;
      if (c.chat_id !== null) busyChats.add(c.chat_id);
      started = true;
      this.#performing.add(row.id);
      const access = row.send_class === 'access';
      if (access) this.#accessInFlight++;
      if (batch !== undefined) this.#batchesInFlight.add(batch);
      const p = this.#perform(row).finally(() => {
        this.#inFlight.delete(p);
        this.#performing.delete(row.id);
        if (access) this.#accessInFlight--;
        if (batch !== undefined) {
          this.#batchesInFlight.delete(batch);
          this.wake();
        }
      });
      this.#inFlight.add(p);
    }
    return { started };
  }

  async #perform(row: Row): Promise<void> {
    const { clock, log } = this.#o;
    const job = JSON.parse(row.payload) as Job;
    const progress = JSON.parse(row.progress) as Progress;
    const save = async (patch: Progress) => {
      Object.assign(progress, patch);
      await this.#write(() => this.#saveProgress.run(JSON.stringify(progress), clock.now(), row.id));
    };
    try {
      const batch = row.batch !== null && job.kind === 'message' ? this.#readBatch(row, job) : undefined;
      await sendScope.run({ cls: row.send_class, seq: 0 }, () => this.#execute(row.id, batch?.job ?? job, progress, save));
      // The batch's other messages are done with the one that carried them, in one transaction.
      await this.#write(() =>
        this.#o.db.transaction(() => {
          const now = clock.now();
          this.#finish.run('done', null, now, row.id);
          for (const id of batch?.ids ?? []) this.#finishBatched.run(`sent together with job #${row.id}`, now, id);
        })(),
      );
    } catch (error) {
      try {
        // One transaction, so it can be tried again whole while the database is locked.
        await this.#write(() => this.#o.db.transaction(() => this.#failed(row, job, error))());
      } catch (storeError) {
        // Could not even record the failure (a locked database): the lease expires and the job is retried.
        log.error({ err: storeError, jobId: row.id }, 'outbox job outcome not recorded');
      }
    } finally {
      log.debug({ jobId: row.id, kind: job.kind }, 'outbox job finished');
    }
  }

  /**
   * A batched message (e.g. an admin's payment notice) takes every message of its batch waiting
   * for the same chat along: one message "N payments: …" goes out, and the others are marked done
   * with it once it is sent (a crash before that sends them again, never loses them).
   */
  #readBatch(row: Row, job: Extract<Job, { kind: 'message' }>): { job: Job; ids: number[] } {
    const { db, clock } = this.#o;
    const others = prepared<[number, string, number, number], { id: number; payload: string }>(
      db,
      `SELECT id, payload FROM outbox WHERE chat_id = ? AND batch = ? AND state = 'pending' AND run_after <= ? AND id <> ? ORDER BY id LIMIT 50`,
    ).all(row.chat_id ?? 0, row.batch!, clock.now(), row.id);
    const ids = others.map((r) => r.id);
    if (others.length === 0) return { job, ids };
    const lines = [job.text, ...others.map((r) => (JSON.parse(r.payload) as { text: string }).text)];
    const header = row.batch === 'payments' ? `💰 ${lines.length} payments:` : `${lines.length} messages:`;
    let text = `${header}\n${lines.join('\n')}`;
    if (text.length > 4000) text = `${text.slice(0, 3990)}\n…`;
    return { job: { ...job, text }, ids };
  }

  /** Records what a job did, waiting (on timers) for a locked database up to half the lease. */
  #write<T>(work: () => T): Promise<T> {
    return whenUnlocked(work, { deadlineMs: this.#o.leaseMs / 2, signal: this.#stopping.signal });
  }

  #failed(row: Row, job: Job, error: unknown): void {
    const { clock, log } = this.#o;
    const now = clock.now();
    if (isSendCancelled(error)) {
      // The bot is stopping before this job's turn came: it goes first at the next start, uncounted.
      this.#retry.run(now, 'stopped before its turn', row.attempts - 1, now, row.id);
      return;
    }
    if (error instanceof GrammyError && error.error_code === 429) {
      const retryAfter = (error.parameters.retry_after ?? 1) * 1000;
      // Only a file upload gets here (the send pace waits out every other 429 itself): the job waits
      // as long as Telegram said. Not a failure, so the attempt is not counted.
      this.#retry.run(now + retryAfter, `429: retry after ${retryAfter / 1000}s`, row.attempts - 1, now, row.id);
      log.warn({ jobId: row.id, kind: job.kind, retryAfter }, 'outbox job rate-limited');
      return;
    }
    const permanent = error instanceof NeedsAttention || (error instanceof GrammyError && error.error_code >= 400 && error.error_code < 500);
    const message = error instanceof GrammyError ? `${error.error_code}: ${error.description}` : error instanceof Error ? error.message : String(error);
    if (permanent || row.attempts >= this.#o.maxAttempts) {
      this.#finish.run('attention', message.slice(0, 500), now, row.id);
      log.error({ jobId: row.id, kind: job.kind, error: message }, 'outbox job needs attention');
      const unreachable = error instanceof GrammyError && error.error_code === 403 && /blocked by the user|user is deactivated|can't initiate conversation/.test(error.description);
      if (unreachable && 'userId' in job && job.userId !== undefined) {
        this.#o.db.prepare('UPDATE customers SET blocked = 1 WHERE user_id = ?').run(job.userId);
        // One alert per unreachable customer, not one per message (a broadcast could send hundreds).
        if (job.kind === 'message') {
          this.#alertAdmins(row.id, job, message, `unreachable:${job.userId}`);
          return;
        }
      }
      this.#alertAdmins(row.id, job, message);
      return;
    }
    const backoff = Math.min(30_000 * 2 ** (row.attempts - 1), 30 * 60_000) * (0.5 + Math.random());
    const transient = error instanceof HttpError || error instanceof GrammyError;
    this.#retry.run(Math.round(now + backoff), message.slice(0, 500), row.attempts, now, row.id);
    log.warn({ jobId: row.id, kind: job.kind, error: message, attempt: row.attempts, transient }, 'outbox job will retry');
  }

  #alertAdmins(jobId: number, job: Job, message: string, dedupe = `attention:${jobId}`): void {
    // An alert about an alert would loop: admin messages that fail are only logged.
    const admins = this.#o.admins();
    if (job.kind === 'message' && admins.includes(job.chatId)) return;
    const what = job.kind === 'message' ? `a message to ${job.chatId}` : `${job.kind} for user ${'userId' in job ? job.userId : '?'} in chat ${job.chatId}`;
    const now = this.#o.clock.now();
    const insert = prepared(this.#o.db, `
      INSERT INTO outbox (kind, payload, chat_id, dedupe_key, run_after, created_at, updated_at)
      VALUES ('message', ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`);
    for (const admin of admins) {
      const payload: Job = { kind: 'message', chatId: admin, text: escapeHtml(`⚠️ Could not do ${what}: ${message}. Job #${jobId} needs attention.`) };
      insert.run(JSON.stringify(payload), admin, `${dedupe}:${admin}`, now, now, now);
    }
  }

  async #execute(jobId: number, job: Job, progress: Progress, save: (p: Progress) => Promise<void>): Promise<void> {
    const { api, db, clock } = this.#o;
    switch (job.kind) {
      case 'message':
        try {
          const sent = await api.sendMessage(job.chatId, job.text, { parse_mode: 'HTML', reply_markup: job.replyMarkup, link_preview_options: { is_disabled: true } });
          if (job.invoiceOf !== undefined) prepared(db, 'UPDATE orders SET chat_id = ?, message_id = ? WHERE id = ?').run(sent.chat.id, sent.message_id, job.invoiceOf);
        } catch (error) {
          if (job.optional && error instanceof GrammyError && error.error_code === 403) return;
          throw error;
        }
        return;
      case 'approve_join_request':
        try {
          await api.approveChatJoinRequest(job.chatId, job.userId);
        } catch (error) {
          // Already approved (a retry after an unknown outcome) or withdrawn: nothing left to do.
          if (error instanceof GrammyError && /HIDE_REQUESTER_MISSING|USER_ALREADY_PARTICIPANT/.test(error.description)) return;
          throw error;
        }
        return;
      case 'decline_join_request':
        if (!progress.told) {
          await api.sendMessage(job.userId, job.text, { parse_mode: 'HTML', reply_markup: job.replyMarkup }).catch((error: unknown) => {
            if (!(error instanceof GrammyError && error.error_code === 403)) throw error;
          });
          await save({ told: true });
        }
        try {
          await api.declineChatJoinRequest(job.chatId, job.userId);
        } catch (error) {
          if (error instanceof GrammyError && /HIDE_REQUESTER_MISSING/.test(error.description)) return;
          throw error;
        }
        return;
      case 'remove_member':
        if (!progress.banned) {
          // Queued when access ended, perhaps retried for a while since: they may have paid again.
          if (this.#o.isEntitled(job.userId, job.chatId)) return;
          await api.banChatMember(job.chatId, job.userId);
          await save({ banned: true });
        }
        await api.unbanChatMember(job.chatId, job.userId, { only_if_banned: true });
        await this.#write(() =>
          prepared(db, "INSERT INTO memberships (chat_id, user_id, status, updated_at) VALUES (?, ?, 'left', ?) ON CONFLICT DO UPDATE SET status = 'left', updated_at = excluded.updated_at").run(
            job.chatId,
            job.userId,
            clock.now(),
          ),
        );
        return;
      case 'grant_access': {
        if (!progress.unbanned) {
          await api.unbanChatMember(job.chatId, job.userId, { only_if_banned: true });
          await save({ unbanned: true });
        }
        if (!progress.link) {
          const member = await api.getChatMember(job.chatId, job.userId);
          // Already in (a renewal) — unless a removal is still to run or running: then the link
          // is sent anyway, so a removal that lands now cannot leave a paying customer outside.
          if (['member', 'administrator', 'creator'].includes(member.status) && !this.#removalPending(job.userId, job.chatId)) return;
          // A link recorded by an earlier attempt that died before saving progress is reused.
          const stored = prepared<[number], { link: string }>(db, 'SELECT link FROM invite_links WHERE job_id = ?').get(jobId);
          let link = stored?.link;
          if (!link) {
            const created = await api.createChatInviteLink(job.chatId, {
              name: job.linkName,
              ...(job.mode === 'join_request' ? { creates_join_request: true } : { member_limit: 1, expire_date: Math.floor(clock.now() / 1000) + 24 * 3600 }),
            });
            const createdLink = created.invite_link;
            link = createdLink;
            // Recorded before anything else: a retry after a crash reuses it instead of making another.
            await this.#write(() =>
              prepared(db, 'INSERT INTO invite_links (user_id, chat_id, link, job_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING').run(
                job.userId,
                job.chatId,
                createdLink,
                jobId,
                clock.now(),
              ),
            );
          }
          await save({ link });
        }
        await api.sendMessage(job.userId, job.text.replace('{link}', escapeHtml(String(progress.link))), {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
        });
        return;
      }
      case 'revoke_link':
        try {
          await api.revokeChatInviteLink(job.chatId, job.link);
        } catch (error) {
          // Already revoked or expired: the goal is reached.
          if (error instanceof GrammyError && error.error_code === 400 && /INVITE_HASH|revoked|expired/i.test(error.description)) return;
          throw error;
        }
        await this.#write(() => prepared(db, 'UPDATE invite_links SET revoked_at = coalesce(revoked_at, ?) WHERE link = ?').run(clock.now(), job.link));
        return;
      case 'send_document': {
        let stat;
        try {
          stat = statSync(job.path);
        } catch {
          throw new NeedsAttention(`the file ${job.path} is missing on the server`);
        }
        const cacheKey = `file_id:${job.path}:${stat.size}:${Math.round(stat.mtimeMs)}`;
        const cached = prepared<[string], { value: string }>(db, 'SELECT value FROM kv WHERE key = ?').get(cacheKey)?.value;
        const sent = await api.sendDocument(job.chatId, cached ?? new InputFile(job.path, basename(job.path)), {
          caption: job.caption,
          parse_mode: job.caption ? 'HTML' : undefined,
        });
        const fileId = sent.document?.file_id;
        if (!cached && fileId) {
          await this.#write(() => prepared(db, 'INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(cacheKey, fileId, clock.now()));
        }
        return;
      }
      default: {
        const unknown: never = job;
        throw new NeedsAttention(`unknown job kind ${(unknown as { kind: string }).kind}`);
      }
    }
  }
}
