import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';
import { DatabaseBusy, toStoreError } from '../storage/errors.js';

export interface ScheduledJob {
  name: string;
  /** Cron expression, e.g. "* * * * *" (every minute). */
  cron: string;
  run: () => void | Promise<void>;
}

/**
 * node-cron jobs in the catalog's time zone; a run never overlaps the previous run of the same
 * job. The decisions live in pure functions; jobs only call them. `runNow` is for tests and the
 * playground's clock control.
 *
 * A job that finds the database locked by another process (DatabaseBusy) is not an error: it
 * runs again at its next time, and the log says so once, not at every tick while it lasts.
 */
export class Scheduler {
  readonly #tasks: ScheduledTask[] = [];
  #timezone: string;
  #stopped = false;
  /** Jobs whose last run found the database locked. */
  readonly #locked = new Set<string>();

  constructor(
    private readonly jobs: readonly ScheduledJob[],
    private readonly log: Logger,
    timezone: string,
  ) {
    this.#timezone = timezone;
  }

  start(): void {
    if (this.#stopped) return;
    for (const job of this.jobs) {
      this.#tasks.push(
        cron.schedule(job.cron, () => this.runNow(job.name), {
          name: job.name,
          timezone: this.#timezone,
          noOverlap: true,
          // node-cron's own warnings (a missed minute after a busy moment) go to our log, not the console.
          logger: {
            info: (m) => this.log.debug({ job: job.name }, m),
            warn: (m) => this.log.debug({ job: job.name }, m),
            error: (m, err) => this.log.error({ job: job.name, err: err ?? m }, 'scheduler error'),
            debug: (m) => this.log.debug({ job: job.name }, String(m)),
          },
        }),
      );
    }
  }

  /** Follows a new catalog time zone (a hot reload): the jobs are scheduled again in it. */
  async setTimezone(timezone: string): Promise<void> {
    if (timezone === this.#timezone) return;
    this.#timezone = timezone;
    if (this.#tasks.length === 0) return;
    await this.#destroyTasks();
    this.start();
    this.log.info({ timezone }, 'scheduled jobs follow the new time zone');
  }

  /** When the job runs next (null if not scheduled). */
  nextRun(name: string): Date | null {
    return this.#tasks.find((t) => t.name === name)?.getNextRun() ?? null;
  }

  async runNow(name: string): Promise<void> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) throw new Error(`no job ${name}`);
    try {
      await job.run();
      if (this.#locked.delete(name)) this.log.info({ job: name }, 'scheduled job ran again after the database was locked');
    } catch (error) {
      if (toStoreError(error) instanceof DatabaseBusy) {
        if (!this.#locked.has(name)) this.log.warn({ job: name }, 'the database is locked by another process: the job runs again at its next time');
        this.#locked.add(name);
        return;
      }
      this.log.error({ err: error, job: name }, 'scheduled job failed');
    }
  }

  async runAll(): Promise<void> {
    for (const job of this.jobs) await this.runNow(job.name);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#destroyTasks();
  }

  async #destroyTasks(): Promise<void> {
    for (const task of this.#tasks.splice(0)) await task.destroy();
  }
}
