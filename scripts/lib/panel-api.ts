/**
 * The panel's API as a script uses it (the demo, benches, end-to-end tests): finds the panel
 * through the devhost's web UI, as a browser would, and calls it with the host-issued token.
 */
export interface PanelApi {
  readonly url: string;
  get<T = unknown>(path: string): Promise<T>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
}

export class PanelApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** The panel of `webUrl`'s node (the devhost UI address with its `?t=` token). */
export async function panelApi(webUrl: string, signal?: AbortSignal): Promise<PanelApi> {
  const web = new URL(webUrl);
  const res = await fetch(new URL('/api/panels/kinfolder/folders/frame', web), { headers: { 'x-devhost-token': web.searchParams.get('t') ?? '' }, signal });
  const body = (await res.json()) as { src?: string; error?: { message: string } };
  if (!res.ok || !body.src) throw new Error(`no Kinfolder panel at ${web.origin}: ${body.error?.message ?? res.status}`);
  const src = new URL(body.src);
  const token = new URLSearchParams(src.hash.slice(1)).get('token') ?? new URLSearchParams(src.hash.slice(1)).get('t') ?? '';
  const base = `${src.origin}/`;
  const call = async <T>(method: string, p: string, payload?: unknown): Promise<T> => {
    const r = await fetch(new URL(p.replace(/^\//, ''), base), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      signal,
    });
    const text = await r.text();
    const json = text && (r.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    if (!r.ok) throw new PanelApiError(r.status, json?.error?.code ?? 'HTTP', json?.error?.message ?? String(text).slice(0, 200));
    return json as T;
  };
  return { url: base, get: (p) => call('GET', p), post: (p, b) => call('POST', p, b) };
}

/** Calls `f` until it returns something other than undefined; retries on errors too; fails after `ms`. */
export async function poll<T>(f: () => Promise<T | undefined>, what: string, ms = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
