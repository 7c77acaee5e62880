import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

/**
 * A path as the operator should read it: relative to the current folder when it is inside it
 * (`data/backups/bot-20260314-101500.db`), else absolute.
 */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, resolve(cwd, path));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(cwd, path);
}

/**
 * A path the operator typed on the command line. `npm run x -- file` runs in the project folder,
 * whatever folder it was typed in; npm passes that folder as INIT_CWD, so a relative path is
 * looked up there first, then in the project folder.
 */
export function resolveTypedPath(path: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (isAbsolute(path)) return path;
  const initCwd = env.INIT_CWD;
  if (initCwd && initCwd !== cwd) {
    const fromInit = resolve(initCwd, path);
    if (existsSync(fromInit) || !existsSync(resolve(cwd, path))) return fromInit;
  }
  return resolve(cwd, path);
}

/** `1.4 MB`, `312 KB`, `980 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
