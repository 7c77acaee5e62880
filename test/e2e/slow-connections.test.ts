import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness | undefined;
const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearTimeout(t); // intervals and timeouts alike
  for (const s of sockets.splice(0)) s.destroy();
  await h?.stop();
  h = undefined;
});

/** Limits low enough to see within a test (the defaults are 10 s, 20 s, 5 s and 256; test/http/start-server.test.ts checks the limit itself). */
const LIMITS = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 200, maxConnections: 8 };

/** A slow-loris client: opens a connection and sends one more header line every 50 ms, never the blank line that ends them. */
function slowLoris(url: string): { socket: Socket; closedAfter: Promise<number>; answer: () => string } {
  const { hostname, port } = new URL(url);
  const opened = Date.now();
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined); // reset by the server: that is the point
  socket.on('connect', () => {
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n`);
    let n = 0;
    timers.push(setInterval(() => socket.writable && socket.write(`X-Dribble-${n++}: ${'a'.repeat(10)}\r\n`), 50));
  });
  const closedAfter = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  return { socket, closedAfter, answer: () => answer };
}

/** Retries like a webhook sender would, until an answer comes (or `withinMs` passes). */
async function eventually<T>(attempt: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const orphanPayment = { event: 'invoice.paid', invoice_id: 'inv-slow-1', external_id: 'ord-unknown', amount: 4900, paid_at: '2026-03-01T10:00:00Z' };

describe('slow and idle connections', () => {
  it('closes a connection that dribbles its headers once the headers timeout passes, answering 408', async () => {
    h = await startHarness({ app: { http: LIMITS } });
    const loris = slowLoris(h.app.url);
    const closedAfter = await Promise.race([loris.closedAfter, new Promise<number>((r) => setTimeout(() => r(Infinity), 3000))]);
    expect(closedAfter).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50);
    expect(closedAfter).toBeLessThan(2000); // still sending a line every 50 ms
    expect(loris.answer()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers a signed AiPay webhook and /healthz while slow clients keep attacking past the connection limit', async () => {
    h = await startHarness({ app: { http: LIMITS } });
    // 30 slow clients against a limit of 8; each one closed comes back 100 ms later, up to 300 in all.
    let opened = 0;
    const attack = () => {
      if (opened >= 300 || !h) return;
      opened++;
      void slowLoris(h.app.url).closedAfter.then(() => timers.push(setTimeout(attack, 100)));
    };
    for (let i = 0; i < 30; i++) attack();
    await new Promise((r) => setTimeout(r, 100));

    // Each try gives up after 500 ms and tries again, as a webhook sender does.
    const body = JSON.stringify(orphanPayment);
    const signature = h.aipay.signature(body);
    const paid = await eventually(
      () => fetch(`${h!.app.url}/webhook/aipay`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-aipay-signature': signature }, body, signal: AbortSignal.timeout(500) }),
      5000,
    );
    expect(paid.status).toBe(200);
    const health = await eventually(() => fetch(`${h!.app.url}/healthz`, { signal: AbortSignal.timeout(500) }), 5000);
    expect(health.status).toBe(200);
    opened = 300; // stop the attack
  });
});

/** An IPv4 address of this machine other than loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('where the server listens', () => {
  it.skipIf(!outside)(`listens on 127.0.0.1 unless HOST says otherwise, so only the reverse proxy reaches it${outside ? '' : ' — SKIPPED: no non-loopback address'}`, async () => {
    h = await startHarness({ app: { host: undefined } });
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
    const port = h.app.port;
    const reached = await new Promise<boolean>((resolve) => {
      const s = connect(port, outside!);
      sockets.push(s);
      s.on('connect', () => resolve(true));
      s.on('error', () => resolve(false));
    });
    expect(reached).toBe(false);
  });
});
