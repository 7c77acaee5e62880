import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/project-root.js';

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
const config = require(join(projectRoot, 'ecosystem.config.cjs')) as { apps: PmApp[] };
const MAIN = join(projectRoot, 'dist', 'src', 'main.js');

describe('ecosystem.config.cjs (pm2)', () => {
  const [app] = config.apps;

  it('runs exactly one bot process, in fork mode, from the project folder', () => {
    expect(config.apps).toHaveLength(1);
    expect(app).toMatchObject({ name: 'subscription-bot', instances: 1, exec_mode: 'fork', cwd: projectRoot });
  });

  it('runs the compiled entry point that npm ci builds (prepare) and npm start runs', () => {
    expect(app!.script).toBe('dist/src/main.js');
    const scripts = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.prepare).toMatch(/build/);
    // npm start builds first only when the code changed (scripts/run-built.mjs), then runs the same file.
    expect(scripts.start).toMatch(/^node( --[a-z-]+=\S+)* scripts\/run-built\.mjs dist\/src\/main\.js$/);
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
    // The bot reads .env itself: no settings or secrets in this file.
    expect(app!.env).toBeUndefined();
  });
});
