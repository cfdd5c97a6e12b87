/**
 * The secure links to friends: a mutual-TLS listener, dialling every friend with backoff,
 * the hello/accept handshake that binds each TLS key to a friend's PGP key, one live link
 * per friend (duplicates resolved the same way on both sides), keepalive.
 *
 * Handshake, on each new TLS connection, both sides at once:
 *   send hello {fingerprint, locationId, instance, address, binding}
 *   on the peer's hello: it must be a friend (and, when we dialled, the friend we meant),
 *     its location id must be the friend's, and the binding must verify with the friend's
 *     PGP key over sha256(SPKI) of the certificate the peer presented in TLS; then send accept
 *   the link is up once we accepted the peer's hello and the peer accepted ours.
 */
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { Observable, Subject } from 'rxjs';
import { parseAddress } from '../certificate';
import type { Friend } from '../friends';
import type * as openpgp from 'openpgp';
import { verifyBinding } from './binding';
import { Connection, type Direction } from './connection';
import type { Frame } from './frames';
import { spkiSha256OfCert, type TlsCredentials } from './tls-credentials';

export type DataFrame = Extract<Frame, { kind: 'link' | 'linkNotice' | 'chat' }>;

export type LinkEvent =
  | { kind: 'up'; peer: string; direction: Direction }
  | { kind: 'down'; peer: string; reason: string }
  | { kind: 'refused'; remote: string; peer?: string; reason: RefusalReason; detail: string }
  | { kind: 'address'; peer: string; address: string };

export type RefusalReason =
  | 'not-a-friend'
  | 'unexpected-peer'
  | 'location-mismatch'
  | 'no-client-certificate'
  | 'binding-invalid'
  | 'protocol'
  | 'handshake-timeout';

export interface LinkTimings {
  keepaliveMs: number;
  idleTimeoutMs: number;
  handshakeTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_LINK_TIMINGS: LinkTimings = {
  keepaliveMs: 10_000,
  idleTimeoutMs: 35_000,
  handshakeTimeoutMs: 10_000,
  backoffBaseMs: 150,
  backoffMaxMs: 5_000,
};

const MAX_PENDING_HANDSHAKES = 64;

export interface LinkManagerDeps {
  self: { fingerprint: string; locationId: string };
  tls: TlsCredentials;
  /** This node's PGP signature over its TLS binding message. */
  binding: Buffer;
  /** Random per start. */
  instance: string;
  friends: { get(fp: string): Friend | undefined; publicKey(fp: string): openpgp.Key | undefined; list(): Friend[] };
  onFrame(peer: string, frame: DataFrame): void;
  log(message: string): void;
  host?: string;
  timings?: Partial<LinkTimings>;
  maxFrameBytes?: number;
}

/**
 * Delay before redial number `attempt` (0-based): exponential up to `maxMs`, with jitter in the
 * upper half so that friends who lost each other at once do not redial in lockstep.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random * (ceiling / 2));
}

interface DialState {
  attempt: number;
  timer?: NodeJS.Timeout;
  dialing?: Connection;
}

export class LinkManager {
  private readonly subject = new Subject<LinkEvent>();
  readonly events: Observable<LinkEvent> = this.subject.asObservable();
  private readonly timings: LinkTimings;
  private readonly host: string;
  private server?: tls.Server;
  private readonly conns = new Set<Connection>();
  private readonly links = new Map<string, Connection>();
  private readonly dials = new Map<string, DialState>();
  /** Bytes sent on connections with each friend that have closed (benches measure traffic per change). */
  private readonly closedSentBytes = new Map<string, number>();
  private keepaliveTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Holds on reading what friends send (see holdInbound). */
  private inboundHolds = 0;
  private listenPort = 0;

  constructor(private readonly deps: LinkManagerDeps) {
    this.timings = { ...DEFAULT_LINK_TIMINGS, ...deps.timings };
    this.host = deps.host ?? '127.0.0.1';
  }

  get address(): string {
    return `${this.host}:${this.listenPort}`;
  }

  async start(port: number): Promise<number> {
    const server = tls.createServer({
      key: this.deps.tls.keyPem,
      cert: this.deps.tls.certPem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      // Trust comes from the PGP binding, not from a CA: take any certificate, check it in code.
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: this.timings.handshakeTimeoutMs,
    });
    server.on('secureConnection', (socket) => {
      // Strangers can open connections for free until their hello fails: bound how many wait.
      let pending = 0;
      for (const c of this.conns) if (c.state === 'handshake') pending++;
      if (pending >= MAX_PENDING_HANDSHAKES) {
        this.deps.log(`too many unfinished handshakes (${pending}); dropping ${socket.remoteAddress}:${socket.remotePort}`);
        socket.destroy();
        return;
      }
      this.adopt(socket, 'in', undefined);
    });
    server.on('tlsClientError', (err, socket) => this.deps.log(`tls handshake from ${socket.remoteAddress}:${socket.remotePort} failed: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.deps.log(`listener error: ${err.message}`));
    this.server = server;
    this.listenPort = (server.address() as AddressInfo).port;
    this.keepaliveTimer = setInterval(() => this.keepalive(), Math.max(50, Math.floor(this.timings.keepaliveMs / 2)));
    for (const f of this.deps.friends.list()) this.scheduleDial(f.fingerprint, 0);
    return this.listenPort;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    for (const d of this.dials.values()) if (d.timer) clearTimeout(d.timer);
    this.dials.clear();
    for (const c of [...this.conns]) c.close('node stopping');
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.subject.complete();
  }

  isOnline(fingerprint: string): boolean {
    return this.links.has(fingerprint);
  }

  onlinePeers(): string[] {
    return [...this.links.keys()];
  }

  /**
   * The live link to a friend (who dialled it), how many connections with that friend are open,
   * live or not, and the bytes of frames sent to it since this manager started (all its
   * connections, closed ones included).
   */
  linkInfo(fingerprint: string): { direction?: Direction; connections: number; sentBytes: number } {
    let connections = 0;
    let sentBytes = this.closedSentBytes.get(fingerprint) ?? 0;
    for (const c of this.conns) {
      if (c.peer === fingerprint || c.expectedPeer === fingerprint) connections++;
      if ((c.peer ?? c.expectedPeer) === fingerprint) sentBytes += c.bytesSent;
    }
    return { direction: this.links.get(fingerprint)?.direction, connections, sentBytes };
  }

  /** Writes a frame to a friend's live link; resolves when the socket took it (after 'drain' if needed). */
  async send(peer: string, frame: Frame, signal?: AbortSignal): Promise<void> {
    const conn = this.links.get(peer);
    if (!conn) throw new Error('offline');
    signal?.throwIfAborted();
    if (!conn.write(frame)) await conn.drained(signal);
  }

  /**
   * Stops reading every live link until each hold is released: what friends send then waits
   * in TCP and in their own hosts, not here. Handshakes go on; keepalive pings still go out,
   * and a held link is not closed as idle.
   */
  holdInbound(): () => void {
    if (this.inboundHolds++ === 0) for (const c of this.links.values()) c.pauseReading();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.inboundHolds === 0) for (const c of this.conns) c.resumeReading();
    };
  }

  friendAdded(fingerprint: string): void {
    const d = this.dials.get(fingerprint);
    if (d) d.attempt = 0;
    this.scheduleDial(fingerprint, 0);
  }

  friendRemoved(fingerprint: string): void {
    const d = this.dials.get(fingerprint);
    if (d?.timer) clearTimeout(d.timer);
    this.dials.delete(fingerprint);
    for (const c of [...this.conns]) {
      if (c.peer === fingerprint || c.expectedPeer === fingerprint) c.close('friend removed');
    }
  }

  // ------------------------------------------------------------------ dialling

  private scheduleDial(fingerprint: string, delayMs: number): void {
    if (this.stopped || this.links.has(fingerprint) || !this.deps.friends.get(fingerprint)) return;
    let d = this.dials.get(fingerprint);
    if (!d) {
      d = { attempt: 0 };
      this.dials.set(fingerprint, d);
    }
    if (d.dialing || d.timer) return;
    const state = d;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.dial(fingerprint, state);
    }, delayMs);
  }

  private backoffMs(attempt: number): number {
    return backoffDelay(attempt, this.timings.backoffBaseMs, this.timings.backoffMaxMs, Math.random());
  }

  private dial(fingerprint: string, state: DialState): void {
    if (this.stopped || this.links.has(fingerprint)) return;
    const friend = this.deps.friends.get(fingerprint);
    const addr = friend && parseAddress(friend.address);
    if (!friend || !addr) return;
    const socket = tls.connect({
      host: addr.host,
      port: addr.port,
      key: this.deps.tls.keyPem,
      cert: this.deps.tls.certPem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      rejectUnauthorized: false,
    });
    const conn = this.adopt(socket, 'out', fingerprint);
    state.dialing = conn;
  }

  private afterClose(conn: Connection): void {
    if (conn.direction !== 'out' || !conn.expectedPeer) {
      if (conn.peer && !this.links.has(conn.peer)) this.scheduleDial(conn.peer, this.backoffMs(0));
      return;
    }
    const d = this.dials.get(conn.expectedPeer);
    if (!d || d.dialing !== conn) return;
    d.dialing = undefined;
    if (this.links.has(conn.expectedPeer)) return;
    const delay = this.backoffMs(d.attempt);
    d.attempt++;
    this.scheduleDial(conn.expectedPeer, delay);
  }

  // ------------------------------------------------------------------ handshake

  private adopt(socket: tls.TLSSocket, direction: Direction, expectedPeer: string | undefined): Connection {
    const conn = new Connection(socket, direction, expectedPeer, {
      onFrame: (c, f) => this.onFrame(c, f),
      onClose: (c, reason) => this.onClose(c, reason),
    }, this.deps.maxFrameBytes);
    this.conns.add(conn);
    if (this.stopped) {
      conn.close('node stopping');
      return conn;
    }
    const sendHello = () => {
      conn.write({
        kind: 'hello',
        fingerprint: this.deps.self.fingerprint,
        locationId: this.deps.self.locationId,
        instance: this.deps.instance,
        address: this.address,
        binding: this.deps.binding,
      });
    };
    if (direction === 'in') sendHello();
    else socket.once('secureConnect', sendHello);
    const timer = setTimeout(() => {
      if (conn.state === 'handshake') this.refuse(conn, 'handshake-timeout', `no completed handshake within ${this.timings.handshakeTimeoutMs} ms`);
    }, this.timings.handshakeTimeoutMs);
    socket.once('close', () => clearTimeout(timer));
    return conn;
  }

  private refuse(conn: Connection, reason: RefusalReason, detail: string): void {
    if (conn.state === 'closed') return;
    this.deps.log(`link from ${conn.remote} refused (${reason}): ${detail}`);
    this.subject.next({ kind: 'refused', remote: conn.remote, peer: conn.peer, reason, detail });
    conn.close(`refused: ${reason}`);
  }

  private onFrame(conn: Connection, frame: Frame): void {
    if (conn.state === 'handshake') {
      if (conn.verifying) {
        conn.queued.push(frame);
        return;
      }
      if (!conn.sawHello) {
        if (frame.kind !== 'hello') return this.refuse(conn, 'protocol', `expected hello, got ${frame.kind}`);
        conn.sawHello = true;
        conn.verifying = true;
        void this.verifyHello(conn, frame).then(() => {
          conn.verifying = false;
          while (conn.queued.length > 0 && conn.state !== 'closed') this.onFrame(conn, conn.queued.shift()!);
        });
        return;
      }
      if (frame.kind !== 'accept') return this.refuse(conn, 'protocol', `expected accept, got ${frame.kind}`);
      conn.acceptReceived = true;
      if (conn.helloVerified) this.promote(conn);
      return;
    }
    if (conn.state === 'closed' || !conn.peer) return;
    switch (frame.kind) {
      case 'ping':
        conn.write({ kind: 'pong' });
        return;
      case 'pong':
        return;
      case 'hello':
      case 'accept':
        conn.close(`protocol: unexpected ${frame.kind} on an open link`);
        return;
      default:
        this.deps.onFrame(conn.peer, frame);
    }
  }

  private async verifyHello(conn: Connection, hello: Extract<Frame, { kind: 'hello' }>): Promise<void> {
    const fp = hello.fingerprint;
    conn.peer = fp;
    const friend = this.deps.friends.get(fp);
    const key = this.deps.friends.publicKey(fp);
    if (!friend || !key) return this.refuse(conn, 'not-a-friend', `${fp} is not a friend`);
    if (conn.expectedPeer && conn.expectedPeer !== fp) return this.refuse(conn, 'unexpected-peer', `dialled ${conn.expectedPeer}, reached ${fp}`);
    if (hello.locationId !== friend.locationId) return this.refuse(conn, 'location-mismatch', `location ${hello.locationId} is not ${friend.locationId}`);
    const raw = conn.socket.getPeerCertificate(true)?.raw;
    if (!raw || raw.length === 0) return this.refuse(conn, 'no-client-certificate', 'peer presented no TLS certificate');
    let spki: Buffer;
    try {
      spki = spkiSha256OfCert(new X509Certificate(raw));
    } catch (err) {
      return this.refuse(conn, 'no-client-certificate', `unreadable TLS certificate: ${(err as Error).message}`);
    }
    const ok = await verifyBinding(key, spki, hello.locationId, hello.binding);
    if (conn.state === 'closed') return;
    if (!ok) return this.refuse(conn, 'binding-invalid', `TLS key is not bound to the PGP key of ${fp}`);
    conn.peerInstance = hello.instance;
    conn.helloVerified = true;
    conn.write({ kind: 'accept' });
    if (hello.address !== friend.address && parseAddress(hello.address)) this.subject.next({ kind: 'address', peer: fp, address: hello.address });
    if (conn.acceptReceived) this.promote(conn);
  }

  private promote(conn: Connection): void {
    const fp = conn.peer!;
    conn.state = 'open';
    conn.lastReceivedMs = Date.now();
    const existing = this.links.get(fp);
    if (existing && existing !== conn) {
      if (this.keepExisting(existing, conn)) {
        this.deps.log(`link to ${fp}: duplicate connection ${conn.id} (${conn.direction}) closed, keeping ${existing.id} (${existing.direction})`);
        conn.close('duplicate link', true);
        return;
      }
      // Swap without a down/up flap: the peer is online throughout.
      this.links.set(fp, conn);
      if (this.inboundHolds > 0) conn.pauseReading();
      existing.close('duplicate link', true);
      this.deps.log(`link to ${fp}: connection ${existing.id} (${existing.direction}) replaced by ${conn.id} (${conn.direction})`);
      return;
    }
    this.links.set(fp, conn);
    if (this.inboundHolds > 0) conn.pauseReading();
    const d = this.dials.get(fp);
    if (d) {
      d.attempt = 0;
      if (d.timer) clearTimeout(d.timer);
      d.timer = undefined;
    }
    this.deps.log(`link to ${fp} up (${conn.direction})`);
    this.subject.next({ kind: 'up', peer: fp, direction: conn.direction });
  }

  /**
   * Both ends must pick the same survivor. A new peer instance means the peer restarted and
   * the old connection is stale; otherwise keep the connection dialled by the lower fingerprint.
   */
  private keepExisting(existing: Connection, fresh: Connection): boolean {
    if (existing.peerInstance !== fresh.peerInstance) return false;
    const dialer = (c: Connection) => (c.direction === 'out' ? this.deps.self.fingerprint : c.peer!);
    const a = dialer(existing);
    const b = dialer(fresh);
    if (a !== b) return a < b;
    // Same dialer twice: both ends see the same dialling port, so that breaks the tie alike.
    const port = (c: Connection) => (c.direction === 'out' ? c.socket.localPort : c.socket.remotePort) ?? 0;
    return port(existing) > port(fresh);
  }

  private onClose(conn: Connection, reason: string): void {
    this.conns.delete(conn);
    const fp = conn.peer;
    const counted = fp ?? conn.expectedPeer;
    if (counted) this.closedSentBytes.set(counted, (this.closedSentBytes.get(counted) ?? 0) + conn.bytesSent);
    if (fp && this.links.get(fp) === conn) {
      this.links.delete(fp);
      this.deps.log(`link to ${fp} down: ${reason}`);
      if (!this.stopped) this.subject.next({ kind: 'down', peer: fp, reason });
    }
    if (!this.stopped) this.afterClose(conn);
  }

  private keepalive(): void {
    const now = Date.now();
    for (const conn of this.links.values()) {
      if (this.inboundHolds === 0 && now - conn.lastReceivedMs > this.timings.idleTimeoutMs) {
        conn.close(`keepalive: nothing received for ${now - conn.lastReceivedMs} ms`);
      } else if (now - conn.lastReceivedMs >= this.timings.keepaliveMs / 2) {
        conn.write({ kind: 'ping' });
      }
    }
  }
}
