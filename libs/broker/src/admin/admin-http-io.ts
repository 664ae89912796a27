/** Reading JSON requests and writing JSON answers for the admin API (node:http, no framework). */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { StatusCode } from '../status-code.js';
import { AdminHttpError } from './admin-http-errors.js';

/** Largest admin request body (a topic, a group, a list of message ids). */
export const ADMIN_MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(limit: number): AdminHttpError {
  // The rest of the body is not read: close the connection instead of keeping it alive.
  return new AdminHttpError(413, StatusCode.PAYLOAD_TOO_LARGE, `request body larger than ${limit} bytes`, {
    connection: 'close',
  });
}

/**
 * The request body parsed as JSON; `undefined` for an empty body.
 * @throws AdminHttpError 413 (over `limit`), 415 (a body that is not `application/json`), 400 (bad JSON)
 */
export async function readJsonBody(req: IncomingMessage, limit = ADMIN_MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new AdminHttpError(
      415,
      StatusCode.BAD_REQUEST,
      `a request body must be JSON with "Content-Type: application/json", got ${JSON.stringify(type || 'none')}`,
    );
  }
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown;
  } catch (err) {
    throw new AdminHttpError(
      400,
      StatusCode.BAD_REQUEST,
      `the request body is not valid JSON: ${(err as Error).message}`,
    );
  }
}

/** Writes a JSON answer (no body for 204). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, { ...headers, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}
