/**
 * The live half of the API: a WebSocket at /api/events that forwards the folder service's events
 * as JSON text frames. Browsers cannot set headers on a WebSocket, so the token comes as a
 * subprotocol (`kinfolder-token.<token>`, offered beside `kinfolder`) or as `?t=`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Subscription } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FolderService } from '../folders/types';

export const EVENTS_PROTOCOL = 'kinfolder';
export const TOKEN_PROTOCOL_PREFIX = 'kinfolder-token.';
/** A client this far behind is dropped; on reconnect it refetches everything, which is cheaper than queueing. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** The token a WebSocket upgrade carries: the `kinfolder-token.` subprotocol, else `?t=`. */
export function upgradeToken(req: IncomingMessage, query: URLSearchParams): string {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const fromProtocol = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  if (fromProtocol) return fromProtocol.slice(TOKEN_PROTOCOL_PREFIX.length);
  return query.get('t') ?? '';
}

export class EventHub {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024,
    // Never echo the token protocol back: answer with the plain one when offered.
    handleProtocols: (protocols) => (protocols.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false),
  });
  private readonly subs = new Map<WebSocket, Subscription>();

  constructor(private service: FolderService | undefined) {}

  /** A new service (the sidecar restarted it): drop the clients so they reconnect and refetch. */
  setService(service: FolderService): void {
    this.service = service;
    for (const ws of this.subs.keys()) ws.close(1012, 'service restarted');
  }

  /** Completes an upgrade that has already passed the token check. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const service = this.service;
      if (!service) {
        ws.close(1013, 'the folder service is not running yet');
        return;
      }
      const send = (event: unknown) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED) {
          ws.close(1013, 'too far behind; reconnect and refetch');
          return;
        }
        ws.send(JSON.stringify(event));
      };
      this.subs.set(ws, service.events.subscribe({ next: send, error: () => ws.close(1011, 'the event stream failed') }));
      ws.on('close', () => this.drop(ws));
      ws.on('error', () => this.drop(ws));
      // Tells the page that events flow from here on: whatever it fetches after this is current.
      send({ type: 'ready' });
    });
  }

  private drop(ws: WebSocket): void {
    this.subs.get(ws)?.unsubscribe();
    this.subs.delete(ws);
  }

  close(): void {
    for (const ws of this.subs.keys()) ws.terminate();
    for (const s of this.subs.values()) s.unsubscribe();
    this.subs.clear();
    this.wss.close();
  }
}
