import { spawn } from 'node:child_process';

/**
 * A tiny Language Server Protocol client for tests: runs a server over stdio, frames JSON-RPC
 * messages with Content-Length headers, answers the server's own requests, and keeps every
 * notification, so a test can wait for one that may already have arrived.
 */
export interface LspClient {
  /** Sends a request; rejects with the server's error, or after `timeoutMs` (default 30 s). */
  request<T>(method: string, params: unknown, timeoutMs?: number): Promise<T>;
  notify(method: string, params: unknown): void;
  /**
   * The first notification `method` whose params pass `match`, among those received after the
   * first `after` notifications (see {@link notificationCount}; default 0, all of them), whether it
   * came before or after the call. Rejects after `timeoutMs` listing those that did arrive.
   */
  notification<T>(method: string, match: (params: T) => boolean, timeoutMs: number, after?: number): Promise<T>;
  /** How many notifications have arrived so far: pass it as `after` to wait for a later one. */
  notificationCount(): number;
  /** What the server wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Asks the server to shut down and exit, kills it when it has not exited after 2 s. Never throws. */
  stop(): Promise<void>;
}

export interface StartLspOptions {
  command: string;
  args: string[];
  cwd: string;
  /** The result for a request from the server (e.g. workspace/configuration); default null. */
  onRequest?: (method: string, params: unknown) => unknown;
}

interface Message {
  jsonrpc: '2.0';
  id?: number | string;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Waiter = { method: string; match: (params: never) => boolean; resolve: (params: unknown) => void };

export function startLspServer({ command, args, cwd, onRequest = () => null }: StartLspOptions): LspClient {
  const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let nextId = 1;
  let buffer = Buffer.alloc(0);
  let errors = '';
  let exited: Error | undefined;
  const pending = new Map<number | string, Pending>();
  const received: Message[] = [];
  const waiters = new Set<Waiter>();

  const send = (message: Omit<Message, 'jsonrpc'>) => {
    if (exited || !child.stdin.writable) return;
    const body = JSON.stringify({ jsonrpc: '2.0', ...message });
    child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };

  const handle = (message: Message) => {
    if (message.method !== undefined && message.id !== undefined) {
      send({ id: message.id, result: onRequest(message.method, message.params) ?? null });
    } else if (message.method !== undefined) {
      received.push(message);
      for (const waiter of waiters) {
        if (waiter.method === message.method && waiter.match(message.params as never)) waiter.resolve(message.params);
      }
    } else if (message.id !== undefined) {
      const request = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) request?.reject(new Error(`${message.error.message} (${message.error.code})`));
      else request?.resolve(message.result);
    }
  };

  child.stdout.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: *(\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
      const start = headerEnd + 4;
      if (buffer.length < start + length) return;
      const body = buffer.subarray(start, start + length).toString('utf8');
      buffer = buffer.subarray(start + length);
      handle(JSON.parse(body) as Message);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  // A server that dies mid-write or cannot start fails the pending requests, not the test process.
  child.stdin.on('error', (error) => (errors += `\n(stdin: ${error.message})`));
  const exit = new Promise<void>((resolve) => {
    const gone = (why: string) => {
      exited ??= new Error(`the language server ${why}: ${errors.slice(-2000)}`);
      for (const request of pending.values()) request.reject(exited);
      pending.clear();
      resolve();
    };
    child.on('error', (error) => gone(`could not start (${error.message})`));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
  });

  const deadline = <T>(promise: Promise<T>, ms: number, what: () => string) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)));
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };

  const request = <T>(method: string, params: unknown, timeoutMs = 30_000): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    const answer = new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    send({ id, method, params });
    return deadline(answer, timeoutMs, () => `no answer to ${method} within ${timeoutMs} ms; stderr: ${errors.slice(-2000)}`);
  };

  return {
    request,
    notify(method: string, params: unknown): void {
      send({ method, params });
    },
    notification<T>(method: string, match: (params: T) => boolean, timeoutMs: number, after = 0): Promise<T> {
      const already = received.slice(after).find((m) => m.method === method && match(m.params as T));
      if (already) return Promise.resolve(already.params as T);
      let waiter: Waiter | undefined;
      const arrival = new Promise<T>((resolve) => {
        waiter = { method, match: match as (params: never) => boolean, resolve: resolve as (params: unknown) => void };
        waiters.add(waiter);
      });
      const seen = () =>
        received
          .slice(after)
          .filter((m) => m.method === method)
          .map((m) => JSON.stringify(m.params));
      return deadline(arrival, timeoutMs, () => `no matching ${method} within ${timeoutMs} ms; received: ${seen().join('\n') || 'none'}`).finally(
        () => waiter && waiters.delete(waiter),
      );
    },
    notificationCount: () => received.length,
    stderr: () => errors,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const bye = (async () => {
        await request('shutdown', null, 2_000).catch(() => undefined);
        send({ method: 'exit' });
        await exit;
      })();
      await deadline(bye, 2_000, () => 'the language server did not exit').catch(() => {
        child.kill('SIGKILL');
        return exit;
      });
    },
  };
}
