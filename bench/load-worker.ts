import { createHmac } from 'node:crypto';
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadPlan, LoadResult } from './load.js';

/**
 * The load generator, in its own thread (and so on its own core), as AiPay is on its own machine:
 * a client sharing the server's event loop would measure the two together. Signs each body as
 * AiPay does, over keep-alive connections.
 */
const plan = workerData as LoadPlan;
const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency ?? 64 });
const url = new URL(plan.url);
const statuses: Record<number, number> = {};

function send(body: string): Promise<void> {
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (plan.secret !== undefined) headers['x-aipay-signature'] = createHmac('sha256', plan.secret).update(body).digest('hex');
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function closedLoop(concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < plan.bodies.length) {
        const body = plan.bodies[next++]!;
        const t0 = performance.now();
        await send(body);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return latencies;
}

async function openLoop(rate: number): Promise<number[]> {
  const latencies: number[] = [];
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < plan.bodies.length; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(send(plan.bodies[i]!).then(() => void latencies.push(performance.now() - t0)));
  }
  await Promise.all(pending);
  return latencies;
}

const started = performance.now();
const latencies = plan.rate !== undefined ? await openLoop(plan.rate) : await closedLoop(plan.concurrency ?? 16);
const result: LoadResult = { latencies, seconds: (performance.now() - started) / 1000, statuses };
agent.destroy();
parentPort!.postMessage(result);
