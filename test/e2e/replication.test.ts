import { generateKeyPairSync } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpsError } from '../../src/ops/ops-error.js';
import type { ProcessControl } from '../../src/ops/pm2.js';
import type { ReplicaSettings } from '../../src/ops/replica-settings.js';
import { checkReplication } from '../../src/ops/replication-checks.js';
import { restoreFromReplica } from '../../src/ops/restore-from-replica.js';
import { CHAT_CHAT, MAIN_CHAT, startHarness, type Harness } from '../support/harness.js';
import { covers, currentWalPosition, fileReplica, startLitestream } from '../support/litestream.js';
import { createInvoicedOrder, eventually, outboxIdle, sendEvent, startCustomer, tables } from '../support/payments-helpers.js';
import { stopSpawned } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

/** pm2 runs nothing here: the tests start the app and Litestream themselves. */
const noPm2: ProcessControl = { running: async () => [], stop: async () => undefined, start: async () => undefined };

let h: Harness;
let outside: { path: string; cleanup: () => void };
beforeEach(async () => {
  h = await startHarness();
  // The replica lives outside the bot's folder, like a bucket or another server.
  outside = tempDir('replica-');
});
afterEach(async () => {
  // Every Litestream this file started, killed with its process group, even after a failure.
  await stopSpawned();
  await h.stop();
  outside.cleanup();
});

const CUSTOMERS = Array.from({ length: 8 }, (_, i) => 7001 + i);

describe('continuous copy with Litestream (a file replica)', () => {
  it('after losing the database, restores every acknowledged payment: granted once, nothing sent twice', async () => {
    const replica = fileReplica(join(outside.path, 'bot'));
    let litestream = startLitestream(h.databasePath, replica);
    for (const id of CUSTOMERS) await startCustomer(h, id);
    const orders = CUSTOMERS.map((userId) => createInvoicedOrder(h.app, { userId }));

    // AiPay's notices, all at once; each 200 means the payment is on this server's disk.
    const answers = await Promise.all(orders.map((o) => sendEvent(h, o)));
    expect(answers.map((a) => a.status)).toEqual(orders.map(() => 200));
    const acknowledgedAt = Date.now();
    await outboxIdle(h.app);

    // The replica holds everything in the -wal file as it is now: the payments and what was sent.
    const target = await eventually(() => currentWalPosition(h.databasePath), 10_000, 'Litestream reading the -wal file');
    await eventually(() => covers(litestream.uploaded(), target), 10_000, `the replica covering ${target.generation}/${target.index}:${target.offset}`);
    expect(Date.now() - acknowledgedAt).toBeLessThan(10_000);

    const [copy] = await checkReplication({ databasePath: h.databasePath, replica }, Date.now());
    expect(copy).toMatchObject({
      status: 'ok',
      title: expect.stringMatching(
        new RegExp(`^Continuous copy to ${replica.url}: up to date with the database’s last change; newest piece written \\d+ s ago \\(generation [0-9a-f]{16}, index \\d+, offset \\d+\\)$`),
      ),
    });

    // The server is lost: Litestream killed, the bot gone, the database's folder with it.
    litestream.kill();
    await h.app.stop();
    const sentBeforeLoss = h.tg.calls.length;
    rmSync(dirname(h.databasePath), { recursive: true, force: true });

    const restored = await restoreFromReplica(h.databasePath, { replica, confirm: () => true, processes: noPm2 });
    // The customers, and the admin who wrote to the bot when the harness started.
    expect(restored).toMatchObject({ restored: true, result: { summary: { orders: orders.length, customers: CUSTOMERS.length + 1 } }, restarted: [] });
    expect(existsSync(h.databasePath)).toBe(true);

    await h.restart();
    litestream = startLitestream(h.databasePath, replica);
    const t = tables(h.app);
    for (const o of orders) {
      expect(t.order(o.externalId)?.state).toBe('paid');
      // Granted exactly once: one period of access per paid order.
      expect(h.app.db.prepare('SELECT count(*) FROM subscription_periods WHERE order_id = ?').pluck().get(o.id)).toBe(1);
    }
    expect(t.count('aipay_events')).toBe(orders.length);

    // AiPay sends a notice again (it thinks one failed): it is known, and changes nothing.
    const again = await Promise.all(orders.map((o) => sendEvent(h, o)));
    expect(again.map((a) => a.status)).toEqual(orders.map(() => 200));
    await outboxIdle(h.app);
    expect(t.count('aipay_events')).toBe(orders.length);
    expect(h.app.db.prepare('SELECT count(*) FROM subscription_periods').pluck().get()).toBe(orders.length);

    // Nothing sent twice: since the loss, not one message, link or approval to a customer or a channel.
    const customersAndChats = new Set<unknown>([...CUSTOMERS, MAIN_CHAT, CHAT_CHAT]);
    const sentAgain = h.tg.calls.slice(sentBeforeLoss).filter((c) => !c.method.startsWith('get') && customersAndChats.has(c.params.chat_id));
    expect(sentAgain.map((c) => `${c.method} ${String(c.params.chat_id)}`)).toEqual([]);

    // And the copy goes on, in a new generation, from the restored database.
    const next = await eventually(() => currentWalPosition(h.databasePath), 10_000, 'Litestream reading the restored database');
    expect(next.generation).not.toBe(target.generation);
  });

  it('doctor shows how far the copy is behind once Litestream stops', async () => {
    const replica = fileReplica(join(outside.path, 'bot'));
    const litestream = startLitestream(h.databasePath, replica);
    await startCustomer(h, 7101);
    const first = createInvoicedOrder(h.app, { userId: 7101 });
    expect((await sendEvent(h, first)).status).toBe(200);
    await outboxIdle(h.app);
    const target = await eventually(() => currentWalPosition(h.databasePath), 10_000, 'Litestream reading the -wal file');
    await eventually(() => covers(litestream.uploaded(), target), 10_000, 'the replica covering the payment');

    litestream.kill();
    // Litestream lists times to the second: a change 2.5 s after the last upload is over a second behind.
    await new Promise((r) => setTimeout(r, 2500));
    const second = createInvoicedOrder(h.app, { userId: 7101, itemId: 'course' });
    expect((await sendEvent(h, second)).status).toBe(200);

    const [copy] = await checkReplication({ databasePath: h.databasePath, replica }, Date.now());
    expect(copy).toMatchObject({ status: 'ok', title: expect.stringMatching(/: [1-4] s behind the database’s last change; newest piece written \d+ s ago \(generation /) });
  });

  it('a replica that holds nothing, or cannot be reached, is a clear error in doctor and in a restore', async () => {
    const empty = fileReplica(join(outside.path, 'nothing-here'));
    expect(await checkReplication({ databasePath: h.databasePath, replica: empty }, Date.now())).toEqual([
      {
        status: 'fail',
        title: `Continuous copy to ${empty.url}: the replica holds no copy of the database`,
        fix: 'Check that subscription-bot-litestream runs (pm2 status; start it with pm2 start ecosystem.config.cjs) and read why it does not upload: pm2 logs subscription-bot-litestream --lines 50.',
      },
    ]);
    await expect(restoreFromReplica(h.databasePath, { replica: empty, confirm: () => true, processes: noPm2 })).rejects.toThrow(
      new OpsError(
        `The replica ${empty.url} holds no copy of the database — check LITESTREAM_REPLICA_URL in .env (it must be the address the lost server used), or restore a backup: npm run restore -- <file>.`,
      ),
    );

    // An SSH server that is not there (port 1 refuses at once).
    const key = join(outside.path, 'id_ed25519');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const away: ReplicaSettings = { kind: 'sftp', url: 'sftp://backup@127.0.0.1:1/home/backup/bot', keyPath: key, syncIntervalMs: 1000 };
    const [unreachable] = await checkReplication({ databasePath: h.databasePath, replica: away }, Date.now());
    expect(unreachable).toMatchObject({
      status: 'fail',
      title: 'Continuous copy: the replica sftp://backup@127.0.0.1:1/home/backup/bot cannot be reached (cannot fetch generations: dial tcp 127.0.0.1:1: connect: connection refused)',
      fix: expect.stringMatching(/^Check that the server answers \(ssh -i <LITESTREAM_SFTP_KEY_PATH> <user>@<server>\).*Until it answers, new changes exist on this server only\.$/),
    });
    const orders = h.app.db.prepare('SELECT count(*) FROM orders').pluck().get();
    await expect(restoreFromReplica(h.databasePath, { replica: away, confirm: () => true, processes: noPm2 })).rejects.toThrow(
      /^The replica sftp:\/\/backup@127\.0\.0\.1:1\/home\/backup\/bot cannot be reached \(cannot fetch generations: dial tcp 127\.0\.0\.1:1: connect: connection refused\) — check that the server answers .* Nothing was changed\.$/,
    );
    expect(h.app.db.prepare('SELECT count(*) FROM orders').pluck().get()).toBe(orders);
  });
});
