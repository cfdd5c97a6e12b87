import * as http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FolderService } from '../folders/types';
import { PanelError, toHttpError } from './errors';
import { EventHub, upgradeToken } from './events';
import { match } from './routes';
import { staticFile } from './static';

const MAX_BODY = 64 * 1024;
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface PanelServerOptions {
  host?: '127.0.0.1';
  port?: number;
  /** The folder service the API serves; the API answers 503 UNAVAILABLE until there is one (see `setService`). */
  service?: FolderService;
  /** The older status page's data at GET /api/status; called per request. */
  status?: () => Promise<unknown>;
}

export interface PanelServer {
  readonly url: string;
  readonly port: number;
  /** The token the host hands the embedded panel; the API accepts only the latest one. */
  setToken(token: string): void;
  /** Serve this folder service from now on (open event sockets are closed so they reconnect to it). */
  setService(service: FolderService): void;
  close(): Promise<void>;
}

function sameToken(given: string, expected: string): boolean {
  const x = Buffer.from(given);
  const y = Buffer.from(expected);
  // Length is not secret (the host's tokens have a fixed size); the content comparison is constant-time.
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** True when the Host header names this server on loopback: any other name is a DNS-rebinding page. */
function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  const m = /^(\[[0-9a-f:]+\]|[^:]+)(?::(\d+))?$/i.exec((hostHeader ?? '').trim());
  return m !== null && LOOPBACK_NAMES.has(m[1].toLowerCase()) && Number(m[2] ?? 80) === port;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const e = toHttpError(err);
  sendJson(res, e.status, { error: { code: e.code, message: e.message } });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new PanelError('TOO_LARGE', `the body is larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new PanelError('TOO_LARGE', `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  // A form post from another page cannot send this type without a CORS preflight, which we never grant.
  if (type !== 'application/json') throw new PanelError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new PanelError('BAD_INPUT', 'the body is not valid JSON');
  }
}

/**
 * The panel's server on loopback: the static page (ui-panel/), a JSON API over the folder service,
 * and a WebSocket of its events. Every /api path needs the host-issued panel token
 * (`Authorization: Bearer <token>`; the WebSocket takes it as a subprotocol or `?t=`).
 */
export async function startPanelServer(opts: PanelServerOptions = {}): Promise<PanelServer> {
  let token = '';
  let service = opts.service;
  const closing = new AbortController();
  const hub = new EventHub(service);
  let port = 0;

  const csp = (hostHeader: string) =>
    [
      "default-src 'self'",
      `connect-src 'self' ws://${hostHeader}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      // The host's UI embeds the panel from its own loopback port.
      "frame-ancestors 'self' http://127.0.0.1:* http://localhost:*",
    ].join('; ');

  /** Throws unless the request may use the API: the right Host, a token issued, and that token presented. */
  function admit(req: http.IncomingMessage, presented: string): void {
    if (!hostAllowed(req.headers.host, port)) throw new PanelError('BAD_HOST', 'the Host header does not name this loopback server');
    // The host lists the panel a moment before its RegisterPanel reply (and so the token)
    // reaches us: in that window say "not yet", not "wrong token".
    if (token === '') throw new PanelError('UNAVAILABLE', 'the panel is not registered with the host yet; try again');
    if (!sameToken(presented, token)) throw new PanelError('UNAUTHENTICATED', 'missing or wrong panel token');
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!url.pathname.startsWith('/api/')) {
      if (!hostAllowed(req.headers.host, port)) throw new PanelError('BAD_HOST', 'the Host header does not name this loopback server');
      const file = req.method === 'GET' || req.method === 'HEAD' ? await staticFile(url.pathname) : undefined;
      if (!file) throw new PanelError('NOT_FOUND', `no such page: ${url.pathname}`);
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'content-security-policy': csp(req.headers.host ?? '') });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    admit(req, (req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    if (url.pathname === '/api/status' && req.method === 'GET' && opts.status) {
      return sendJson(res, 200, await opts.status().catch((err: Error) => {
        throw new PanelError('UNAVAILABLE', err.message);
      }));
    }
    const { route, params } = match(req.method ?? 'GET', url.pathname);
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (!service) throw new PanelError('NO_FOLDER_SERVICE', 'the folder service is not running in this sidecar yet');
    // A request whose browser went away stops its work (a scan, a signature) with it.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const result = await route.handle({ service, params, query: url.searchParams, body, signal: AbortSignal.any([gone.signal, closing.signal]) });
    if ('bytes' in result) {
      if (res.headersSent) return;
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/octet-stream', 'content-length': result.bytes.length });
      res.end(result.bytes);
      return;
    }
    sendJson(res, result.status ?? 200, result.json);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendError(res, err);
      // An unread oversized body: do not keep reading it.
      if (err instanceof PanelError && err.code === 'TOO_LARGE') res.on('finish', () => req.destroy());
    });
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    try {
      if (url.pathname !== '/api/events') throw new PanelError('NOT_FOUND', `no WebSocket at ${url.pathname}`);
      admit(req, upgradeToken(req, url.searchParams));
    } catch (err) {
      const e = toHttpError(err);
      const body = JSON.stringify({ error: { code: e.code, message: e.message } });
      socket.end(`HTTP/1.1 ${e.status} ${http.STATUS_CODES[e.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    hub.accept(req, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    setToken(t) {
      token = t;
    },
    setService(s) {
      service = s;
      hub.setService(s);
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        hub.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
