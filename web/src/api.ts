import { savedToken } from './session';

/** An answer of the API that is not a 2xx: its OpenAI-shaped error, message first. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.append(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function send(method: string, path: string, body?: unknown, token = savedToken()): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'The server could not be reached.');
  }
  if (!res.ok) {
    const json = await res.json().catch(() => null);
    const err = json?.error;
    throw new ApiError(res.status, err?.message ?? `${res.status} ${res.statusText}`, err?.code ?? null, err?.param ?? null);
  }
  return res;
}

export async function api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await send(method, path, body, token);
  return (await res.json()) as T;
}

export const get = <T = any>(path: string, query?: Query) => api<T>('GET', withQuery(path, query));

/** Fetches a file with the bearer token and hands it to the browser as a download. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await send('GET', path);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
