/** Test harness: a real contract server over the fake adapter on a temp socket, raw typed clients, and waiting helpers. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type Observable, filter, firstValueFrom, timeout } from 'rxjs';
import { AUTH_METADATA_KEY, bearer, loadHostProto } from '../../../proto';
import type { ProtoGrpcType } from '../../../proto/generated/host';
import { type HostServer, type HostServerOptions, type PluginManifest, PluginRegistry, createHostServer } from '../../../host-bridge/src/server';
import { FakeHostAdapter, type FakeKey, fakePeer } from '../../helpers/fake-host-adapter';

export const SYNC_SERVICE = 'kinfolder.sync.v1';

export const FULL: PluginManifest = {
  id: 'kinfolder',
  name: 'Kinfolder',
  version: '0.1.0',
  entry: 'plugin/bin/kinfolder.js',
  contract: 'kinfolder.host.v1',
  capabilities: ['identity.sign', 'peers.read', 'links', 'chat', 'ui.panel'],
  links: { services: [SYNC_SERVICE] },
};

export const READER: PluginManifest = {
  id: 'reader-only',
  name: 'Reader',
  version: '1.0.0',
  entry: 'x.js',
  contract: 'kinfolder.host.v1',
  capabilities: ['peers.read'],
};

export const OTHER: PluginManifest = {
  id: 'other-plugin',
  name: 'Other',
  version: '1.0.0',
  entry: 'x.js',
  contract: 'kinfolder.host.v1',
  capabilities: ['links', 'chat'],
  links: { services: ['other.v1'] },
};

export interface Host {
  dir: string;
  socketPath: string;
  adapter: FakeHostAdapter;
  registry: PluginRegistry;
  server: HostServer;
  address: string;
  tokens: Record<string, string>;
  /** Stops the current server and starts a new one on the same socket, registry and adapter. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startHost(key: FakeKey, options: { tcp?: boolean; server?: Partial<HostServerOptions> } = {}): Promise<Host> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinfolder-host-'));
  const socketPath = path.join(dir, 'host.sock');
  const adapter = new FakeHostAdapter(key);
  adapter.setPeers([fakePeer(1), fakePeer(2, { online: false })]);
  const registry = new PluginRegistry();
  const tokens: Record<string, string> = {};
  for (const m of [FULL, READER, OTHER]) tokens[m.id] = registry.register(m).token;
  const listen = options.tcp ? ({ host: '127.0.0.1', port: 0 } as const) : { socketPath };
  const host: Host = {
    dir,
    socketPath,
    adapter,
    registry,
    tokens,
    server: createHostServer({ adapter, registry, listen, ...options.server }),
    address: '',
    async restart() {
      await host.server.stop();
      host.server = createHostServer({ adapter, registry, listen, ...options.server });
      host.address = (await host.server.start()).address;
    },
    async close() {
      await host.server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  host.address = (await host.server.start()).address;
  return host;
}

export type V1 = ProtoGrpcType['kinfolder']['host']['v1'];

export interface RawClients {
  identity: InstanceType<V1['Identity']>;
  peers: InstanceType<V1['Peers']>;
  links: InstanceType<V1['Links']>;
  chat: InstanceType<V1['Chat']>;
  ui: InstanceType<V1['Ui']>;
  close(): void;
}

/** Plain grpc-js clients with no limits of their own, so the server's limits are what a test meets. */
export function rawClients(address: string): RawClients {
  const v1 = loadHostProto().kinfolder.host.v1;
  const creds = grpc.credentials.createInsecure();
  const identity = new v1.Identity(address, creds);
  const opts = { channelOverride: identity.getChannel() };
  const c = {
    identity,
    peers: new v1.Peers(address, creds, opts),
    links: new v1.Links(address, creds, opts),
    chat: new v1.Chat(address, creds, opts),
    ui: new v1.Ui(address, creds, opts),
    close() {
      for (const k of ['identity', 'peers', 'links', 'chat', 'ui'] as const) c[k].close();
    },
  };
  return c;
}

export function auth(token: string | undefined): grpc.Metadata {
  const m = new grpc.Metadata();
  if (token !== undefined) m.set(AUTH_METADATA_KEY, bearer(token));
  return m;
}

type Callback<R> = (err: grpc.ServiceError | null, value?: R) => void;
/** The response type of a generated unary method (its last overload is `(argument, callback)`). */
type Response<F> = F extends (argument: never, callback: Callback<infer R>) => unknown ? R : never;
type Request<F> = F extends (argument: infer A, callback: never) => unknown ? A : never;

/** One unary call, promisified: `call(client, 'getSelf', {}, metadata)`. */
export function call<C, M extends keyof C>(client: C, method: M, request: Request<C[M]>, md: grpc.Metadata): Promise<Response<C[M]>> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as unknown as (req: unknown, md: grpc.Metadata, cb: Callback<Response<C[M]>>) => unknown;
    fn.call(client, request, md, (err, res) => (err ? reject(err) : resolve(res as Response<C[M]>)));
  });
}

/** Resolves once `cond()` holds, polling; fails with `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function next<T>(source: Observable<T>, pred: (v: T) => boolean = () => true, ms = 10_000): Promise<T> {
  return firstValueFrom(source.pipe(filter(pred), timeout(ms)));
}

/** Collects a readable stream's frames and its end (status or error). */
export function collect<T>(stream: NodeJS.EventEmitter): { frames: T[]; error: grpc.ServiceError | undefined; ended: Promise<grpc.ServiceError | undefined> } {
  const out = { frames: [] as T[], error: undefined as grpc.ServiceError | undefined, ended: undefined as unknown as Promise<grpc.ServiceError | undefined> };
  out.ended = new Promise((resolve) => {
    stream.on('data', (f: T) => out.frames.push(f));
    stream.on('error', (e: grpc.ServiceError) => {
      out.error = e;
      resolve(e);
    });
    stream.on('end', () => resolve(undefined));
  });
  return out;
}
