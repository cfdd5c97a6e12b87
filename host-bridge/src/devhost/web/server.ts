/** The devhost's web UI: a loopback HTTP server for the page and its JSON API, plus a WebSocket for live changes. */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { handleApi } from './api';
import { loadAssets, type Asset } from './assets';
import type { DevhostUiBackend } from './backend';
import { WebError } from './errors';
import { allowedOrigins, isAllowedHost, isAllowedOrigin, presentedToken, tokenMatches } from './guard';
import { LiveHub } from './live';

export interface DevhostWebOptions {
  backend: DevhostUiBackend;
  /** Loopback only: '127.0.0.1' (default), 'localhost' or '::1'. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The UI token; one is generated when absent. URL-safe characters, 16 to 256 of them. */
  token?: string;
  signal?: AbortSignal;
}

export interface DevhostWeb {
  /** `http://127.0.0.1:<port>/?t=<token>`: the address to open (it carries the token). */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK_BIND = new Set(['127.0.0.1', 'localhost', '::1']);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;
const MAX_BODY_BYTES = 256 * 1024;

const COMMON_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function pageCsp(port: number): string {
  const ws = allowedOrigins(port).map((o) => o.replace(/^http/, 'ws'));
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${ws.join(' ')}`,
    // Panels are served by sidecars on other loopback ports (proto: RegisterPanelRequest.url).
    'frame-src http://127.0.0.1:* http://localhost:* http://[::1]:* https://127.0.0.1:* https://localhost:* https://[::1]:*',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function sendJson(res: ServerResponse, status: number, body?: unknown): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, COMMON_HEADERS).end();
    return;
  }
  const data = JSON.stringify(body);
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8' }).end(data);
}

const NO_TOKEN_PAGE = `<!doctype html><meta charset="utf-8"><title>Kinfolder devhost</title>
<body style="font-family:system-ui,sans-serif;max-width:36em;margin:15vh auto;color:#1d2330;line-height:1.5">
<h1 style="font-size:20px">This page needs its access token</h1>
<p>Open the address the devhost printed when it started: it ends in <code>/?t=…</code>.</p>`;

function sendError(res: ServerResponse, err: WebError): void {
  const headers: Record<string, string> = { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8' };
  if (err.code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer realm="devhost"';
  res.writeHead(err.status, headers).end(JSON.stringify({ error: { code: err.code, message: err.message } }));
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) throw new WebError('PAYLOAD_TOO_LARGE', `bodies are at most ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new WebError('PAYLOAD_TOO_LARGE', `bodies are at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  // Requiring JSON keeps plain HTML forms (no preflight) from posting here.
  if (!/^application\/json\b/i.test(type)) throw new WebError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new WebError('INVALID_ARGUMENT', 'the body is not valid JSON');
  }
}

function rejectUpgrade(socket: Duplex, status: number, err: WebError): void {
  const body = JSON.stringify({ error: { code: err.code, message: err.message } });
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function startDevhostWeb(options: DevhostWebOptions): Promise<DevhostWeb> {
  const { backend, signal } = options;
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_BIND.has(host)) throw new WebError('INVALID_ARGUMENT', `the web UI listens on loopback only, not ${host}`);
  const token = options.token ?? randomBytes(24).toString('base64url');
  if (!TOKEN_SHAPE.test(token)) throw new WebError('INVALID_ARGUMENT', 'token must be 16 to 256 URL-safe characters');
  signal?.throwIfAborted();

  const assets: Map<string, Asset> = await loadAssets(token);
  let port = 0;
  let uiOrigins: string[] = [];

  // Host, then token: a rebinding page must not even learn whether its guess of the token was right.
  function guard(req: IncomingMessage, query: URLSearchParams): WebError | undefined {
    if (!isAllowedHost(req.headers.host, port)) return new WebError('BAD_HOST', 'this UI answers only to 127.0.0.1 or localhost');
    if (!tokenMatches(presentedToken(req.headers, query), token)) {
      return new WebError('UNAUTHENTICATED', 'missing or wrong UI token: open the URL the devhost printed');
    }
    return undefined;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const denied = guard(req, url.searchParams);
    const method = req.method ?? 'GET';
    if (denied?.code === 'UNAUTHENTICATED' && url.pathname === '/' && method === 'GET' && /text\/html/.test(req.headers.accept ?? '')) {
      // A person who opened the bare address: tell them what to do instead of showing JSON.
      res.writeHead(401, { ...COMMON_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" });
      return void res.end(NO_TOKEN_PAGE);
    }
    if (denied) return sendError(res, denied);

    if (url.pathname.startsWith('/api/')) {
      // A browser page elsewhere cannot set our header without a preflight we never answer; checking
      // Origin too means a leaked token alone does not let another site write.
      const origin = req.headers.origin;
      if (method !== 'GET' && origin !== undefined && !isAllowedOrigin(origin, port)) {
        return sendError(res, new WebError('BAD_ORIGIN', `requests from ${origin} are not accepted`));
      }
      const body = method === 'GET' || method === 'HEAD' ? undefined : await readJsonBody(req);
      const out = await handleApi({ backend, uiOrigins }, { method, path: url.pathname.slice(4), query: url.searchParams, body });
      return sendJson(res, out.status, out.body);
    }

    const asset = assets.get(url.pathname);
    if (!asset) throw new WebError('NOT_FOUND', `no such page: ${url.pathname}`);
    if (method !== 'GET' && method !== 'HEAD') throw new WebError('METHOD_NOT_ALLOWED', `${method} is not allowed here`);
    const headers: Record<string, string> = { ...COMMON_HEADERS, 'content-type': asset.contentType };
    if (url.pathname === '/') headers['content-security-policy'] = pageCsp(port);
    res.writeHead(200, headers).end(method === 'HEAD' ? undefined : asset.body);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      const webErr = err instanceof WebError ? err : new WebError('INTERNAL', err instanceof Error ? err.message : String(err));
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // An unread body would otherwise be parsed as the next request on a kept-alive socket.
      if (!req.complete) res.setHeader('connection', 'close');
      sendError(res, webErr);
    });
  });

  const hub = new LiveHub(backend);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/ws') return rejectUpgrade(socket, 404, new WebError('NOT_FOUND', 'WebSocket lives at /ws'));
    const denied = guard(req, url.searchParams);
    if (denied) return rejectUpgrade(socket, denied.status, denied);
    // Browsers always send Origin on a WebSocket and apply no CORS to it: this is the CSWSH guard.
    if (!isAllowedOrigin(req.headers.origin, port)) {
      return rejectUpgrade(socket, 403, new WebError('BAD_ORIGIN', 'the WebSocket Origin must be this UI'));
    }
    wss.handleUpgrade(req, socket, head, (ws) => hub.add(ws));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  uiOrigins = allowedOrigins(port);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      signal?.removeEventListener('abort', onAbort);
      hub.close();
      wss.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const onAbort = () => void close();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) await close();

  const shownHost = host === '::1' ? '[::1]' : host;
  return { url: `http://${shownHost}:${port}/?t=${encodeURIComponent(token)}`, port, token, close };
}
