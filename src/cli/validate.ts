import { resolve } from 'node:path';
import { loadCatalog } from '../catalog/load-catalog.js';
import { formatProblem } from '../catalog/problem.js';
import { nonEmpty, withDotEnv } from '../settings.js';

/** `npm run validate [-- path]`: prints every problem of the catalog, or a one-line summary. */
function main(argv: string[]): number {
  // A path typed after `npm run validate --` is taken from the folder it was typed in (npm runs
  // scripts from the project folder and says where it was started in INIT_CWD).
  const path = argv[0] !== undefined ? resolve(process.env.INIT_CWD ?? '.', argv[0]) : resolve(nonEmpty(withDotEnv().CATALOG_PATH) ?? 'catalog.yaml');
  const result = loadCatalog(path);
  if (result.ok) {
    console.log(result.summary);
    return 0;
  }
  for (const p of result.problems) console.log(formatProblem(p));
  const n = result.problems.length;
  console.log(`\n${n} problem${n === 1 ? '' : 's'} found. Fix ${n === 1 ? 'it' : 'them'} and run npm run validate again.`);
  return 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(`The catalog check itself failed (${(error as Error).message}). This is a bug in the bot, not in your catalog — please report it.`);
  process.exitCode = 2;
}
