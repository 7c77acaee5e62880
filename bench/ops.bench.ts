import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { systemClock } from '../src/clock.js';
import { openDatabase } from '../src/storage/open-database.js';
import { startAipayFake } from '../src/sandbox/aipay-fake.js';
import { startTelegramEmulator } from '../src/sandbox/telegram/emulator.js';
import { projectRoot } from '../src/project-root.js';
import { fmt, seedSubscriptions, tempFolder, writeCatalog } from './support.js';

const TOKEN = '123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz';
const CHAT = -1001000000001;

/** Reads the child's resident memory (kB → MB) from /proc. */
async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/**
 * The compiled product as pm2 runs it, with 100 000 subscriptions in its database: time from
 * spawn to ready, resident memory idle and after the scheduled jobs swept the database.
 */
export async function opsBench(): Promise<string[]> {
  const dir = tempFolder();
  try {
    const tg = await startTelegramEmulator({ token: TOKEN });
    tg.addChat({ id: CHAT, type: 'supergroup', title: 'Main' });
    tg.setBotMember(CHAT, 'administrator');
    const aipay = await startAipayFake({ apiKey: 'k', webhookSecret: 'bench-webhook-secret' });
    const catalogPath = writeCatalog(dir.path, CHAT);
    const databasePath = join(dir.path, 'bot.db');
    const db = openDatabase(databasePath);
    // Ends 10–60 days away: no reminder or expiry due, the steady state of a big community.
    seedSubscriptions(db, 100_000, systemClock.now() + 10 * 86_400_000);
    db.close();
    const starts: number[] = [];
    let idle = NaN;
    let afterSweep = NaN;
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      // As pm2 runs it (ecosystem.config.cjs node_args).
      const child = spawn(process.execPath, ['--max-semi-space-size=1', join(projectRoot, 'dist', 'src', 'main.js')], {
        cwd: dir.path,
        env: {
          PATH: process.env.PATH ?? '',
          BOT_TOKEN: TOKEN,
          TELEGRAM_API_ROOT: tg.apiRoot,
          AIPAY_API_KEY: 'k',
          AIPAY_WEBHOOK_SECRET: 'bench-webhook-secret',
          AIPAY_BASE_URL: aipay.baseUrl,
          CATALOG_PATH: catalogPath,
          DATABASE_PATH: databasePath,
          PORT: String(39000 + run),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const on = (c: Buffer) => {
          out += c.toString();
          if (out.includes('is running')) resolve();
        };
        child.stdout.on('data', on);
        child.stderr.on('data', on);
        child.on('exit', () => reject(new Error(`exited before ready:\n${out}`)));
      });
      starts.push(performance.now() - t0);
      if (run === 2) {
        // Idle: half a minute after start, when start-up's garbage has been collected.
        await new Promise((r) => setTimeout(r, 30_000));
        idle = await rssMb(child.pid!);
        // Let the scheduler's every-minute jobs run over the 100 000 rows (they start at the next minute).
        const wait = 61_000 - (Date.now() % 60_000) + 2000;
        await new Promise((r) => setTimeout(r, wait));
        afterSweep = await rssMb(child.pid!);
      }
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
    await aipay.close();
    await tg.close();
    const sorted = [...starts].sort((a, b) => a - b);
    return [
      `| start-up to ready (\`node dist/src/main.js\`, 100,000 subscriptions), median of 3 | ${fmt(sorted[1]!, 0)} ms (target < 1000 ms) | |`,
      `| resident memory idle / after a scheduled sweep | ${fmt(idle)} MB / ${fmt(afterSweep)} MB (target idle < 80 MB) | |`,
    ];
  } finally {
    dir.cleanup();
  }
}
