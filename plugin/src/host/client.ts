/**
 * HostClient: the sidecar's one connection to its host. Unary calls return domain objects;
 * the streams (peers, chat, links) are Observables that outlive host restarts, because the
 * client reconnects with backoff and re-opens them underneath.
 */
import * as grpc from '@grpc/grpc-js';
import { BehaviorSubject, type Observable, ReplaySubject, Subject, distinctUntilChanged } from 'rxjs';
import { AUTH_METADATA_KEY, CONTRACT_WINDOW_BYTES, GRPC_MAX_MESSAGE_BYTES, bearer, loadHostProto } from '../../../proto';
import type { ChatClient } from '../../../proto/generated/kinfolder/host/v1/Chat';
import type { ChatMessageList__Output } from '../../../proto/generated/kinfolder/host/v1/ChatMessageList';
import type { ChatRoomList__Output } from '../../../proto/generated/kinfolder/host/v1/ChatRoomList';
import type { PanelList__Output } from '../../../proto/generated/kinfolder/host/v1/PanelList';
import type { PeerList__Output } from '../../../proto/generated/kinfolder/host/v1/PeerList';
import type { IdentityClient } from '../../../proto/generated/kinfolder/host/v1/Identity';
import type { LinkEvent__Output } from '../../../proto/generated/kinfolder/host/v1/LinkEvent';
import type { LinkSend } from '../../../proto/generated/kinfolder/host/v1/LinkSend';
import type { LinksClient } from '../../../proto/generated/kinfolder/host/v1/Links';
import type { PeersClient } from '../../../proto/generated/kinfolder/host/v1/Peers';
import type { UiClient } from '../../../proto/generated/kinfolder/host/v1/Ui';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from './backoff';
import { HostClientError, fromServiceError } from './errors';
import type {
  ChatMessage,
  ChatRoom,
  ChatSent,
  ChatTarget,
  HostClientState,
  HostIdentity,
  HostSignature,
  LinkError,
  LinkMessage,
  LinkReady,
  Panel,
  PanelInput,
  Peer,
  RegisteredPanel,
} from './types';
import {
  chatMessageFromWire,
  chatRoomFromWire,
  chatSentFromWire,
  identityFromWire,
  linkErrorFromWire,
  linkFrameToWire,
  linkMessageFromWire,
  linkReadyFromWire,
  panelFromWire,
  peerChangeFromWire,
  peerFromWire,
  registeredPanelFromWire,
  signatureFromWire,
} from './wire';

/** HTTP/2 receive window of the connection to the host (deliveries of the Links stream come through it); see proto/window.ts. */
export const LINK_RECEIVE_WINDOW_BYTES = CONTRACT_WINDOW_BYTES;

export type HostClientLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface HostClientOptions {
  /** `unix:/path/to/socket` or `127.0.0.1:<port>`. */
  address: string;
  token: string;
  pluginId: string;
  backoff?: BackoffOptions;
  /** Which streams to keep open; a plugin without the capability leaves its stream off. Default: all. */
  streams?: { peers?: boolean; chat?: boolean; links?: boolean };
  /** How long one connect attempt (GetSelf) may wait for the host. */
  connectTimeoutMs?: number;
  log?: HostClientLog;
  /** Jitter source; tests may pin it. */
  random?: () => number;
  /**
   * How long a write to the Links stream may wait for the host without the host taking any of
   * it before the stream is given up and opened again (default LINK_STALL_MS).
   */
  linkStallMs?: number;
}

/**
 * Seen under load: the plugin's Links stream and the host's side of it each waiting on the
 * other's HTTP/2 stream window, both event loops idle, for good; a catch-up then stopped
 * half-way with neither side sending. A new stream has fresh windows, and the sessions resync
 * from their vectors after the reconnect. A host that is only slow takes some bytes now and
 * then, which counts as progress.
 */
export const LINK_STALL_MS = 30_000;

export interface CallOptions {
  signal?: AbortSignal;
}

interface Clients {
  identity: IdentityClient;
  peers: PeersClient;
  links: LinksClient;
  chat: ChatClient;
  ui: UiClient;
}

type UnaryStarter<Res> = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, res?: Res) => void,
) => grpc.ClientUnaryCall;

/** Stream failures that a reconnect will not cure: the stream stays off and the session goes on without it. */
const PERMANENT = new Set<number>([grpc.status.PERMISSION_DENIED, grpc.status.UNIMPLEMENTED, grpc.status.ABORTED]);

export class HostClient {
  private readonly state = new BehaviorSubject<HostClientState>('connecting');
  private readonly peerList = new ReplaySubject<Peer[]>(1);
  private readonly chat = new Subject<ChatMessage>();
  private readonly linkIn = new Subject<LinkMessage>();
  private readonly linkErr = new Subject<LinkError>();

  readonly state$: Observable<HostClientState> = this.state.pipe(distinctUntilChanged());
  /** The current friend list: re-listed after every reconnect, then kept current from Peers.Watch. */
  readonly peers$: Observable<Peer[]> = this.peerList.asObservable();
  readonly chat$: Observable<ChatMessage> = this.chat.asObservable();
  readonly linkMessages$: Observable<LinkMessage> = this.linkIn.asObservable();
  readonly linkErrors$: Observable<LinkError> = this.linkErr.asObservable();

  /** What the host said about itself at the last (re)connect. */
  identity: HostIdentity | undefined;
  /** What the Links stream announced at the last (re)connect. */
  linkReady: LinkReady | undefined;

  private readonly opts: Required<Omit<HostClientOptions, 'log' | 'streams'>> & {
    log: HostClientLog;
    streams: { peers: boolean; chat: boolean; links: boolean };
  };
  private clients: Clients | undefined;
  private readonly stopping = new AbortController();
  private started = false;
  private loop: Promise<void> | undefined;
  private linksCall: grpc.ClientDuplexStream<LinkSend, LinkEvent__Output> | undefined;
  private drain: Promise<void> | undefined;
  private nextLinkId = 1;
  /** Frames the Links stream has written so far (its progress, for watchStall). */
  private linkWritesDone = 0;
  /** Holds on reading deliveries (see holdLinks). */
  private linkHolds = 0;
  private readonly disabled = new Set<'peers' | 'chat' | 'links'>();

  constructor(options: HostClientOptions) {
    this.opts = {
      address: options.address,
      token: options.token,
      pluginId: options.pluginId,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      linkStallMs: options.linkStallMs ?? LINK_STALL_MS,
      log: options.log ?? (() => {}),
      random: options.random ?? Math.random,
      streams: { peers: true, chat: true, links: true, ...options.streams },
    };
  }

  get currentState(): HostClientState {
    return this.state.value;
  }

  start(): void {
    if (this.started) throw new HostClientError('FAILED_PRECONDITION', 'HostClient already started');
    this.started = true;
    const v1 = loadHostProto().kinfolder.host.v1;
    const creds = grpc.credentials.createInsecure();
    const channelOptions: grpc.ClientOptions = {
      'grpc.max_receive_message_length': GRPC_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': GRPC_MAX_MESSAGE_BYTES,
      // HTTP/2 receive window: with the default 64 KiB the host waits for our window update
      // every 64 KiB of a delivery. Bounded all the same: what the host may have in flight to us.
      'grpc-node.flow_control_window': LINK_RECEIVE_WINDOW_BYTES,
      // The channel's own reconnect timer must not outwait ours.
      'grpc.initial_reconnect_backoff_ms': this.opts.backoff.initialMs,
      'grpc.max_reconnect_backoff_ms': this.opts.backoff.maxMs,
    };
    const identity = new v1.Identity(this.opts.address, creds, channelOptions);
    const shared = { ...channelOptions, channelOverride: identity.getChannel() };
    this.clients = {
      identity,
      peers: new v1.Peers(this.opts.address, creds, shared),
      links: new v1.Links(this.opts.address, creds, shared),
      chat: new v1.Chat(this.opts.address, creds, shared),
      ui: new v1.Ui(this.opts.address, creds, shared),
    };
    this.loop = this.run();
  }

  /** Resolves with the host's identity the next time the client is ready (now, if it is). */
  ready(options: CallOptions = {}): Promise<HostIdentity> {
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(new HostClientError('CANCELLED', 'aborted'));
      const onAbort = (): void => {
        sub.unsubscribe();
        reject(new HostClientError('CANCELLED', 'aborted while waiting for the host'));
      };
      const sub = this.state$.subscribe({
        next: (s) => {
          if (s === 'ready' && this.identity) {
            signal?.removeEventListener('abort', onAbort);
            queueMicrotask(() => sub.unsubscribe());
            resolve(this.identity);
          }
        },
        complete: () => {
          signal?.removeEventListener('abort', onAbort);
          reject(new HostClientError('CANCELLED', 'HostClient stopped'));
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    await this.loop;
    if (this.clients) for (const c of Object.values(this.clients)) c.close();
    this.clients = undefined;
    this.state.next('offline');
    for (const s of [this.state, this.peerList, this.chat, this.linkIn, this.linkErr] as Subject<unknown>[]) s.complete();
  }

  // ------------------------------------------------------------------ unary

  getSelf(options: CallOptions = {}): Promise<HostIdentity> {
    return this.unary((m, o, cb) => this.c.identity.getSelf({}, m, o, cb), options, identityFromWire);
  }

  sign(payload: Uint8Array, options: CallOptions = {}): Promise<HostSignature> {
    return this.unary((m, o, cb) => this.c.identity.sign({ payload }, m, o, cb), options, signatureFromWire);
  }

  listPeers(options: CallOptions = {}): Promise<Peer[]> {
    return this.unary((m, o, cb) => this.c.peers.list({}, m, o, cb), options, (w: PeerList__Output) => w.peers.map(peerFromWire));
  }

  sendChat(to: ChatTarget, text: string, options: CallOptions = {}): Promise<ChatSent> {
    return this.unary((m, o, cb) => this.c.chat.send({ ...to, text }, m, o, cb), options, chatSentFromWire);
  }

  joinRoom(room: { id: string; title: string; members: string[] }, options: CallOptions = {}): Promise<ChatRoom> {
    return this.unary(
      (m, o, cb) => this.c.chat.joinRoom({ room: room.id, title: room.title, members: room.members }, m, o, cb),
      options,
      chatRoomFromWire,
    );
  }

  listRooms(options: CallOptions = {}): Promise<ChatRoom[]> {
    return this.unary((m, o, cb) => this.c.chat.listRooms({}, m, o, cb), options, (w: ChatRoomList__Output) => w.rooms.map(chatRoomFromWire));
  }

  /** Recent messages, oldest first; limit 0 lets the host choose. */
  chatHistory(of: ChatTarget, limit = 0, options: CallOptions = {}): Promise<ChatMessage[]> {
    return this.unary(
      (m, o, cb) => this.c.chat.history({ ...of, limit }, m, o, cb),
      options,
      (w: ChatMessageList__Output) => w.messages.map(chatMessageFromWire),
    );
  }

  registerPanel(panel: PanelInput, options: CallOptions = {}): Promise<RegisteredPanel> {
    return this.unary((m, o, cb) => this.c.ui.registerPanel({ ...panel }, m, o, cb), options, registeredPanelFromWire);
  }

  listPanels(options: CallOptions = {}): Promise<Panel[]> {
    return this.unary((m, o, cb) => this.c.ui.listPanels({}, m, o, cb), options, (w: PanelList__Output) => w.panels.map(panelFromWire));
  }

  // ------------------------------------------------------------------ links

  /**
   * Writes one frame on the Links stream; resolves (with the frame id that a later LinkError
   * names) once the stream took it, waiting for 'drain' when the stream is congested.
   * Rejects UNAVAILABLE while there is no open Links stream.
   */
  async sendLink(peer: string, service: string, payload: Uint8Array, options: CallOptions = {}): Promise<number> {
    for (;;) {
      if (options.signal?.aborted) throw new HostClientError('CANCELLED', 'aborted before the frame was written');
      const call = this.linksCall;
      if (!call || this.state.value !== 'ready') throw new HostClientError('UNAVAILABLE', 'not connected to the host');
      if (this.drain) {
        await this.abortable(this.drain, options.signal);
        continue; // the stream may have changed while we waited
      }
      const limit = this.linkReady?.maxPayloadBytes;
      if (limit !== undefined && payload.length > limit) {
        // The host would refuse it too; failing here spares writing megabytes to learn that.
        throw new HostClientError('RESOURCE_EXHAUSTED', `payload is ${payload.length} bytes, more than the host's limit of ${limit}`);
      }
      const id = this.nextLinkId++;
      if (!call.write(linkFrameToWire({ id, peer, service, payload }), () => this.linkWritesDone++)) {
        this.drain = waitDrain(call).finally(() => {
          this.drain = undefined;
        });
        await this.abortable(this.drain, options.signal);
      }
      return id;
    }
  }

  /**
   * Gives the stream up (see LINK_STALL_MS) once frames wait in it and none was written for
   * linkStallMs; cleared when the stream ends.
   */
  private watchStall(call: grpc.ClientDuplexStream<LinkSend, LinkEvent__Output>): void {
    let done = this.linkWritesDone;
    let since = Date.now();
    const timer = setInterval(
      () => {
        if (this.linkWritesDone !== done || call.writableLength === 0) [done, since] = [this.linkWritesDone, Date.now()];
        else if (Date.now() - since >= this.opts.linkStallMs) {
          clearInterval(timer);
          this.opts.log('warn', 'Links stream stalled: the host took nothing for a while; opening it again', { waitedMs: Date.now() - since, queuedFrames: call.writableLength });
          call.cancel();
        }
      },
      Math.max(10, Math.floor(this.opts.linkStallMs / 4)),
    );
    timer.unref();
    const stop = (): void => clearInterval(timer);
    call.on('close', stop);
    call.on('error', stop);
  }

  /**
   * Stops taking deliveries from the host until every hold is released: the plugin's answer
   * to a backlog it can not work off. The Links stream then stops reading, the host's write
   * to us waits on the HTTP/2 window, and the host stops reading the friends' links, so the
   * senders wait instead of this process queueing what they send. Deliveries already read
   * still arrive; reading stops at the next one.
   */
  holdLinks(): () => void {
    this.linkHolds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.linkHolds === 0 && this.linksCall?.isPaused()) this.linksCall.resume();
    };
  }

  /** Whether deliveries are held now (for status and tests). */
  get linksHeld(): boolean {
    return this.linkHolds > 0;
  }

  // ------------------------------------------------------------------ session

  private get c(): Clients {
    if (!this.clients) throw new HostClientError('FAILED_PRECONDITION', 'HostClient is not started');
    return this.clients;
  }

  private metadata(): grpc.Metadata {
    const m = new grpc.Metadata();
    m.set(AUTH_METADATA_KEY, bearer(this.opts.token));
    return m;
  }

  private unary<T, W>(start: UnaryStarter<W>, options: CallOptions & { timeoutMs?: number }, convert: (w: W) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(new HostClientError('CANCELLED', 'aborted before the call'));
      const callOptions: grpc.CallOptions = {};
      const metadata = this.metadata();
      if (options.timeoutMs !== undefined) callOptions.deadline = Date.now() + options.timeoutMs;
      let call: grpc.ClientUnaryCall;
      const onAbort = (): void => call.cancel();
      try {
        call = start(metadata, callOptions, (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) return reject(fromServiceError(err));
          try {
            resolve(convert(res as W));
          } catch (e) {
            reject(e);
          }
        });
      } catch (e) {
        return reject(e instanceof HostClientError ? e : new HostClientError('INTERNAL', String(e)));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async run(): Promise<void> {
    let attempt = 0;
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      this.state.next('connecting');
      const session = new AbortController();
      const onStop = (): void => session.abort();
      stop.addEventListener('abort', onStop, { once: true });
      try {
        // Fail fast while the host is down (the state says offline at once); the channel's own
        // reconnect backoff is set to ours, so it is connecting again when we retry.
        const self = await this.unary(
          (m, o, cb) => this.c.identity.getSelf({}, m, o, cb),
          { signal: session.signal, timeoutMs: this.opts.connectTimeoutMs },
          identityFromWire,
        );
        if (self.pluginId !== this.opts.pluginId) {
          throw new HostClientError('FAILED_PRECONDITION', `token belongs to plugin '${self.pluginId}', not '${this.opts.pluginId}'`);
        }
        this.identity = self;
        const ended = this.openStreams(session.signal);
        await Promise.race([ended.opened, ended.lost]);
        if (!session.signal.aborted) {
          this.state.next('ready');
          attempt = 0;
          this.opts.log('info', 'connected to host', { host: self.hostSoftware, fingerprint: self.fingerprint });
          await ended.lost;
        }
      } catch (err) {
        if (!stop.aborted) this.opts.log('warn', 'host connect failed', { error: (err as Error).message });
      } finally {
        stop.removeEventListener('abort', onStop);
        session.abort();
        this.linksCall = undefined;
      }
      if (stop.aborted) break;
      this.state.next('offline');
      await sleep(backoffDelay(attempt++, this.opts.backoff, this.opts.random), stop);
    }
  }

  /**
   * Opens the enabled streams for one session. `opened` resolves once each has shown its
   * first frame (or ended); `lost` resolves when any ends while the session still wants it.
   */
  private openStreams(signal: AbortSignal): { opened: Promise<void>; lost: Promise<void> } {
    let markLost!: () => void;
    const lost = new Promise<void>((r) => (markLost = r));
    signal.addEventListener('abort', () => markLost(), { once: true });
    const opened: Promise<void>[] = [];
    const want = this.opts.streams;

    const watch = <T>(
      name: 'peers' | 'chat' | 'links',
      call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<LinkSend, T>,
      onData: (frame: T) => void,
      needsFirstFrame: boolean,
    ): void => {
      if (name === 'links') this.linksCall = call as grpc.ClientDuplexStream<LinkSend, LinkEvent__Output>;
      let first!: () => void;
      if (needsFirstFrame) opened.push(new Promise<void>((r) => (first = r)));
      let over = false;
      const end = (err?: grpc.ServiceError): void => {
        if (over) return;
        over = true;
        if (this.linksCall === call) this.linksCall = undefined;
        first?.();
        if (signal.aborted) return;
        if (err && PERMANENT.has(err.code)) {
          this.disabled.add(name);
          this.opts.log('error', `host refused the ${name} stream; it stays off`, { code: grpc.status[err.code], details: err.details });
          return;
        }
        this.opts.log('info', `${name} stream ended`, err ? { code: grpc.status[err.code], details: err.details } : {});
        markLost();
      };
      call.on('data', (frame: T) => {
        try {
          onData(frame);
        } catch (e) {
          this.opts.log('warn', `bad ${name} frame from host`, { error: (e as Error).message });
        }
        first?.();
      });
      call.on('error', (err: grpc.ServiceError) => end(err));
      call.on('end', () => end());
      signal.addEventListener('abort', () => call.cancel(), { once: true });
    };

    // Chat first: its Watch has no first frame, so it goes out before the ones readiness waits for.
    if (want.chat && !this.disabled.has('chat')) {
      watch('chat', this.c.chat.watch({ room: '' }, this.metadata()), (w) => this.chat.next(chatMessageFromWire(w)), false);
    }
    if (want.peers && !this.disabled.has('peers')) {
      const current = new Map<string, Peer>();
      watch(
        'peers',
        this.c.peers.watch({}, this.metadata()),
        (w) => {
          const change = peerChangeFromWire(w);
          if (change.kind === 'snapshot') {
            current.clear();
            for (const p of change.peers) current.set(p.fingerprint, p);
          } else if (change.kind === 'removed') current.delete(change.fingerprint);
          else current.set(change.peer.fingerprint, change.peer);
          this.peerList.next([...current.values()]);
        },
        true,
      );
    }
    if (want.links && !this.disabled.has('links')) {
      const call = this.c.links.open(this.metadata());
      limitReadAhead(call);
      this.watchStall(call);
      watch(
        'links',
        call,
        (w: LinkEvent__Output) => {
          if (w.event === 'ready' && w.ready) this.linkReady = linkReadyFromWire(w.ready);
          else if (w.event === 'delivery' && w.delivery) {
            this.linkIn.next(linkMessageFromWire(w.delivery));
            // Paused here, not in holdLinks: the ready frame always gets through, and a new
            // stream after a reconnect is held as soon as it delivers.
            if (this.linkHolds > 0 && !call.isPaused()) call.pause();
          } else if (w.event === 'error' && w.error) this.linkErr.next(linkErrorFromWire(w.error));
        },
        true,
      );
    }
    return { opened: Promise.all(opened).then(() => undefined), lost };
  }

  private abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return p;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new HostClientError('CANCELLED', 'aborted while waiting for the Links stream'));
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

/**
 * A paused gRPC stream keeps reading messages into its buffer up to the Readable's high-water
 * mark, 16 messages in object mode: up to 64 MiB of 4 MiB deliveries, read from the host
 * after we asked it to wait. grpc-js takes no option for it, so the mark is lowered on the
 * stream's state; a grpc-js without that field keeps its default (then the hold only bounds less).
 */
export const LINK_READ_AHEAD_MESSAGES = 1;

function limitReadAhead(call: object): void {
  const state = (call as { _readableState?: { highWaterMark?: unknown } })._readableState;
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = LINK_READ_AHEAD_MESSAGES;
}

/** Resolves on 'drain'; rejects when the stream ends first, since then the frame may never have gone out. */
function waitDrain(call: grpc.ClientDuplexStream<LinkSend, LinkEvent__Output>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      call.off('drain', onDrain);
      call.off('close', onClose);
      call.off('error', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new HostClientError('UNAVAILABLE', 'Links stream closed before the frame was written'));
    };
    call.on('drain', onDrain);
    call.on('close', onClose);
    call.on('error', onClose);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
