import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** The values in a `.env` file ({} when there is none). */
export function readEnvFile(path: string): Record<string, string> {
  return existsSync(path) ? (parseEnv(readFileSync(path, 'utf8')) as Record<string, string>) : {};
}

/**
 * Sets `values` in the `.env` file at `path`: a line `NAME=…` (also `# NAME=` or `NAME=` left
 * blank) is replaced where it is, a new name is added at the end; comments and every other line
 * stay as they were. Creates the file when missing (from `template`, e.g. .env.example, if given).
 * The file is left readable by its owner only (mode 600): it holds the bot's secrets.
 * Returns whether the file changed.
 */
export function writeEnvValues(path: string, values: Readonly<Record<string, string>>, template?: string): boolean {
  const before = existsSync(path) ? readFileSync(path, 'utf8') : template !== undefined && existsSync(template) ? readFileSync(template, 'utf8') : '';
  const lines = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  for (const [name, value] of Object.entries(values)) {
    const line = `${name}=${value}`;
    const set = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${name}\\s*=`).test(l));
    if (set >= 0) {
      lines[set] = line;
      continue;
    }
    const commented = lines.findIndex((l) => new RegExp(`^\\s*#\\s*${name}\\s*=\\s*$`).test(l));
    if (commented >= 0) lines[commented] = line;
    else lines.push(line);
  }
  const after = `${lines.join('\n')}\n`;
  const changed = !existsSync(path) || after !== before;
  if (changed) writeFileSync(path, after, { mode: 0o600 });
  chmodSync(path, 0o600);
  return changed;
}
