import { Worker } from 'node:worker_threads';

export interface LoadPlan {
  url: string;
  /** One POST per body, in order. */
  bodies: string[];
  /** Signs each body with X-AiPay-Signature, as AiPay does. */
  secret?: string;
  /** Closed loop: this many requests in flight (default 16). */
  concurrency?: number;
  /** Open loop: requests per second instead, whatever the answers take. */
  rate?: number;
}

export interface LoadResult {
  latencies: number[];
  seconds: number;
  /** How many answers had each HTTP status. */
  statuses: Record<number, number>;
}

/** Sends `plan` from a worker thread; resolves when every answer arrived. */
export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: plan });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
