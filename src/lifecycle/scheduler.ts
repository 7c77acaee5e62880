import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';

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
 */
export class Scheduler {
  readonly #tasks: ScheduledTask[] = [];

  constructor(
    private readonly jobs: readonly ScheduledJob[],
    private readonly log: Logger,
    private readonly timezone: string,
  ) {}

  start(): void {
    for (const job of this.jobs) {
      this.#tasks.push(
        cron.schedule(job.cron, () => this.runNow(job.name), {
          name: job.name,
          timezone: this.timezone,
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

  async runNow(name: string): Promise<void> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) throw new Error(`no job ${name}`);
    try {
      await job.run();
    } catch (error) {
      this.log.error({ err: error, job: name }, 'scheduled job failed');
    }
  }

  async runAll(): Promise<void> {
    for (const job of this.jobs) await this.runNow(job.name);
  }

  async stop(): Promise<void> {
    for (const task of this.#tasks.splice(0)) await task.destroy();
  }
}
