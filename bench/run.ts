import { webhookBench } from './webhook.bench.js';
import { lifecycleBench } from './lifecycle.bench.js';
import { opsBench } from './ops.bench.js';
import { crowdBench } from './crowd.bench.js';

/** `npm run bench`: every benchmark, each with its baselines measured in the same run. */
async function main(): Promise<void> {
  console.log(`Node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
  console.log('| measurement | result | ratio |\n| --- | --- | --- |');
  const only = process.argv[2];
  if (!only || only === 'webhook') for (const line of await webhookBench()) console.log(line);
  if (!only || only === 'lifecycle') for (const line of await lifecycleBench()) console.log(line);
  if (!only || only === 'ops') for (const line of await opsBench()) console.log(line);
  if (!only || only === 'crowd') for (const line of await crowdBench()) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
