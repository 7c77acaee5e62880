import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sshTunnelHint } from '../../src/ops/ssh-tunnel-hint.js';
import { checkDotEnvLines, readSettings, SettingsError, withDotEnv } from '../../src/settings.js';
import { runMain, stopSpawned } from '../support/process.js';

describe('.env lines', () => {
  it('names a line that is not NAME=value, and never repeats its value', () => {
    expect(() => checkDotEnvLines('# comment\nPORT=3000\nBOT_TOKEN: 123456789:secret-part\n')).toThrow(
      new SettingsError('Line 3 of .env is not NAME=value (it starts with BOT_TOKEN): write it as BOT_TOKEN=<value>, with = and no spaces around it.'),
    );
    expect(() => checkDotEnvLines('PORT=3000\nhello world\n', '/srv/bot/.env')).toThrow('Line 2 of /srv/bot/.env is not NAME=value (it starts with hello)');
    expect(() => checkDotEnvLines('"quoted"\n')).toThrow('Line 1 of .env is not NAME=value: write settings as NAME=value, or start a comment with #.');
    try {
      checkDotEnvLines('BOT_TOKEN: 123456789:secret-part');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-part');
    }
  });

  it('takes comments, blank lines, export, spaces around = and quoted values over several lines', () => {
    expect(() => checkDotEnvLines('\n# a comment\nexport PORT=3000\nLOG_LEVEL = info\nKEY="line one\nline two"\nHOST=\n')).not.toThrow();
  });

  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  it('is checked whenever .env is read', () => {
    dir = mkdtempSync(join(tmpdir(), 'env-'));
    const path = join(dir, '.env');
    writeFileSync(path, 'PORT=3000\nBOT_TOKEN: 1\n');
    expect(() => withDotEnv({}, path)).toThrow('Line 2 of');
  });
});

describe('under pm2 the bot never pretends', () => {
  it('marks the process live under pm2 or with SUBSCRIPTION_BOT_LIVE=1', () => {
    expect(readSettings({}).live).toBe(false);
    expect(readSettings({ SUBSCRIPTION_BOT_LIVE: '1' }).live).toBe(true);
    expect(readSettings({ pm_id: '0' }).live).toBe(true);
  });

  let cwd: string | undefined;
  afterEach(async () => {
    await stopSpawned();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
    cwd = undefined;
  });
  it('exits 1 with one sentence when BOT_TOKEN is missing, instead of starting the playground', async () => {
    cwd = mkdtempSync(join(tmpdir(), 'live-'));
    const bot = runMain({ SUBSCRIPTION_BOT_LIVE: '1' }, cwd);
    const { code } = await bot.exited;
    expect(code).toBe(1);
    expect(bot.output().trim()).toBe('BOT_TOKEN is not set in .env, so the bot cannot start. Put the token from @BotFather into .env (or run npm run setup), then: pm2 reload subscription-bot.');
  });
});

describe('the playground on a server', () => {
  it('prints an SSH tunnel command to open it from your own computer', () => {
    expect(sshTunnelHint({ SSH_CONNECTION: '10.0.0.2 52344 203.0.113.7 22', USER: 'aigerim' }, '3000')).toBe(
      'This is a server: to open the playground on your own computer, run there: ssh -L 3000:127.0.0.1:3000 aigerim@203.0.113.7 — then open http://127.0.0.1:3000/ in your browser.',
    );
    expect(sshTunnelHint({}, '3000')).toBeUndefined();
  });
});
