import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../logger.js';
import type { CatalogStore } from './catalog-store.js';
import { loadCatalog } from './load-catalog.js';
import { releaseCatalogValidator } from './schema-validator.js';
import { formatProblem, type CatalogProblem } from './problem.js';

export interface CatalogReloaderOptions {
  path: string;
  store: CatalogStore;
  log: Logger;
  /** A saved edit is invalid: the running catalog stays; tell the admins every problem. */
  onInvalid: (problems: CatalogProblem[]) => void;
  /** A valid edit is live; `warnings` (possibly none) are what it still should look at. */
  onReloaded?: (summary: string, warnings: CatalogProblem[]) => void;
  /** Quiet time after the last change before reloading (default: 300 ms); editors write in bursts. */
  debounceMs?: number;
}

/**
 * Reloads the catalog when its file is saved (watching the folder, so an editor that saves by
 * writing a new file and renaming it is seen too) or when `reload()` is called (SIGHUP). A valid
 * catalog replaces the running one atomically; an invalid one changes nothing.
 */
export class CatalogReloader {
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastText: string | undefined;

  constructor(private readonly o: CatalogReloaderOptions) {}

  start(): void {
    const file = basename(this.o.path);
    try {
      this.#watcher = watch(dirname(this.o.path), (_event, name) => {
        if (name === null || name.toString() === file) this.#schedule();
      });
      this.#watcher.on('error', (error) => this.o.log.warn({ err: error }, 'catalog watch stopped; send SIGHUP to reload'));
    } catch (error) {
      this.o.log.warn({ err: error }, 'cannot watch the catalog file; send SIGHUP to reload');
    }
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload('file saved'), this.o.debounceMs ?? 300);
  }

  /** Validates the file now and swaps it in when valid. Returns whether the running catalog changed. */
  reload(reason = 'reload requested'): boolean {
    const result = loadCatalog(this.o.path);
    releaseCatalogValidator();
    if (!result.ok) {
      const problems = result.problems.map(formatProblem);
      const text = problems.join('\n');
      if (text === this.#lastText) return false; // the same broken file saved twice: one alert
      this.#lastText = text;
      // The operator reading `pm2 logs` sees what to fix, as the admins do in Telegram.
      this.o.log.warn({ reason, problems }, 'catalog edit refused; the running catalog stays');
      try {
        this.o.onInvalid(result.problems);
      } catch (error) {
        // Telling the admins failed (the database locked by another process): the bot runs on, and
        // the next save or SIGHUP of this file tries again.
        this.#lastText = undefined;
        this.o.log.error({ err: error }, 'could not tell the admins that the catalog edit was refused');
      }
      return false;
    }
    this.#lastText = undefined;
    this.o.store.swap(result.catalog);
    const warnings = result.warnings.map(formatProblem);
    this.o.log.info({ reason, summary: result.summary, ...(warnings.length > 0 ? { warnings } : {}) }, 'catalog reloaded');
    this.o.onReloaded?.(result.summary, result.warnings);
    return true;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
  }
}
