// Runs a compiled entry point, building dist/ with TypeScript first only when its inputs changed
// since the last build. `npm start`, `npm run validate`, doctor, backup and restore thus start at
// once instead of compiling every time (`npm ci` builds through `prepare`; `git pull` changes files).
//
//   node src/cli/run-built.mjs dist/src/cli/validate.js [args…]   build if stale, then run it, in this process
//   node src/cli/run-built.mjs                                    build if stale
//   node src/cli/run-built.mjs --force                            build anyway (`npm run build`)
//
// A successful build records a fingerprint of its inputs (every file's path, size and mtime under
// src/ and bench/, the tsconfig files and package-lock.json) in dist/.build-stamp: an edited, new,
// deleted or renamed file changes it. The entry runs in this same process (one Node.js start, not
// two), with process.argv as if it had been started directly. A failed build exits with tsc's code
// and leaves the stamp as it was, so the next run builds again. Plain JavaScript on purpose: it
// must run before anything is compiled.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const stampPath = join(root, 'dist', '.build-stamp');
/** What tsconfig.build.json compiles, and what decides how. */
const inputs = ['src', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function fingerprint() {
  const lines = [];
  const walk = (rel) => {
    const abs = join(root, rel);
    if (!existsSync(abs)) return lines.push(`${rel}\tmissing`);
    const st = statSync(abs);
    if (!st.isDirectory()) return lines.push(`${rel}\t${st.size}\t${st.mtimeMs}`);
    for (const name of readdirSync(abs).sort()) walk(join(rel, name));
  };
  inputs.forEach(walk);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Builds when forced or stale; returns tsc's exit code (0 when nothing had to be done). */
function buildIfStale(force) {
  const before = fingerprint();
  const stamp = existsSync(stampPath) ? readFileSync(stampPath, 'utf8').trim() : '';
  if (!force && stamp === before) return 0;
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    console.error('TypeScript is not installed, so the bot cannot be built. Run `npm ci` (not with --omit=dev or NODE_ENV=production).');
    return 1;
  }
  if (!force) console.error('The code changed since the last build: building it first (once, about half a minute)…');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return build.status ?? 1;
  // The fingerprint from before the build: a file saved during the build is seen next time.
  mkdirSync(dirname(stampPath), { recursive: true });
  writeFileSync(stampPath, `${before}\n`);
  return 0;
}

const args = process.argv.slice(2);
const force = args[0] === '--force';
const status = buildIfStale(force);
if (status !== 0) process.exit(status);
const entry = force ? undefined : args[0];
if (entry !== undefined) {
  const path = resolve(root, entry);
  process.argv = [process.argv[0], path, ...args.slice(1)];
  await import(pathToFileURL(path).href);
}
