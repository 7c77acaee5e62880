import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_LIMITS, startServer } from '../../src/http/start-server.js';

let server: Server | undefined;
const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const s of sockets.splice(0)) s.destroy();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const ok = (_req: unknown, res: { end: (body: string) => void }) => res.end('ok');
const portOf = (s: Server) => (s.address() as { port: number }).port;

/** Opens a connection that sends one more header line every 50 ms and never finishes its headers. */
function dribble(port: number): { socket: Socket; closed: Promise<{ afterMs: number; answer: string }> } {
  const opened = Date.now();
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
    let n = 0;
    timers.push(setInterval(() => socket.writable && socket.write(`X-Line-${n++}: a\r\n`), 50));
  });
  return { socket, closed: new Promise((resolve) => socket.on('close', () => resolve({ afterMs: Date.now() - opened, answer }))) };
}

describe('startServer', () => {
  it('listens on 127.0.0.1 by default, with limits against slow clients', async () => {
    server = await startServer(ok, { port: 0 });
    expect((server.address() as { address: string }).address).toBe('127.0.0.1');
    expect(DEFAULT_SERVER_LIMITS).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 5_000, maxConnections: 256 });
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.maxConnections]).toEqual([10_000, 20_000, 5_000, 256]);
  });

  it('closes a connection that dribbles its headers when the headers timeout passes, with 408', async () => {
    server = await startServer(ok, { port: 0, limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const { afterMs, answer } = await dribble(portOf(server)).closed;
    expect(afterMs).toBeGreaterThanOrEqual(250);
    expect(afterMs).toBeLessThan(2500); // not Node's default of a minute, checked every 30 s
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('holds at most maxConnections at once, closing the rest as they arrive, and serves again once slow ones are gone', async () => {
    server = await startServer(ok, { port: 0, limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000, maxConnections: 5 } });
    let held = 0;
    let dropped = 0;
    server.on('connection', () => held++);
    server.on('drop', () => dropped++);
    const attackers = Array.from({ length: 20 }, () => dribble(portOf(server!)));
    for (let i = 0; i < 200 && held + dropped < attackers.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect({ held, dropped }).toEqual({ held: 5, dropped: 15 });
    const count = await new Promise<number>((resolve, reject) => server!.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    expect(count).toBe(5);
    await Promise.all(attackers.map((a) => a.closed));
    const answer = await fetch(`http://127.0.0.1:${portOf(server)}/`);
    expect(await answer.text()).toBe('ok');
  });
});
