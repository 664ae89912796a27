/**
 * Test support: JSON over HTTP to the sample's services, bounded (a hung request fails the poll
 * instead of the test). Used by the in-process sample tests and the multi-process ones in test/e2e.
 */

/** One request's bound; a service on a loaded 2-core machine still answers well within it. */
export const REQUEST_TIMEOUT_MS = 20_000;

export interface JsonResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** `method url` with an optional JSON body; the answer's status and parsed JSON body (or text). */
export async function requestJson<T = unknown>(
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: response.status, body: parsed as T };
}

/** GET that must answer 200. */
export async function getJson<T>(url: string): Promise<T> {
  const response = await requestJson<T>('GET', url);
  if (response.status !== 200)
    throw new Error(`GET ${url} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}
