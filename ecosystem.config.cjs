// pm2 configuration: keeps the bot running on a server, restarts it after a crash or a reboot.
//
//   npm ci                             # once, and after every update (git pull)
//   pm2 start ecosystem.config.cjs     # first start
//   pm2 reload subscription-bot        # after an update or a change to .env
//                                      # (catalog.yaml is re-read by itself when saved)
//   pm2 save && pm2 startup            # once: start again after the server reboots
//
// `.cjs` because package.json says "type": "module" and pm2 loads this file with require().
//
// What runs: the compiled bot, `dist/src/main.js`. `npm ci` builds it (the `prepare` script),
// so after an update it is `git pull && npm ci && pm2 reload subscription-bot`: the reload itself
// starts the ready code at once, and webhooks are refused for well under a second. pm2 watches,
// signals and measures the bot's own process. The build needs the dev dependencies (TypeScript):
// install with plain `npm ci`, not with NODE_ENV=production or --omit=dev.
//
// Settings: the bot reads .env from this folder itself (cwd below), at every start — so a change
// to .env needs only `pm2 reload subscription-bot`. Nothing but SUBSCRIPTION_BOT_LIVE is set here. A variable exported in
// the shell that ran `pm2 start` wins over .env (pm2 passes its environment on).
//
// Continuous copy (README, Continuous copy with Litestream): when LITESTREAM_REPLICA_URL is set,
// a second app, subscription-bot-litestream, runs Litestream beside the bot. This file reads .env
// for it (LITESTREAM_REPLICA_URL, DATABASE_PATH) when pm2 loads it: after setting or removing the
// replica, run `pm2 start ecosystem.config.cjs` (starts what is missing) or
// `pm2 delete subscription-bot-litestream`.

const { existsSync, readFileSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');
const { parseEnv } = require('node:util');

/** A setting as the bot reads it: the environment first, then .env; blank = unset. */
function setting(name) {
  const envFile = join(__dirname, '.env');
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  const value = (process.env[name] ?? fromFile[name] ?? '').trim();
  return value === '' ? undefined : value;
}

/** The Litestream binary npm installed for this machine (the optional dependency @flydotio/litestream-linux-x64). */
function litestreamBinary() {
  const pkg = `@flydotio/litestream-${process.platform}-${process.arch}`;
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`, { paths: [__dirname] })), 'litestream');
  } catch {
    return join(__dirname, 'node_modules', pkg, 'litestream'); // missing: `litestream.js config` says so
  }
}

/** Quoted for sh. */
const q = (text) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Litestream's command line: first `litestream.js config` writes data/litestream.yml (mode 600,
 * next to the database) from .env — pm2 does not read .env — and checks the binary; then the
 * shell replaces itself with Litestream (`exec`), so pm2 watches, signals and measures Litestream
 * itself and no Node.js process stays beside it.
 */
function litestreamCommand() {
  const config = join(dirname(resolve(__dirname, setting('DATABASE_PATH') ?? 'data/bot.db')), 'litestream.yml');
  return `${q(process.execPath)} dist/src/cli/litestream.js config && exec ${q(litestreamBinary())} replicate -config ${q(config)} -no-expand-env`;
}

module.exports = {
  apps: [
    {
      name: 'subscription-bot',
      cwd: __dirname,
      script: 'dist/src/main.js',
      // A smaller young generation: about 20 MB less resident memory on a 1 GB VPS, at a cost in
      // garbage-collection work the bot's load never notices.
      node_args: ['--max-semi-space-size=1'],

      // Exactly one process: SQLite has one writer (the bot's transactions, its outbox worker and
      // its scheduled jobs assume they are alone), and Telegram delivers a token's updates to one
      // place — one getUpdates poller (a second gets 409 Conflict) or one webhook (a second
      // instance would set its own secret and lock the first out). Cluster mode would break both.
      instances: 1,
      exec_mode: 'fork',

      // Graceful shutdown: pm2 sends SIGINT; the bot stops taking updates, finishes the ones and
      // the Telegram calls in flight, and closes the database. It gives up itself after 10 s, the same
      // limit after which pm2 kills it (a killed bot loses nothing: the outbox resumes on start).
      kill_timeout: 10000,

      // A leak never takes the server down: restart above 300 MB (the bot uses about 130 MB).
      max_memory_restart: '300M',

      // Restarts after a crash wait 1 s, then 1.5×, 2.25×… up to 15 s (pm2's cap; back to 1 s after
      // 30 s of uptime), so a bot that cannot reach Telegram at boot comes back by itself once the
      // connection does. pm2 gives up ("errored" in pm2 status; pm2 logs subscription-bot says why)
      // only on a crash loop right after `pm2 start`: max_restarts exits, each within min_uptime.
      exp_backoff_restart_delay: 1000,
      max_restarts: 10,
      min_uptime: 5000,
      // Under pm2 the bot never falls back to the playground: without a BOT_TOKEN it exits with one
      // sentence (exit code 1, "errored" in pm2 status) instead of looking "online" while no bot runs.
      env: { SUBSCRIPTION_BOT_LIVE: '1' },
      // Exit code 0 is a deliberate stop; restarting it would only print the same again.
      stop_exit_codes: [0],

      // Logs in this folder: logs/out.log (the bot's JSON log lines, and build errors) and
      // logs/error.log (start-up messages and problems), each line prefixed with pm2's time.
      // `pm2 logs subscription-bot` shows both; rotate them with `pm2 install pm2-logrotate`.
      out_file: 'logs/out.log',
      error_file: 'logs/error.log',
      merge_logs: true,
      time: true,
    },
    ...(setting('LITESTREAM_REPLICA_URL') === undefined
      ? []
      : [
          {
            name: 'subscription-bot-litestream',
            cwd: __dirname,
            script: '/bin/sh',
            args: ['-c', litestreamCommand()],
            interpreter: 'none',
            // One Litestream per database: a second would start its own generation.
            instances: 1,
            exec_mode: 'fork',
            // On SIGINT Litestream uploads what it has not yet, then exits.
            kill_timeout: 10000,
            // Restarts after an exit (a wrong LITESTREAM_* setting: the log says which) wait 1 s, then longer, up to 15 s.
            exp_backoff_restart_delay: 1000,
            // Logs: logs/litestream-error.log has Litestream's JSON lines (it writes to stderr).
            out_file: 'logs/litestream-out.log',
            error_file: 'logs/litestream-error.log',
            merge_logs: true,
            time: true,
          },
        ]),
  ],
};
