import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A `pm2` command in `dir/bin` that records its arguments and answers `jlist` with `list` (after
 * a notice line, as pm2 sometimes prints). Put `env.PATH` first on PATH; `env.PM2_HOME` is
 * `dir/pm2home`, with an rpc.sock only when `daemon` is true (pm2Control asks pm2 only then).
 */
export function fakePm2(dir: string, list: Array<{ name: string; status: string }>, daemon = true): { env: { PATH: string; PM2_HOME: string }; calls: () => string[] } {
  const bin = join(dir, 'bin');
  const home = join(dir, 'pm2home');
  mkdirSync(bin, { recursive: true });
  mkdirSync(home, { recursive: true });
  if (daemon) writeFileSync(join(home, 'rpc.sock'), '');
  const log = join(dir, 'pm2-calls.txt');
  const jlist = JSON.stringify(list.map((p) => ({ name: p.name, pm2_env: { status: p.status } })));
  writeFileSync(
    join(bin, 'pm2'),
    `#!${process.execPath}\nconst fs = require('node:fs');\nconst args = process.argv.slice(2);\nfs.appendFileSync(${JSON.stringify(log)}, args.join(' ') + '\\n');\nif (args[0] === 'jlist') process.stdout.write(${JSON.stringify(`[PM2] a notice first\n${jlist}\n`)});\n`,
  );
  chmodSync(join(bin, 'pm2'), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, PM2_HOME: home },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}
