/** The contract server: binds the services over a HostAdapter on a Unix socket or loopback TCP. */
import * as fs from 'node:fs';
import type * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { CONTRACT_WINDOW_BYTES, GRPC_MAX_MESSAGE_BYTES, loadHostProto } from '../../../proto';
import type { HostAdapter } from '../adapter';
import type { HostServerLog, OpenStream, ServiceContext } from './context';
import type { PluginRegistry } from './registry';
import { chatHandlers } from './services/chat';
import { identityHandlers } from './services/identity';
import { linksHandlers } from './services/links';
import { peersHandlers } from './services/peers';
import { uiHandlers } from './services/ui';

export type HostServerListen = { socketPath: string } | { host: '127.0.0.1'; port: number };

export interface HostServerOptions {
  adapter: HostAdapter;
  registry: PluginRegistry;
  listen: HostServerListen;
  log?: HostServerLog;
  /** How long stop() lets unary calls finish before it cuts them off. */
  stopGraceMs?: number;
  /** Bytes of deliveries queued for a plugin that does not read, before they are dropped (default LINK_OUTBOUND_QUEUE_BYTES). */
  linkQueueBytes?: number;
  /** Bytes of deliveries queued for a plugin past which the adapter's links are held (default LINK_HOLD_BYTES). */
  linkHoldBytes?: number;
  /** How long deliveries may wait in a plugin's Links stream with none written before it is closed (default LINK_STALL_MS). */
  linkStallMs?: number;
}

export interface HostServer {
  /** Resolves with the address a client dials: `unix:/path` or `127.0.0.1:<port>`. */
  start(): Promise<{ address: string }>;
  stop(): Promise<void>;
}

/** HTTP/2 receive window of the host's side of a plugin connection, per stream and in all: see proto/window.ts. */
export const HOST_RECEIVE_WINDOW_BYTES = CONTRACT_WINDOW_BYTES;

/**
 * grpc-js has no server option for the receive window (its client has
 * grpc-node.flow_control_window), so each new HTTP/2 session of the server gets it here. A
 * grpc-js without the field it reaches for keeps the default window: slower, not wrong.
 */
function widenReceiveWindow(server: grpc.Server, bytes: number): void {
  const h2 = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(h2 instanceof Map)) return;
  for (const s of h2.keys() as IterableIterator<http2.Http2Server>) {
    if (typeof s?.on !== 'function') continue;
    s.on('session', (session: http2.ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(bytes);
        session.settings({ initialWindowSize: bytes });
      } catch {
        // A session closing at once: nothing to widen.
      }
    });
  }
}

export const HOST_SERVICE_NAMES = ['Identity', 'Peers', 'Links', 'Chat', 'Ui'].map((s) => `kinfolder.host.v1.${s}`);

export function createHostServer(options: HostServerOptions): HostServer {
  const log: HostServerLog = options.log ?? (() => {});
  const streams = new Set<OpenStream>();
  const ctx: ServiceContext = { adapter: options.adapter, registry: options.registry, log, streams };
  let server: grpc.Server | undefined;
  let health: HealthImplementation | undefined;

  const setHealth = (s: 'SERVING' | 'NOT_SERVING'): void => {
    for (const name of ['', ...HOST_SERVICE_NAMES]) health?.setStatus(name, s);
  };

  return {
    async start() {
      if (server) throw new Error('host server already started');
      const s = new grpc.Server({
        'grpc.max_receive_message_length': GRPC_MAX_MESSAGE_BYTES,
        'grpc.max_send_message_length': GRPC_MAX_MESSAGE_BYTES,
      });
      const v1 = loadHostProto().kinfolder.host.v1;
      s.addService(v1.Identity.service, identityHandlers(ctx));
      s.addService(v1.Peers.service, peersHandlers(ctx));
      s.addService(v1.Links.service, linksHandlers(ctx, options.linkQueueBytes, options.linkHoldBytes, options.linkStallMs));
      s.addService(v1.Chat.service, chatHandlers(ctx));
      s.addService(v1.Ui.service, uiHandlers(ctx));
      health = new HealthImplementation({ '': 'NOT_SERVING' });
      health.addToServer(s);

      let target: string;
      if ('socketPath' in options.listen) {
        removeStaleSocket(options.listen.socketPath);
        target = `unix:${options.listen.socketPath}`;
      } else {
        if (options.listen.host !== '127.0.0.1') throw new Error('the host server listens on loopback only');
        target = `127.0.0.1:${options.listen.port}`;
      }
      const port = await new Promise<number>((resolve, reject) => {
        s.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
      });
      widenReceiveWindow(s, HOST_RECEIVE_WINDOW_BYTES);
      server = s;
      setHealth('SERVING');
      const address = 'socketPath' in options.listen ? target : `127.0.0.1:${port}`;
      log('info', 'host contract server listening', { address });
      return { address };
    },

    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      setHealth('NOT_SERVING');
      for (const st of [...streams]) st.close({ code: grpc.status.UNAVAILABLE, details: 'host is shutting down' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          s.forceShutdown();
          resolve();
        }, options.stopGraceMs ?? 1000);
        s.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      log('info', 'host contract server stopped');
    },
  };
}

/** A socket file left by a crashed host would make bind fail; the path belongs to this host, so it goes. */
function removeStaleSocket(socketPath: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket`);
  fs.unlinkSync(socketPath);
}
