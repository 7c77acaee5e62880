import { resolve } from 'node:path';
import { loadCatalog } from '../catalog/load-catalog.js';
import { formatProblem } from '../catalog/problem.js';
import { nonEmpty, withDotEnv } from '../settings.js';

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * `npm run validate [-- path] [--strict]`: prints every problem of the catalog (errors, and
 * warnings marked "warning:"), or a one-line summary. Exits 1 on errors; warnings alone exit 0,
 * unless --strict refuses them too.
 */
function main(argv: string[]): number {
  const strict = argv.includes('--strict');
  const unknown = argv.find((a) => a.startsWith('--') && a !== '--strict');
  if (unknown !== undefined) {
    console.log(`Unknown option ${unknown} — the only option is --strict (warnings count as errors): npm run validate -- --strict [path]`);
    return 2;
  }
  const given = argv.find((a) => !a.startsWith('--'));
  // A path typed after `npm run validate --` is taken from the folder it was typed in (npm runs
  // scripts from the project folder and says where it was started in INIT_CWD).
  const path = given !== undefined ? resolve(process.env.INIT_CWD ?? '.', given) : resolve(nonEmpty(withDotEnv().CATALOG_PATH) ?? 'catalog.yaml');
  const result = loadCatalog(path);
  const problems = result.ok ? result.warnings : result.problems;
  for (const p of problems) console.log(formatProblem(p));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const again = `npm run validate${strict ? ' -- --strict' : ''} again`;
  if (result.ok && (warnings === 0 || !strict)) {
    if (warnings > 0) console.log('');
    console.log(result.summary);
    if (warnings > 0) {
      console.log(`${plural(warnings, 'warning')}: the bot accepts this catalog, but check ${warnings === 1 ? 'it' : 'them'}. (npm run validate -- --strict treats warnings as errors.)`);
    }
    return 0;
  }
  const found =
    errors === 0
      ? `${plural(warnings, 'warning')} found, and --strict accepts no warnings. Fix ${warnings === 1 ? 'it' : 'them'} and run ${again}.`
      : `${plural(errors, 'problem')}${warnings > 0 ? ` and ${plural(warnings, 'warning')}` : ''} found. Fix ${errors + (strict ? warnings : 0) === 1 ? 'it' : 'them'} and run ${again}.`;
  console.log(`\n${found}`);
  return 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(`The catalog check itself failed (${(error as Error).message}). This is a bug in the bot, not in your catalog — please report it.`);
  process.exitCode = 2;
}
