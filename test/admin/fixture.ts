import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalogOrThrow } from '../../src/app.js';
import type { Catalog } from '../../src/catalog/types.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { openDatabase, type Db } from '../../src/storage/open-database.js';
import { TEST_CATALOG } from '../support/harness.js';
import { tempDir } from '../support/temp-dir.js';

/** A real database and the test catalog (Asia/Almaty, admin 900), without a bot: for the admin modules' pure parts. */
export interface AdminFixture {
  db: Db;
  catalog: Catalog;
  outbox: Outbox;
  now: number;
  close(): void;
}

export function adminFixture(now = Date.parse('2026-03-15T10:00:00+05:00'), catalogYaml = TEST_CATALOG): AdminFixture {
  const dir = tempDir('admin-test-');
  const path = join(dir.path, 'catalog.yaml');
  writeFileSync(path, catalogYaml);
  const catalog = loadCatalogOrThrow(path);
  const db = openDatabase(join(dir.path, 'bot.db'));
  const outbox = new Outbox(db, { now: () => now });
  return {
    db,
    catalog,
    outbox,
    now,
    close() {
      db.close();
      dir.cleanup();
    },
  };
}

export function addCustomerRow(db: Db, userId: number, o: { firstName?: string; username?: string; phone?: string; blocked?: boolean; language?: string } = {}): void {
  db.prepare('INSERT INTO customers (user_id, username, first_name, phone, blocked, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0)').run(
    userId,
    o.username ?? null,
    o.firstName ?? `User${userId}`,
    o.phone ?? null,
    o.blocked ? 1 : 0,
    o.language ?? 'en',
  );
}
