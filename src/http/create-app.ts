import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { sameSecret } from './same-secret.js';

export interface CreateAppOptions {
  /** Routes mounted first (the AiPay webhook with its own raw body parser). */
  routers: RequestHandler[];
  /** What /healthz reports; ok=false answers 503. */
  health: () => { ok: boolean; [key: string]: unknown };
  /** Prometheus text for /metrics, if provided. */
  metrics?: () => string;
  /**
   * Bearer token /metrics requires (401 without it). Unset: /metrics answers 404. Behind a reverse
   * proxy every request comes from 127.0.0.1, so the address cannot tell who is asking.
   */
  metricsToken?: string;
  /** Called when a body over a route's limit is refused (413). */
  onTooLarge?: () => void;
}

/** The HTTP server: feature routes, /healthz, /metrics (with its token). No global body parser. */
export function createApp(o: CreateAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // An API for machines: no ETags to hash, no query strings to parse.
  app.set('etag', false);
  app.set('query parser', false);
  for (const r of o.routers) app.use(r);
  app.get('/healthz', (_req, res) => {
    const h = o.health();
    res.status(h.ok ? 200 : 503).json(h);
  });
  if (o.metrics && o.metricsToken) {
    const { metrics, metricsToken } = o;
    app.get('/metrics', (req, res) => {
      const presented = /^Bearer (\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!sameSecret(presented, metricsToken)) {
        res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
        return;
      }
      res.type('text/plain; version=0.0.4').send(metrics());
    });
  }
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const onError: ErrorRequestHandler = (err: { status?: number; type?: string }, _req, res, _next) => {
    if (err.type === 'entity.too.large') o.onTooLarge?.();
    const status = err.type === 'entity.too.large' ? 413 : typeof err.status === 'number' && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: status === 413 ? 'body too large' : status === 500 ? 'internal error' : 'bad request' });
  };
  app.use(onError);
  return app;
}
