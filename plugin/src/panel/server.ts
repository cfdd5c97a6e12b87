import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const PANEL_DIR = path.resolve(__dirname, '../../../ui-panel');
const STATIC: Record<string, string> = { '/': 'index.html', '/index.html': 'index.html' };

export interface PanelServerOptions {
  host?: '127.0.0.1';
  port?: number;
  /** What the panel shows; called per request. */
  status: () => Promise<unknown>;
}

export interface PanelServer {
  readonly url: string;
  /** The token the host hands the embedded panel; the API accepts only the latest one. */
  setToken(token: string): void;
  close(): Promise<void>;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The panel's HTTP API on loopback: static panel files, and an API that needs the host-issued token. */
export async function startPanelServer(opts: PanelServerOptions): Promise<PanelServer> {
  let token = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = STATIC[url.pathname];
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      fs.createReadStream(path.join(PANEL_DIR, file)).pipe(res);
      return;
    }
    if (!url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such page: ${url.pathname}` } });
    // The host lists the panel a moment before its RegisterPanel reply (and so the token)
    // reaches us: in that window say "not yet", not "wrong token".
    if (token === '') return sendJson(res, 503, { error: { code: 'UNAVAILABLE', message: 'the panel is not registered with the host yet; try again' } });
    const given = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!sameToken(given, token)) return sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'missing or wrong panel token' } });
    if (req.method === 'GET' && url.pathname === '/api/status') {
      opts.status().then(
        (body) => sendJson(res, 200, body),
        (err: Error) => sendJson(res, 503, { error: { code: 'UNAVAILABLE', message: err.message } }),
      );
      return;
    }
    sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such API: ${req.method} ${url.pathname}` } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    setToken(t) {
      token = t;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
