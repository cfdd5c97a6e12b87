/** Checks every value that comes in over HTTP before the backend sees it. Pure: data in, data or WebError out. */
import type { ChatTarget, HostPanel } from '../../adapter';
import { WebError } from './errors';

export const MAX_CHAT_TEXT = 8000;
export const MAX_CERT_CHARS = 64 * 1024;
export const MAX_ROOM_ID = 128;
export const DEFAULT_HISTORY = 200;
export const MAX_HISTORY = 1000;

const FINGERPRINT = /^[0-9A-F]{40}$/;
// Room ids are chosen by people and other nodes; keep them printable and bounded, nothing more.
const ROOM_ID = /^[^\u0000-\u001f\u007f]+$/;

export function parseFingerprint(value: unknown, field = 'peer'): string {
  if (typeof value !== 'string') throw new WebError('INVALID_ARGUMENT', `${field} must be a string`);
  const fp = value.replace(/\s+/g, '').toUpperCase();
  if (!FINGERPRINT.test(fp)) throw new WebError('INVALID_ARGUMENT', `${field} must be a 40-hex-digit fingerprint`);
  return fp;
}

export function parseRoomId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new WebError('INVALID_ARGUMENT', 'room must be a non-empty string');
  if (value.length > MAX_ROOM_ID) throw new WebError('INVALID_ARGUMENT', `room must be at most ${MAX_ROOM_ID} characters`);
  if (!ROOM_ID.test(value)) throw new WebError('INVALID_ARGUMENT', 'room must not contain control characters');
  return value;
}

/** Exactly one of `peer` and `room`, from a query string or a JSON body. */
export function parseChatTarget(peer: unknown, room: unknown): ChatTarget {
  const hasPeer = peer !== undefined && peer !== null && peer !== '';
  const hasRoom = room !== undefined && room !== null && room !== '';
  if (hasPeer === hasRoom) throw new WebError('INVALID_ARGUMENT', 'give exactly one of peer and room');
  return hasPeer ? { peer: parseFingerprint(peer) } : { room: parseRoomId(room) };
}

export function parseChatText(value: unknown): string {
  if (typeof value !== 'string') throw new WebError('INVALID_ARGUMENT', 'text must be a string');
  if (value.trim().length === 0) throw new WebError('INVALID_ARGUMENT', 'text must not be empty');
  if (value.length > MAX_CHAT_TEXT) throw new WebError('INVALID_ARGUMENT', `text must be at most ${MAX_CHAT_TEXT} characters`);
  return value;
}

export function parseCertificate(value: unknown): string {
  if (typeof value !== 'string') throw new WebError('INVALID_CERTIFICATE', 'cert must be a string');
  const cert = value.trim();
  if (cert.length === 0) throw new WebError('INVALID_CERTIFICATE', 'paste a certificate first');
  if (cert.length > MAX_CERT_CHARS) throw new WebError('INVALID_CERTIFICATE', `a certificate is at most ${MAX_CERT_CHARS} characters`);
  return cert;
}

export function parseHistoryLimit(value: string | null): number {
  if (value === null || value === '') return DEFAULT_HISTORY;
  if (!/^\d{1,6}$/.test(value)) throw new WebError('INVALID_ARGUMENT', 'limit must be a positive integer');
  const n = Number(value);
  if (n < 1 || n > MAX_HISTORY) throw new WebError('INVALID_ARGUMENT', `limit must be between 1 and ${MAX_HISTORY}`);
  return n;
}

/** A JSON body must be an object with no keys beyond `allowed`: a typo should fail loudly, not be ignored. */
export function parseObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WebError('INVALID_ARGUMENT', 'the body must be a JSON object');
  }
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new WebError('INVALID_ARGUMENT', `unknown field(s): ${extra.join(', ')}`);
  return body as Record<string, unknown>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The iframe address of a panel: its URL with `#token=<panelToken>` (proto: RegisterPanelResponse).
 * Only loopback http(s) pages are embedded, and never one on the UI's own origin: with
 * `allow-scripts allow-same-origin` such a frame could lift its sandbox and read the UI token.
 */
export function panelFrameUrl(panel: HostPanel, panelToken: string, uiOrigins: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(panel.url);
  } catch {
    throw new WebError('PANEL_URL_REFUSED', `panel ${panel.pluginId}/${panel.id} has an invalid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebError('PANEL_URL_REFUSED', `panel ${panel.pluginId}/${panel.id}: only http(s) URLs are embedded`);
  }
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    throw new WebError('PANEL_URL_REFUSED', `panel ${panel.pluginId}/${panel.id}: only loopback URLs are embedded`);
  }
  if (uiOrigins.includes(url.origin)) {
    throw new WebError('PANEL_URL_REFUSED', `panel ${panel.pluginId}/${panel.id}: a panel may not share the UI's origin`);
  }
  url.hash = `token=${encodeURIComponent(panelToken)}`;
  return url.toString();
}
