import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * Limits that keep slow or idle connections from holding the process's file descriptors: a client
 * that sends its headers one line every few seconds (slow loris) is cut off, and past the limit new
 * connections are closed at once instead of exhausting descriptors the database needs.
 */
export interface ServerLimits {
  /** Time for a request's headers to arrive, counted from the connection (default: 10 000 ms). */
  headersTimeoutMs?: number;
  /** Time for a whole request, body included, to arrive; at least headersTimeoutMs (default: 20 000 ms). */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open (default: 5 000 ms). */
  keepAliveTimeoutMs?: number;
  /** Connections open at once; more are closed as they arrive (default: 256). */
  maxConnections?: number;
}

export const DEFAULT_SERVER_LIMITS: Required<ServerLimits> = { headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 5_000, maxConnections: 256 };

export interface StartServerOptions {
  /** 0 = any free port. */
  port: number;
  /** Interface to listen on (default: '127.0.0.1': only programs on this machine, like the reverse proxy). */
  host?: string;
  limits?: ServerLimits;
}

/**
 * An HTTP server for `app` (express), listening with {@link ServerLimits}. Resolves once it listens;
 * rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL) otherwise.
 */
export function startServer(app: RequestListener, o: StartServerOptions): Promise<Server> {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...o.limits };
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts only this often (by default every 30 s, which would let a slow
      // client keep its connection 30 s past the limit).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    app,
  );
  server.maxConnections = limits.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
