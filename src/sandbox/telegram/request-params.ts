import { badRequest } from './api-error.js';
import type { UploadedFile } from './parse-multipart.js';

/** What a file parameter (`document`, …) refers to. */
export type FileParam =
  | { kind: 'upload'; file: UploadedFile }
  | { kind: 'file_id'; fileId: string }
  | { kind: 'url'; url: string };

/**
 * Typed access to a Bot API call's parameters, whichever way they arrived. JSON bodies carry
 * numbers, booleans and objects; query strings, url-encoded and multipart bodies carry strings
 * (objects JSON-encoded), so every reader accepts both, as the real Bot API server does.
 */
export class RequestParams {
  constructor(
    readonly raw: Record<string, unknown>,
    private readonly files: Map<string, UploadedFile> = new Map(),
  ) {}

  has(name: string): boolean {
    const v = this.raw[name];
    return v !== undefined && v !== null && v !== '';
  }

  /** A string parameter; numbers are converted. */
  string(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  }

  /** An integer parameter. Throws `Bad Request: <invalidMessage>` if it is present but not an integer. */
  int(name: string, invalidMessage = `invalid ${name} specified`): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw badRequest(invalidMessage);
    return n;
  }

  /** A boolean parameter: `true`, `"true"`, `"1"`, `1` are true. */
  bool(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    return v === 'true' || v === '1' || v === 'True';
  }

  /** A JSON-serialized parameter (object or array). Throws `Bad Request: can't parse <what>` when malformed. */
  json(name: string, what = `${name} JSON object`): unknown {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      throw badRequest(`can't parse ${what}`);
    }
  }

  /** `chat_id` as an integer or an `@username`. Throws `Bad Request: chat_id is empty` when missing. */
  chatId(name = 'chat_id'): number | string {
    const v = this.raw[name];
    if (v === undefined || v === null || v === '') throw badRequest(`${name} is empty`);
    if (typeof v === 'number') return v;
    const s = String(v).trim();
    if (/^-?\d+$/.test(s)) return Number(s);
    if (s.startsWith('@')) return s;
    throw badRequest('chat not found');
  }

  /** A file parameter: an upload (directly or via `attach://`), a file_id, or an HTTP URL. */
  file(name: string): FileParam | undefined {
    const direct = this.files.get(name);
    if (direct) return { kind: 'upload', file: direct };
    const v = this.string(name);
    if (v === undefined || v === '') return undefined;
    if (v.startsWith('attach://')) {
      const attached = this.files.get(v.slice('attach://'.length));
      if (!attached) throw badRequest(`file ${v} not found`);
      return { kind: 'upload', file: attached };
    }
    if (/^https?:\/\//i.test(v)) return { kind: 'url', url: v };
    return { kind: 'file_id', fileId: v };
  }
}
