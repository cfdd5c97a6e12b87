/** What every service handler gets: the adapter, the registry, the log, and the set of open streams. */
import type * as grpc from '@grpc/grpc-js';
import type { Capability } from '../../../proto';
import type { HostAdapter } from '../adapter';
import { authorize } from './auth';
import type { PluginManifest } from './manifest';
import type { PluginRegistry } from './registry';
import { type WireStatus, toServiceError, toStatus } from './status';

export type HostServerLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** An open stream the server can end on its own (stop, or a newer stream replacing it). */
export interface OpenStream {
  readonly pluginId: string;
  close(status: WireStatus): void;
}

export interface ServiceContext {
  adapter: HostAdapter;
  registry: PluginRegistry;
  log: HostServerLog;
  streams: Set<OpenStream>;
}

/** Wraps a unary handler: authorize, run, map any error through the status table. */
export function unary<Req, Res>(
  ctx: ServiceContext,
  method: string,
  capability: Capability | undefined,
  fn: (request: Req, plugin: PluginManifest, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let pluginId: string | undefined;
    Promise.resolve()
      .then(() => {
        const plugin = authorize(ctx.registry, call.metadata, capability);
        pluginId = plugin.id;
        return fn(call.request, plugin, call);
      })
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const s = toStatus(err);
          ctx.log('debug', `${method} refused`, { plugin: pluginId, code: s.code, details: s.details });
          callback(toServiceError(err));
        },
      );
  };
}

/**
 * Wraps a server-streaming handler. `open` returns its teardown, which runs exactly once
 * whether the plugin cancels, the stream fails, or the server closes it.
 */
export function serverStream<Req, Res>(
  ctx: ServiceContext,
  method: string,
  capability: Capability,
  open: (call: grpc.ServerWritableStream<Req, Res>, plugin: PluginManifest, fail: (err: unknown) => void) => () => void,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    let plugin: PluginManifest;
    try {
      plugin = authorize(ctx.registry, call.metadata, capability);
    } catch (err) {
      ctx.log('debug', `${method} refused`, { ...toStatus(err) });
      call.emit('error', toServiceError(err));
      return;
    }
    let teardown: (() => void) | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      ctx.streams.delete(entry);
      teardown?.();
    };
    const fail = (err: unknown): void => {
      if (done) return;
      finish();
      call.emit('error', toServiceError(err));
    };
    const entry: OpenStream = {
      pluginId: plugin.id,
      close: (s) => {
        if (done) return;
        finish();
        call.emit('error', { code: s.code, details: s.details });
      },
    };
    ctx.streams.add(entry);
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
    try {
      teardown = open(call, plugin, fail);
    } catch (err) {
      fail(err);
      return;
    }
    if (done) teardown?.();
  };
}
