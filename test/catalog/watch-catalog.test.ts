import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogStore } from '../../src/catalog/catalog-store.js';
import { CatalogReloader } from '../../src/catalog/watch-catalog.js';
import { loadCatalog } from '../../src/catalog/load-catalog.js';
import { formatProblem } from '../../src/catalog/problem.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { holdWriteLock } from '../support/db-lock.js';
import { ADMIN_ID, TEST_CATALOG } from '../support/harness.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: Array<() => unknown> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

describe('CatalogReloader', () => {
  it('keeps running when the admins cannot be told of a refused edit (database locked), and tells them at the next try', () => {
    const dir = tempDir();
    const path = join(dir.path, 'catalog.yaml');
    writeFileSync(path, TEST_CATALOG);
    const loaded = loadCatalog(path);
    if (!loaded.ok) throw new Error('the test catalog does not load');
    const db = openDatabase(join(dir.path, 'bot.db'));
    cleanups.push(dir.cleanup, () => db.close());
    const outbox = new Outbox(db, systemClock);
    const told = () => db.prepare('SELECT count(*) FROM outbox WHERE chat_id = ?').pluck().get(ADMIN_ID);
    const reloader = new CatalogReloader({
      path,
      store: new CatalogStore(loaded.catalog),
      log: silentLogger(),
      onInvalid: (problems) => outbox.notifyAdmins([ADMIN_ID], `Not applied: ${problems.length} problems`),
    });
    writeFileSync(path, TEST_CATALOG.replace('price: 4900', 'price: "4 900 тг"'));
    const lock = holdWriteLock(db.name, 5000);
    cleanups.push(() => lock.release());
    expect(reloader.reload('file saved')).toBe(false);
    lock.release();
    expect(told()).toBe(0);
    // The same broken file again (another save, SIGHUP): this time the admins hear of it, once.
    expect(reloader.reload('SIGHUP')).toBe(false);
    expect(reloader.reload('SIGHUP')).toBe(false);
    expect(told()).toBe(1);
  });

  it('applies an edit that has only warnings, and hands them on with the summary', () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const path = join(dir.path, 'catalog.yaml');
    writeFileSync(path, TEST_CATALOG);
    const loaded = loadCatalog(path);
    if (!loaded.ok) throw new Error('the test catalog does not load');
    expect(loaded.warnings).toEqual([]);
    const store = new CatalogStore(loaded.catalog);
    const reloaded: string[][] = [];
    const reloader = new CatalogReloader({
      path,
      store,
      log: silentLogger(),
      onInvalid: () => {
        throw new Error('a catalog with only warnings is not refused');
      },
      onReloaded: (_summary, warnings) => reloaded.push(warnings.map(formatProblem)),
    });
    writeFileSync(path, TEST_CATALOG.replace('bot_name: "Test Academy"', 'bot_name: Test Academy #1'));
    expect(reloader.reload('file saved')).toBe(true);
    expect(store.current().settings.botName).toBe('Test Academy');
    expect(reloaded).toEqual([
      [
        'catalog.yaml:3:13  settings.bot_name  warning: YAML reads everything after " #" as a comment, so this text is only "Test Academy" — put the whole text in quotes: "Test Academy #1" (a note to yourself goes on a line of its own)',
      ],
    ]);
  });
});
