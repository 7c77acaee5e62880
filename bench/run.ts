import { webhookBench } from './webhook.bench.js';

/** `npm run bench`: every benchmark, each with its baselines measured in the same run. */
async function main(): Promise<void> {
  console.log(`Node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
  console.log('| measurement | result | ratio |\n| --- | --- | --- |');
  for (const line of await webhookBench()) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
