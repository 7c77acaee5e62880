import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BOT_APP, litestreamConfig, litestreamConfigPath, LITESTREAM_APP, prepareLitestreamConfig, writeLitestreamConfig } from '../../src/ops/litestream.js';
import { OpsError } from '../../src/ops/ops-error.js';
import { pm2Control, type ProcessControl } from '../../src/ops/pm2.js';
import type { ReplicaSettings, S3Replica } from '../../src/ops/replica-settings.js';
import { describeReplication, walLiveBytes, type ReplicationFacts } from '../../src/ops/replication-checks.js';
import { restoreFromReplica } from '../../src/ops/restore-from-replica.js';
import { readSettings, SettingsError } from '../../src/settings.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { fakePm2 } from '../support/fake-pm2.js';
import { covers, currentWalPosition, fileReplica, startLitestream } from '../support/litestream.js';
import { eventually } from '../support/payments-helpers.js';
import { spawnForTest, stopSpawned } from '../support/process.js';
import { tempDir } from '../support/temp-dir.js';

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  await stopSpawned();
  dir.cleanup();
});

const KEY_ID = 'AKIAEXAMPLEKEYID1234';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY$EXAMPLEKEY';
const replicaOf = (env: Record<string, string>) => readSettings(env).replica;
const refusal = (env: Record<string, string>) => {
  try {
    readSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error.message;
    throw error;
  }
  throw new Error('accepted');
};

describe('LITESTREAM_* in readSettings', () => {
  it('is off when LITESTREAM_REPLICA_URL is unset or blank', () => {
    expect(replicaOf({})).toBeUndefined();
    expect(replicaOf({ LITESTREAM_REPLICA_URL: '  ', LITESTREAM_ACCESS_KEY_ID: '' })).toBeUndefined();
  });

  it('reads an S3-compatible bucket with its keys, endpoint and region, and the sync interval', () => {
    expect(
      replicaOf({
        LITESTREAM_REPLICA_URL: 's3://my-bot-backups/bot',
        LITESTREAM_ACCESS_KEY_ID: KEY_ID,
        LITESTREAM_SECRET_ACCESS_KEY: SECRET,
        LITESTREAM_ENDPOINT: 'https://abc123.r2.cloudflarestorage.com/',
        LITESTREAM_REGION: 'auto',
        LITESTREAM_SYNC_INTERVAL: '10s',
      }),
    ).toEqual({
      kind: 's3',
      url: 's3://my-bot-backups/bot',
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      endpoint: 'https://abc123.r2.cloudflarestorage.com',
      region: 'auto',
      syncIntervalMs: 10_000,
    });
  });

  it('reads another server by SFTP with a key file, and a mounted folder', () => {
    const key = join(dir.path, 'id_ed25519');
    writeFileSync(key, 'not read by the bot');
    expect(replicaOf({ LITESTREAM_REPLICA_URL: 'sftp://backup@203.0.113.7:2222/home/backup/bot', LITESTREAM_SFTP_KEY_PATH: key })).toEqual({
      kind: 'sftp',
      url: 'sftp://backup@203.0.113.7:2222/home/backup/bot',
      keyPath: key,
      syncIntervalMs: 1000,
    });
    expect(replicaOf({ LITESTREAM_REPLICA_URL: 'file:///mnt/backup/bot/' })).toEqual({ kind: 'file', url: 'file:///mnt/backup/bot/', path: '/mnt/backup/bot', syncIntervalMs: 1000 });
  });

  it('refuses each mistake in one sentence that never shows a key', () => {
    const s3 = { LITESTREAM_REPLICA_URL: 's3://my-bot-backups/bot', LITESTREAM_ACCESS_KEY_ID: KEY_ID, LITESTREAM_SECRET_ACCESS_KEY: SECRET };
    const cases: Array<[Record<string, string>, string]> = [
      [{ LITESTREAM_REPLICA_URL: 'my-bucket' }, 'LITESTREAM_REPLICA_URL is not a valid address: write s3://bucket/path, sftp://user@host/path or file:///path, or remove LITESTREAM_REPLICA_URL to keep the nightly backup alone.'],
      [{ LITESTREAM_REPLICA_URL: 'gs://bucket/bot' }, 'LITESTREAM_REPLICA_URL must start with s3://, sftp:// or file:// (it starts with gs://), or remove LITESTREAM_REPLICA_URL to keep the nightly backup alone.'],
      [{ ...s3, LITESTREAM_SECRET_ACCESS_KEY: '' }, 'LITESTREAM_SECRET_ACCESS_KEY is not set: an s3:// replica needs the access key of your storage (its dashboard shows the key id and the secret once) in .env.'],
      [{ ...s3, LITESTREAM_SECRET_ACCESS_KEY: `${SECRET} x` }, 'LITESTREAM_SECRET_ACCESS_KEY contains a space or a line break: paste the key exactly as the storage shows it, with nothing around it.'],
      [{ ...s3, LITESTREAM_REPLICA_URL: `s3://${KEY_ID}:${SECRET}@bucket/bot` }, 'LITESTREAM_REPLICA_URL is not a valid address: write s3://bucket/path, sftp://user@host/path or file:///path, or remove LITESTREAM_REPLICA_URL to keep the nightly backup alone.'],
      [{ ...s3, LITESTREAM_REPLICA_URL: `s3://${KEY_ID}:hunter2hunter2@bucket/bot` }, 'LITESTREAM_REPLICA_URL must not hold a password (it would show in logs and in npm run doctor): remove it from the address and put the keys in LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY.'],
      [{ ...s3, LITESTREAM_ENDPOINT: 'r2.cloudflarestorage.com' }, "LITESTREAM_ENDPOINT must be the storage's address starting with https://, like https://<account id>.r2.cloudflarestorage.com, or removed for Amazon S3."],
      [{ ...s3, LITESTREAM_SYNC_INTERVAL: '1 second' }, 'LITESTREAM_SYNC_INTERVAL must be a time from 50ms to 60m, like 1s or 10s (it is "1 second"). Fix it in .env, or remove it to upload every second.'],
      [{ LITESTREAM_REPLICA_URL: 'sftp://203.0.113.7/home/backup' }, 'LITESTREAM_REPLICA_URL must name the user and the server: write sftp://<user>@<server>/<folder>, like sftp://backup@203.0.113.7/home/backup/bot, or remove LITESTREAM_REPLICA_URL to keep the nightly backup alone.'],
      [{ LITESTREAM_REPLICA_URL: 'sftp://backup:hunter2hunter2@203.0.113.7/home/backup' }, 'LITESTREAM_REPLICA_URL must not hold a password (it would show in logs and in npm run doctor): remove it from the address and log in with a key file, LITESTREAM_SFTP_KEY_PATH.'],
      [{ LITESTREAM_REPLICA_URL: 'sftp://backup@203.0.113.7/home/backup' }, 'LITESTREAM_SFTP_KEY_PATH is not set: an sftp:// replica logs in with a private key file — write its full path, like /home/you/.ssh/bot_backup, in .env.'],
      [{ LITESTREAM_REPLICA_URL: 'sftp://backup@203.0.113.7/home/backup', LITESTREAM_SFTP_KEY_PATH: '/nowhere/key' }, 'LITESTREAM_SFTP_KEY_PATH must be the full path of an existing private key file (there is no file /nowhere/key). Fix it in .env.'],
      [{ LITESTREAM_REPLICA_URL: 'file://mnt/backup' }, 'LITESTREAM_REPLICA_URL must be file:///<folder> with three slashes, a folder on this server like file:///mnt/backup/bot (it names the host mnt).'],
      [{ LITESTREAM_ACCESS_KEY_ID: KEY_ID }, 'LITESTREAM_ACCESS_KEY_ID is set but LITESTREAM_REPLICA_URL is not: write where the copy goes (s3://bucket/path, sftp://user@host/path or file:///path), or remove LITESTREAM_ACCESS_KEY_ID from .env.'],
    ];
    for (const [env, sentence] of cases) {
      const message = refusal(env);
      expect(message).toBe(sentence);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain('hunter2');
    }
  });
});

describe("Litestream's configuration file", () => {
  const s3: S3Replica = { kind: 's3', url: 's3://bucket/bot', accessKeyId: KEY_ID, secretAccessKey: SECRET, endpoint: 'https://s3.example.kz', region: 'kz-1', syncIntervalMs: 1000 };

  it('lists the database and its one replica, with keys taken as written (commands run with -no-expand-env)', () => {
    const db = join(dir.path, 'data', 'bot.db');
    const parsed = parse(litestreamConfig(db, s3)) as Record<string, unknown>;
    expect(parsed).toEqual({
      logging: { type: 'json', stderr: true },
      dbs: [
        {
          path: db,
          'monitor-interval': '1000ms',
          replicas: [
            { name: 'replica', url: 's3://bucket/bot', 'sync-interval': '1000ms', endpoint: 'https://s3.example.kz', region: 'kz-1', 'access-key-id': KEY_ID, 'secret-access-key': SECRET },
          ],
        },
      ],
    });
  });

  it('is written next to the database for its owner only, also over an older file, and removed with the replica', () => {
    const db = join(dir.path, 'data', 'bot.db');
    const path = litestreamConfigPath(db);
    expect(path).toBe(join(dir.path, 'data', 'litestream.yml'));
    mkdirSync(join(dir.path, 'data'));
    writeFileSync(path, 'old');
    chmodSync(path, 0o644);
    expect(prepareLitestreamConfig(db, s3)).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^# Written by the bot from LITESTREAM_\* in \.env/);
    expect(prepareLitestreamConfig(db, undefined)).toBeUndefined();
    expect(existsSync(path)).toBe(false);
  });

  it('says in one sentence when it cannot be written', () => {
    const blocked = join(dir.path, 'blocked');
    writeFileSync(blocked, 'a file where the folder should be');
    expect(() => writeLitestreamConfig(join(blocked, 'bot.db'), s3)).toThrow(OpsError);
    expect(() => writeLitestreamConfig(join(blocked, 'bot.db'), s3)).toThrow(/^Cannot write Litestream's configuration .*litestream\.yml \(.*\) — check the permissions of /);
  });
});

describe('what doctor says about the continuous copy (describeReplication)', () => {
  const now = Date.parse('2027-03-01T12:00:00Z');
  const file = fileReplica('/mnt/backup/bot');
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000);
  const facts = (over: Partial<ReplicationFacts> & { writtenAgo?: number } = {}): ReplicationFacts => ({
    databasePath: 'data/bot.db',
    walBytes: 4_000_000,
    changedAt: now - 3000,
    replica: {
      settings: file,
      queueBytes: 1000,
      listing: {
        ok: true,
        generations: [{ generation: '0123456789abcdef', start: at(3600), end: at(over.writtenAgo ?? 2) }],
        newest: { generation: '0123456789abcdef', index: 4, offset: 8272, written: at(over.writtenAgo ?? 2) },
      },
    },
    ...over,
  });

  it('is ok while the copy holds the last change, naming the position and its age', () => {
    expect(describeReplication(facts(), now)).toEqual([
      {
        status: 'ok',
        title: 'Continuous copy to file:///mnt/backup/bot: up to date with the database’s last change; newest piece written 2 s ago (generation 0123456789abcdef, index 4, offset 8272)',
      },
    ]);
  });

  it('warns from a minute behind, and fails from an hour', () => {
    const warn = describeReplication(facts({ writtenAgo: 5 * 60 }), now)[0]!;
    expect(warn).toMatchObject({ status: 'warn', title: expect.stringContaining(': 4 min behind the database’s last change; newest piece written 5 min ago') });
    expect(warn.fix).toBe(
      'Changes since then exist on this server only: check that subscription-bot-litestream runs (pm2 status; start it with pm2 start ecosystem.config.cjs) and read why it does not upload: pm2 logs subscription-bot-litestream --lines 50.',
    );
    expect(describeReplication(facts({ writtenAgo: 3 * 3600 }), now)[0]).toMatchObject({ status: 'fail', title: expect.stringContaining(': 2 h 59 min behind') });
  });

  it('warns about a large -wal file or upload queue, with or without a replica', () => {
    const big = 80 * 1024 * 1024;
    const withReplica = facts({ walBytes: big });
    withReplica.replica!.queueBytes = big;
    expect(describeReplication(withReplica, now).map((r) => `${r.status} ${r.title}`)).toEqual([
      expect.stringMatching(/^ok Continuous copy/),
      'warn Litestream holds 80.0 MB of changes not yet uploaded (data/.bot.db-litestream)',
      'warn The database’s -wal file holds 80.0 MB since it last started over (more than 64.0 MB): checkpoints are not folding it back into the database',
    ]);
    const alone = describeReplication({ databasePath: 'data/bot.db', walBytes: big, changedAt: now }, now);
    expect(alone.map((r) => r.status)).toEqual(['warn', 'warn']);
    expect(alone[0]!.title).toBe(
      'No continuous copy of the database (LITESTREAM_REPLICA_URL is not set): if this server’s disk is lost, the payments since the last nightly backup are lost with it',
    );
    expect(alone[1]!.fix).toContain('fuser -v data/bot.db');
  });

  it('measures the -wal file by its current run, not by its size, which never shrinks', () => {
    const path = join(dir.path, 'w.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x)');
    for (let i = 0; i < 300; i++) db.prepare('INSERT INTO t VALUES (randomblob(3000))').run();
    const wal = `${path}-wal`;
    const grown = statSync(wal).size;
    expect(walLiveBytes(wal)).toBe(grown);
    db.pragma('wal_checkpoint(PASSIVE)');
    db.prepare('INSERT INTO t VALUES (1)').run(); // the file starts over from its beginning
    expect(statSync(wal).size).toBe(grown);
    expect(walLiveBytes(wal)).toBe(32 + (4096 + 24));
    db.close();
  });

  it('tells an empty replica apart from a new installation', () => {
    const empty = facts();
    empty.replica!.listing = { ok: true, generations: [] };
    expect(describeReplication(empty, now)[0]).toMatchObject({ status: 'fail', title: 'Continuous copy to file:///mnt/backup/bot: the replica holds no copy of the database' });
    expect(describeReplication({ ...empty, changedAt: undefined, walBytes: undefined }, now)[0]).toMatchObject({
      status: 'warn',
      title: 'Continuous copy to file:///mnt/backup/bot: no copy yet (there is no database yet either)',
    });
  });
});

describe('pm2Control', () => {
  it('asks pm2 only when its daemon runs, and counts an app pm2 is restarting as running', async () => {
    const pm2 = fakePm2(
      dir.path,
      [
        { name: BOT_APP, status: 'waiting restart' },
        { name: LITESTREAM_APP, status: 'stopped' },
        { name: 'other-app', status: 'online' },
      ],
      false,
    );
    const control = pm2Control(pm2.env);
    expect(await control.running([BOT_APP, LITESTREAM_APP])).toEqual([]); // no rpc.sock: no daemon
    expect(pm2.calls()).toEqual([]);
    writeFileSync(join(pm2.env.PM2_HOME, 'rpc.sock'), '');
    expect(await control.running([BOT_APP, LITESTREAM_APP])).toEqual([BOT_APP]);
    await control.stop([BOT_APP]);
    await control.start([BOT_APP]);
    expect(pm2.calls()).toEqual(['jlist', `stop ${BOT_APP}`, `start ${BOT_APP}`]);
  });
});

describe('restoreFromReplica and the processes around it', () => {
  /** A database with one order, copied by Litestream to a file replica (then Litestream stops). */
  async function replicated(): Promise<{ db: string; replica: ReplicaSettings }> {
    const db = join(dir.path, 'data', 'bot.db');
    const live = openDatabase(db);
    live.prepare('INSERT INTO customers (user_id, created_at, updated_at) VALUES (1, 1, 1)').run();
    live.prepare("INSERT INTO orders (external_id, user_id, item_kind, item_id, terms, list_price, amount, language, state, created_at, updated_at) VALUES ('o-1', 1, 'plan', 'monthly', '{}', 4900, 4900, 'ru', 'paid', 1, 1)").run();
    const replica = fileReplica(join(dir.path, 'replica'));
    const litestream = startLitestream(db, replica);
    const target = await eventually(() => currentWalPosition(db), 10_000, 'Litestream reading the -wal file');
    await eventually(() => covers(litestream.uploaded(), target), 10_000, 'the replica covering the order');
    litestream.kill();
    live.close();
    return { db, replica };
  }
  const recording = (running: string[]) => {
    const calls: string[] = [];
    const control: ProcessControl = {
      running: async (names) => {
        calls.push(`running ${names.join(' ')}`);
        return running;
      },
      stop: async (names) => void calls.push(`stop ${names.join(' ')}`),
      start: async (names) => void calls.push(`start ${names.join(' ')}`),
    };
    return { calls, control };
  };

  it('stops the bot and Litestream, restores, and starts them again; asks first, and says when the database here is newer', async () => {
    const { db, replica } = await replicated();
    await new Promise((r) => setTimeout(r, 2100)); // the copy's times are to the second
    const later = openDatabase(db);
    later.prepare('INSERT INTO customers (user_id, created_at, updated_at) VALUES (2, 1, 1)').run();
    later.close();
    const declined = recording([BOT_APP, LITESTREAM_APP]);
    let asked = '';
    const none = await restoreFromReplica(db, { replica, processes: declined.control, confirm: (q) => ((asked = q), false) });
    expect(none).toEqual({ restored: false });
    expect(declined.calls).toEqual([`running ${BOT_APP} ${LITESTREAM_APP}`]);
    expect(asked).toMatch(
      new RegExp(
        `^Type yes to stop ${BOT_APP} and ${LITESTREAM_APP}, replace .*bot\\.db with the copy on ${replica.url} \\(last written \\S+Z, \\d+ s ago\\), and start them again; the current database is saved to .*backups first — it changed \\d+ s after that copy was written, and those changes would be in the saved file only: $`,
      ),
    );

    const done = recording([BOT_APP, LITESTREAM_APP]);
    const progress: string[] = [];
    const result = await restoreFromReplica(db, { replica, processes: done.control, confirm: () => true, progress: (l) => progress.push(l) });
    expect(result).toMatchObject({ restored: true, restarted: [BOT_APP, LITESTREAM_APP], result: { summary: { orders: 1, customers: 1 }, from: replica.url } });
    expect(done.calls).toEqual([`running ${BOT_APP} ${LITESTREAM_APP}`, `stop ${BOT_APP} ${LITESTREAM_APP}`, `start ${BOT_APP} ${LITESTREAM_APP}`]);
    expect(progress).toEqual([`Stopping ${BOT_APP} and ${LITESTREAM_APP} (pm2)…`, `Downloading the copy from ${replica.url}…`, `Starting ${BOT_APP} and ${LITESTREAM_APP} again (pm2)…`]);
  });

  it('starts again what it stopped when the restore fails, on the database left as it was', async () => {
    const { db, replica } = await replicated();
    // Something pm2 does not run keeps the database open (the bot started with npm start, say).
    const script = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(db)}); db.prepare('SELECT 1 FROM orders').get(); console.log('open'); setInterval(() => {}, 1000);`;
    const holder = spawnForTest(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const r = recording([LITESTREAM_APP]);
    await expect(restoreFromReplica(db, { replica, processes: r.control, confirm: () => true })).rejects.toThrow(/is in use — the bot \(or another backup\) is running/);
    expect(r.calls).toEqual([`running ${BOT_APP} ${LITESTREAM_APP}`, `stop ${LITESTREAM_APP}`, `start ${LITESTREAM_APP}`]);

    // With nothing of pm2's running, it refuses before asking.
    const idle = recording([]);
    await expect(restoreFromReplica(db, { replica, processes: idle.control, confirm: () => true })).rejects.toThrow(/^.*bot\.db is in use, and not by a bot pm2 runs — stop the bot where it runs/);
    expect(idle.calls).toEqual([`running ${BOT_APP} ${LITESTREAM_APP}`]);
  });
});
