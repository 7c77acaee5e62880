import { readFile } from 'node:fs/promises';
import type { Api } from 'grammy';

/** Thrown when a file is larger than the caller accepts. */
export class FileTooLarge extends Error {
  override name = 'FileTooLarge';
}

/**
 * Downloads a file someone sent the bot: getFile, then `<apiRoot>/file/bot<token>/<path>` (a
 * self-hosted Bot API server in --local mode answers with a path on its disk, read directly).
 */
export async function downloadTelegramFile(api: Api, fileId: string, maxBytes: number, timeoutMs = 30_000): Promise<Buffer> {
  const file = await api.getFile(fileId);
  if (file.file_size !== undefined && file.file_size > maxBytes) throw new FileTooLarge(`the file has ${file.file_size} bytes; at most ${maxBytes} are accepted`);
  if (!file.file_path) throw new Error('Telegram gave no path for the file');
  let bytes: Buffer;
  if (file.file_path.startsWith('/')) {
    bytes = await readFile(file.file_path);
  } else {
    const root = api.options?.apiRoot ?? 'https://api.telegram.org';
    const res = await fetch(`${root}/file/bot${api.token}/${file.file_path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`downloading the file failed: HTTP ${res.status}`);
    bytes = Buffer.from(await res.arrayBuffer());
  }
  if (bytes.length > maxBytes) throw new FileTooLarge(`the file has ${bytes.length} bytes; at most ${maxBytes} are accepted`);
  return bytes;
}
