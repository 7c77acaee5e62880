/** One uploaded file from a multipart/form-data body. */
export interface UploadedFile {
  /** The part's `filename` (grammY sends it unquoted). */
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/** The fields and files of a multipart/form-data body. */
export interface MultipartBody {
  fields: Record<string, string>;
  /** Files by part name (grammY names them with random ids referenced as `attach://<id>`). */
  files: Map<string, UploadedFile>;
}

/**
 * Parses a multipart/form-data body. Written by hand because grammY writes part headers without
 * spaces and with an unquoted `filename` (`content-disposition:form-data;name="x";filename=a.pdf`),
 * which undici's `Request.formData()` refuses. Throws if the boundary is missing.
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartBody {
  const boundary = headerParam(contentType, 'boundary');
  if (!boundary) throw new Error('multipart/form-data without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: Record<string, string> = {};
  const files = new Map<string, UploadedFile>();

  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    pos += delimiter.length;
    // `--` after a delimiter closes the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd === -1) break;
    const headers = parseHeaders(body.subarray(pos, headerEnd).toString('utf8'));
    const contentStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), contentStart);
    const contentEnd = next === -1 ? body.length : next;
    const content = body.subarray(contentStart, contentEnd);
    const disposition = headers.get('content-disposition') ?? '';
    const name = headerParam(disposition, 'name');
    if (name !== undefined) {
      const filename = headerParam(disposition, 'filename');
      if (filename !== undefined) {
        files.set(name, {
          filename,
          contentType: headers.get('content-type') ?? 'application/octet-stream',
          bytes: Buffer.from(content),
        });
      } else {
        fields[name] = content.toString('utf8');
      }
    }
    pos = next === -1 ? -1 : next + 2;
  }
  return { fields, files };
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** Reads `key=value` or `key="value"` from a header such as Content-Disposition. */
function headerParam(header: string, key: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim().toLowerCase() !== key) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}
