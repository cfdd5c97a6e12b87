/** One TLS connection of the secure link: frames in and out, write back-pressure, close with a reason. */
import type * as tls from 'node:tls';
import { encodeFrameParts, FrameDecoder, FrameError, type Frame } from './frames';

export type Direction = 'in' | 'out';

export interface ConnectionHandlers {
  onFrame(conn: Connection, frame: Frame): void;
  onClose(conn: Connection, reason: string): void;
}

let nextId = 1;

export class Connection {
  readonly id = nextId++;
  /** handshake → open (authenticated both ways) → closing (duplicate, draining) → closed */
  state: 'handshake' | 'open' | 'closing' | 'closed' = 'handshake';
  peer?: string;
  peerInstance?: string;
  sawHello = false;
  verifying = false;
  helloVerified = false;
  acceptReceived = false;
  readonly queued: Frame[] = [];
  lastReceivedMs = Date.now();
  private readonly decoder: FrameDecoder;
  private drainWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private closeReason = '';
  private sent = 0;
  private destroyTimer?: NodeJS.Timeout;

  constructor(
    readonly socket: tls.TLSSocket,
    readonly direction: Direction,
    /** For an outbound connection: the friend we meant to reach. */
    readonly expectedPeer: string | undefined,
    private readonly handlers: ConnectionHandlers,
    maxFrameBytes?: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.settleDrain());
    // A graceful close (a duplicate link being retired) flushes what was written before it
    // ends: a frame waiting for drain then went out, and its sender must not be told it failed.
    socket.on('finish', () => this.settleDrain());
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.onSocketClose());
  }

  /** Bytes of frames handed to the TLS socket so far (cleartext; TLS adds about 22 bytes a 16 KiB record). */
  get bytesSent(): number {
    return this.sent;
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Writes a frame; false means the socket buffer is full (wait with `drained`). */
  write(frame: Frame): boolean {
    if (this.state === 'closed') return false;
    const parts = encodeFrameParts(frame);
    if (parts.length === 1) {
      this.sent += parts[0].length;
      return this.socket.write(parts[0]);
    }
    // One TLS write for the header and the payload, without joining them here first.
    this.socket.cork();
    let ok = true;
    for (const p of parts) {
      this.sent += p.length;
      ok = this.socket.write(p);
    }
    this.socket.uncork();
    return ok;
  }

  /** Resolves once the socket buffer drained; rejects if the connection closes first. */
  drained(signal?: AbortSignal): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new Error(this.closeReason || 'closed'));
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== waiter);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.drainWaiters.push(waiter);
    });
  }

  /** Stops reading from the socket: the peer's writes then wait on TCP (see LinkManager.holdInbound). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.socket.isPaused()) return;
    // Time spent held was not the peer's silence: the keepalive counts from now.
    this.lastReceivedMs = Date.now();
    this.socket.resume();
  }

  /** Graceful: frames already written still reach the peer, and we keep reading until it ends. */
  close(reason: string, graceful = false): void {
    if (this.state === 'closed' || (graceful && this.state === 'closing')) return;
    if (!this.closeReason) this.closeReason = reason;
    if (graceful) {
      this.state = 'closing';
      // A retiring connection is read to its end even while links are held: it carries no new frames after that.
      this.resumeReading();
      this.socket.end();
      this.destroyTimer = setTimeout(() => this.socket.destroy(), 5000);
      this.destroyTimer.unref();
      return;
    }
    this.socket.destroy();
    this.onSocketClose();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastReceivedMs = Date.now();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      const reason = err instanceof FrameError ? `frame ${err.reason}: ${err.message}` : `frame error: ${(err as Error).message}`;
      this.close(reason);
      return;
    }
    for (const f of frames) {
      // A handler may have closed us (refusal, protocol error) mid-batch.
      if ((this.state as Connection['state']) === 'closed') return;
      this.handlers.onFrame(this, f);
    }
  }

  private settleDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private onSocketClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.destroyTimer) clearTimeout(this.destroyTimer);
    const reason = this.closeReason || 'connection closed by peer';
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.reject(new Error(reason));
    this.handlers.onClose(this, reason);
  }
}
