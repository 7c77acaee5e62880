import { createRunner, createSource, createUpdateFetcher, type RunnerHandle, type UpdateSink } from '@grammyjs/runner';
import type { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../logger.js';
import { DatabaseBusy, toStoreError } from '../storage/errors.js';
import type { Inbox } from './inbox.js';

export interface PollIntoInboxOptions {
  inbox: Inbox;
  allowedUpdates: readonly string[];
  log: Logger;
  /** Told of the updates just stored (wake the dispatcher, answer button presses in a crowd). */
  onStored: (updates: Update[]) => void;
}

/**
 * Long polling into the inbox, with grammY's runner: each batch from getUpdates is stored in
 * SQLite before the runner asks for the next, and only that next getUpdates (its offset) tells
 * Telegram the batch arrived. A locked database makes the runner wait (without blocking the
 * process) and try again: nothing is confirmed that is not stored.
 */
export function pollIntoInbox(bot: Bot<never>, o: PollIntoInboxOptions): RunnerHandle {
  const fetchUpdates = createUpdateFetcher(bot as never, { fetch: { allowed_updates: [...o.allowedUpdates] as never }, silent: true });
  const source = createSource<Update>({ supply: (batchSize, signal) => fetchUpdates(batchSize, signal) });
  const sink: UpdateSink<Update> = {
    handle: async (updates) => {
      for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
        try {
          const fresh = o.inbox.store(updates);
          if (fresh.length > 0) o.onStored(fresh);
          return 100;
        } catch (error) {
          if (!(toStoreError(error) instanceof DatabaseBusy)) throw error;
          o.log.warn({ updates: updates.length }, 'inbox: database locked, updates not stored yet; trying again');
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    },
    size: () => 0,
    snapshot: () => [],
  };
  const runner = createRunner(source, sink);
  runner.start();
  return runner;
}
