import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from './api-dispatcher.js';
import { parseMultipart, type UploadedFile } from './parse-multipart.js';
import { RequestParams } from './request-params.js';
import type { TelegramWorld } from './world.js';

/** Bodies above this are refused with 413, like Telegram's 50 MB upload limit. */
const MAX_BODY_BYTES = 50 * 1024 * 1024;

/** Options for {@link startApiServer}. */
export interface ApiServerOptions {
  token: string;
  host: string;
  port: number;
  dispatch: Dispatcher;
  /** Serves `/file/bot<token>/<file_path>` downloads. */
  world: TelegramWorld;
}

/** The running HTTP server. */
export interface ApiServer {
  /** `http://host:port`, no trailing slash. */
  apiRoot: string;
  /** Closes the server, dropping held (hang) requests and open keep-alive connections. */
  close(): Promise<void>;
}

/**
 * Serves the Bot API at `{apiRoot}/bot{token}/{method}`: POST with a JSON, url-encoded or
 * multipart body, or GET with a query string (both merged, the body winning). Answers
 * `401 Unauthorized` for another token and `404 Not Found` for other paths.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const held = new Set<ServerResponse>();
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    const handling = handle(req, res)
      .catch((error: unknown) => {
        if (!res.headersSent) {
          send(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${String(error)}` });
        } else res.destroy();
      })
      .finally(() => inFlight.delete(handling));
    inFlight.add(handling);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (file && req.method === 'GET') {
      if (file[1] !== options.token) return send(res, 401, unauthorized());
      const path = decodeURIComponent(file[2]!);
      const stored = [...options.world.files.values()].find((f) => f.file_path === path);
      if (!stored?.bytes) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      res.writeHead(200, { 'content-type': stored.mime_type ?? 'application/octet-stream' });
      res.end(stored.bytes);
      return;
    }
    const match = /^\/bot([^/]+)\/([^/]*)$/.exec(url.pathname);
    if (!match) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== options.token) return send(res, 401, unauthorized());
    const method = match[2]!;

    let raw: Record<string, unknown> = Object.fromEntries(url.searchParams);
    let typedKeys = new Set<string>();
    let files = new Map<string, UploadedFile>();
    if (req.method === 'POST') {
      const body = await readBody(req);
      if (body === undefined) return send(res, 413, { ok: false, error_code: 413, description: 'Request Entity Too Large' });
      const contentType = (req.headers['content-type'] ?? '').toLowerCase();
      if (body.length > 0) {
        if (contentType.startsWith('application/json')) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(body.toString('utf8'));
          } catch {
            return send(res, 400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON object" });
          }
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
            raw = { ...raw, ...(parsed as Record<string, unknown>) };
            typedKeys = new Set(Object.keys(parsed));
          }
        } else if (contentType.startsWith('multipart/form-data')) {
          const multipart = parseMultipart(body, req.headers['content-type'] ?? '');
          raw = { ...raw, ...multipart.fields };
          files = multipart.files;
        } else {
          raw = { ...raw, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
        }
      }
    }

    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const outcome = await options.dispatch(method, new RequestParams(raw, files), recordable(raw, files, typedKeys), abort.signal);
    if (outcome.kind === 'hang') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (outcome.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (abort.signal.aborted) return;
    send(res, outcome.status, outcome.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    apiRoot: `http://${host}:${address.port}`,
    async close() {
      for (const res of held) res.destroy();
      held.clear();
      // Let answers already decided (a released long poll) reach the client before cutting
      // connections; anything still running after a second is cut anyway.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, 1000);
        }),
      ]);
      clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function unauthorized(): Record<string, unknown> {
  return { ok: false, error_code: 401, description: 'Unauthorized' };
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Parameters as recorded in `calls`: uploads replaced by `{ upload: filename, size }`, and values
 * that arrived as strings (query, form, multipart) decoded the way the Bot API reads them
 * (integers, booleans, JSON objects), so that `calls` look the same however the client sent them.
 */
function recordable(
  raw: Record<string, unknown>,
  files: Map<string, UploadedFile>,
  typedKeys: Set<string>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string' && value.startsWith('attach://')) {
      const file = files.get(value.slice('attach://'.length));
      result[key] = file ? { upload: file.filename, size: file.bytes.length } : value;
    } else if (typeof value === 'string' && !typedKeys.has(key)) {
      result[key] = decodeFormValue(value);
    } else {
      result[key] = value;
    }
  }
  for (const [name, file] of files) {
    if (!Object.values(raw).includes(`attach://${name}`)) result[name] = { upload: file.filename, size: file.bytes.length };
  }
  return result;
}

function decodeFormValue(value: string): unknown {
  if (/^-?\d{1,15}$/.test(value)) return Number(value);
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value.startsWith('{') || value.startsWith('[')) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}
