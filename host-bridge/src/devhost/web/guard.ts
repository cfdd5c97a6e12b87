/**
 * Who may talk to the UI: the right Host (a DNS-rebinding page sends its own name), the right
 * Origin on WebSockets and writes (browsers do not apply CORS to WebSockets), and the UI token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN_HEADER = 'x-devhost-token';
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The origins a page served by this UI can have. */
export function allowedOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
}

/** True when the Host header names this loopback server (any other name means a rebinding page). */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const m = /^(\[[0-9a-f:]+\]|[^:]+)(?::(\d+))?$/i.exec(host.trim());
  if (!m) return false;
  const name = m[1].toLowerCase();
  const hostPort = m[2] === undefined ? 80 : Number(m[2]);
  return LOOPBACK_NAMES.has(name) && hostPort === port;
}

export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  return origin !== undefined && allowedOrigins(port).includes(origin.toLowerCase());
}

/** The token a request carries: the `x-devhost-token` header, `Authorization: Bearer`, or `?t=`. */
export function presentedToken(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const header = headers[TOKEN_HEADER];
  if (typeof header === 'string' && header) return header;
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (m) return m[1];
  }
  return query.get('t') ?? undefined;
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Length is not secret (tokens are fixed-size); the content comparison is constant-time.
  return a.length === b.length && timingSafeEqual(a, b);
}
