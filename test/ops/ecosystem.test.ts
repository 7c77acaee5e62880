import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_APP, LITESTREAM_APP, litestreamBinary, litestreamConfigPath } from '../../src/ops/litestream.js';
import { projectRoot } from '../../src/project-root.js';
import { tempDir } from '../support/temp-dir.js';

interface PmApp {
  name: string;
  cwd: string;
  script: string;
  args: string[];
  instances: number;
  exec_mode: string;
  [key: string]: unknown;
}

const require = createRequire(import.meta.url);
const CONFIG = join(projectRoot, 'ecosystem.config.cjs');
/** The file as pm2 loads it, with `env` set (the environment wins over .env, as for the bot). */
function load(env: Record<string, string | undefined> = {}): { apps: PmApp[] } {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    delete require.cache[require.resolve(CONFIG)];
    return require(CONFIG) as { apps: PmApp[] };
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
const config = load({ LITESTREAM_REPLICA_URL: '' });
const MAIN = join(projectRoot, 'dist', 'src', 'main.js');

describe('ecosystem.config.cjs (pm2)', () => {
  const [app] = config.apps;

  it('runs exactly one bot process, in fork mode, from the project folder (and nothing else without a replica)', () => {
    expect(config.apps).toHaveLength(1);
    expect(app).toMatchObject({ name: BOT_APP, instances: 1, exec_mode: 'fork', cwd: projectRoot });
  });

  it('runs the compiled entry point that npm ci builds (prepare) and npm start runs', () => {
    expect(app!.script).toBe('dist/src/main.js');
    const scripts = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.prepare).toMatch(/build/);
    // npm start builds first only when the code changed (src/cli/run-built.mjs), then runs the same file.
    expect(scripts.start).toMatch(/^node( --[a-z-]+=\S+)* src\/cli\/run-built\.mjs dist\/src\/main\.js$/);
    expect(app!.node_args).toEqual((scripts.start ?? "").match(/--[a-z-]+=\S+/g) ?? []);
  });

  it.skipIf(!existsSync(MAIN))(`has the script it runs after a build${existsSync(MAIN) ? '' : ' — SKIPPED: dist/src/main.js is missing; run npm run build'}`, () => {
    expect(existsSync(join(app!.cwd, 'dist/src/main.js'))).toBe(true);
  });

  it('stops gracefully, bounds memory, backs off restarts and logs under logs/ with times', () => {
    expect(app).toMatchObject({
      kill_timeout: 10000,
      max_memory_restart: '300M',
      exp_backoff_restart_delay: 1000,
      max_restarts: expect.any(Number),
      out_file: expect.stringMatching(/^logs\//),
      error_file: expect.stringMatching(/^logs\//),
      merge_logs: true,
      time: true,
    });
    // The bot reads .env itself: no settings or secrets in this file, only the mark that this is
    // the real bot (no token is then an error, never the playground).
    expect(app!.env).toEqual({ SUBSCRIPTION_BOT_LIVE: '1' });
  });
});

describe('ecosystem.config.cjs with LITESTREAM_REPLICA_URL set', () => {
  let dir: { path: string; cleanup: () => void } | undefined;
  afterEach(() => dir?.cleanup());

  it('runs Litestream beside the bot: one process, its configuration written from .env just before, on the database of DATABASE_PATH', () => {
    const databasePath = "/var/lib/bot's data/bot.db";
    const { apps } = load({ LITESTREAM_REPLICA_URL: 'file:///mnt/backup/bot', DATABASE_PATH: databasePath });
    expect(apps.map((a) => a.name)).toEqual([BOT_APP, LITESTREAM_APP]);
    const litestream = apps[1]!;
    expect(litestream).toMatchObject({ cwd: projectRoot, script: '/bin/sh', interpreter: 'none', instances: 1, exec_mode: 'fork', kill_timeout: 10000 });
    expect(litestream.env).toBeUndefined();
    // sh writes the configuration, then becomes Litestream (exec): pm2 signals Litestream itself.
    const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
    expect(litestream.args).toEqual([
      '-c',
      `${q(process.execPath)} dist/src/cli/litestream.js config && exec ${q(litestreamBinary())} replicate -config ${q(litestreamConfigPath(databasePath))} -no-expand-env`,
    ]);
    expect(litestream.out_file).toMatch(/^logs\//);
  });

  it.skipIf(!existsSync(join(projectRoot, 'dist', 'src', 'cli', 'litestream.js')))("its first step writes data/litestream.yml from .env, readable by its owner only", () => {
    dir = tempDir();
    const databasePath = join(dir.path, 'data', 'bot.db');
    const { apps } = load({ LITESTREAM_REPLICA_URL: `file://${dir.path}/replica`, DATABASE_PATH: databasePath });
    const firstStep = apps[1]!.args[1]!.split(' && exec ')[0]!;
    const out = execFileSync('/bin/sh', ['-c', firstStep], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', LITESTREAM_REPLICA_URL: `file://${dir.path}/replica`, DATABASE_PATH: databasePath },
      encoding: 'utf8',
    });
    expect(out).toMatch(/^Litestream's configuration is in .*litestream\.yml/);
    expect(statSync(litestreamConfigPath(databasePath)).mode & 0o777).toBe(0o600);
    expect(readFileSync(litestreamConfigPath(databasePath), 'utf8')).toContain(`url: file://${dir.path}/replica`);
  });
});
