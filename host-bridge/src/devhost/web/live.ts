/** Pushes the backend's live changes (peers, chat, panels) to every connected page over WebSocket. */
import type { Subscription } from 'rxjs';
import { WebSocket } from 'ws';
import type { HostChatMessage, HostPanel, HostPeer, HostPeerEvent } from '../../adapter';
import type { DevhostUiBackend } from './backend';

export type LiveMessage =
  | { type: 'peers'; peers: HostPeer[] }
  | { type: 'peer'; event: HostPeerEvent }
  | { type: 'chat'; message: HostChatMessage }
  | { type: 'panels'; panels: HostPanel[] };

/** A page that stopped reading is dropped rather than buffered without end; it reconnects and gets a snapshot. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class LiveHub {
  private readonly clients = new Set<WebSocket>();
  private readonly subscriptions: Subscription[] = [];
  private failure: string | undefined;

  constructor(private readonly backend: DevhostUiBackend) {
    const fail = (what: string) => (err: unknown) => this.fail(`${what} stream failed: ${String(err)}`);
    this.subscriptions.push(
      backend.peerEvents.subscribe({ next: (event) => this.broadcast({ type: 'peer', event }), error: fail('peer') }),
      backend.chatMessages.subscribe({ next: (message) => this.broadcast({ type: 'chat', message }), error: fail('chat') }),
      backend.panelEvents.subscribe({ next: (panels) => this.broadcast({ type: 'panels', panels }), error: fail('panel') }),
    );
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes an authenticated socket, sends it the current peers and panels, then the live changes. */
  add(ws: WebSocket): void {
    if (this.failure !== undefined) {
      ws.close(1011, this.failure.slice(0, 120));
      return;
    }
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
    ws.on('error', () => this.clients.delete(ws));
    // The page sends nothing: anything it does send is ignored, not interpreted.
    this.send(ws, { type: 'peers', peers: this.backend.peers() });
    this.send(ws, { type: 'panels', panels: this.backend.listPanels() });
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions.length = 0;
    for (const ws of this.clients) ws.close(1001, 'devhost web UI closing');
    this.clients.clear();
  }

  private broadcast(msg: LiveMessage): void {
    const data = JSON.stringify(msg);
    for (const ws of this.clients) this.sendRaw(ws, data);
  }

  private send(ws: WebSocket, msg: LiveMessage): void {
    this.sendRaw(ws, JSON.stringify(msg));
  }

  private sendRaw(ws: WebSocket, data: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.clients.delete(ws);
      ws.terminate();
      return;
    }
    ws.send(data);
  }

  /** A dead backend stream cannot be resumed here: tell every page (1011) instead of going quiet. */
  private fail(reason: string): void {
    this.failure = reason;
    for (const ws of this.clients) ws.close(1011, reason.slice(0, 120));
    this.clients.clear();
  }
}
