/**
 * Links service: one bidirectional stream per plugin. Frames the host can not take get an
 * `error` frame back and the stream stays open; while the adapter is busy sending, the
 * server stops reading, so a congested link backs up into the plugin's own stream.
 */
import { status } from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import { LINK_MAX_PAYLOAD_BYTES } from '../../../../proto';
import type { LinkEvent } from '../../../../proto/generated/kinfolder/host/v1/LinkEvent';
import type { LinkSend__Output } from '../../../../proto/generated/kinfolder/host/v1/LinkSend';
import type { LinksHandlers } from '../../../../proto/generated/kinfolder/host/v1/Links';
import { HOST_ERROR_STATUS } from '../../errors';
import { authorize } from '../auth';
import type { OpenStream, ServiceContext } from '../context';
import { Refusal } from '../errors';
import { toServiceError, toStatus } from '../status';
import { fingerprint, maxBytes } from '../validate';

/**
 * Deliveries queued for a plugin that does not read its stream. Past LINK_HOLD_BYTES the
 * friends' links are held (where the adapter can), so the queue only takes what was already
 * on its way; past this many bytes (a host that can not hold its links, or a plugin that
 * stopped reading altogether) a delivery is dropped with a notice instead.
 */
export const LINK_OUTBOUND_QUEUE_BYTES = 16 * LINK_MAX_PAYLOAD_BYTES;
/** Queued bytes past which the friends' links are held; they are let go at half of it. */
export const LINK_HOLD_BYTES = 2 * LINK_MAX_PAYLOAD_BYTES;

/**
 * Deliveries waiting in a stream that takes none of them for this long close it with
 * UNAVAILABLE (the plugin opens a new one): seen under load, a plugin's stream whose writes
 * neither side's HTTP/2 let through, both event loops idle, while the friends' links stayed
 * held for it for good.
 */
export const LINK_STALL_MS = 30_000;

export function linksHandlers(
  ctx: ServiceContext,
  queueLimitBytes: number = LINK_OUTBOUND_QUEUE_BYTES,
  holdBytes: number = LINK_HOLD_BYTES,
  stallMs: number = LINK_STALL_MS,
): LinksHandlers {
  const active = new Map<string, OpenStream>();

  return {
    Open: (call) => {
      let pluginId: string;
      let services: string[];
      try {
        const plugin = authorize(ctx.registry, call.metadata, 'links');
        pluginId = plugin.id;
        services = plugin.links?.services ?? [];
      } catch (err) {
        call.emit('error', toServiceError(err));
        return;
      }
      const own = new Set(services);
      const abort = new AbortController();
      const subs: Subscription[] = [];
      let done = false;
      let release: (() => void) | undefined;
      let stall: NodeJS.Timeout | undefined;
      const letGo = (): void => {
        const r = release;
        release = undefined;
        r?.();
      };

      const finish = (): void => {
        if (done) return;
        done = true;
        clearInterval(stall);
        letGo();
        abort.abort();
        for (const s of subs) s.unsubscribe();
        ctx.streams.delete(entry);
        if (active.get(pluginId) === entry) active.delete(pluginId);
      };
      const entry: OpenStream = {
        pluginId,
        close: (s) => {
          if (done) return;
          finish();
          call.emit('error', { code: s.code, details: s.details });
        },
      };
      active.get(pluginId)?.close({ code: status.ABORTED, details: 'replaced by a newer Links stream' });
      active.set(pluginId, entry);
      ctx.streams.add(entry);
      for (const ev of ['cancelled', 'close', 'finish', 'error'] as const) call.on(ev, finish);

      let queued = 0;
      let waiting = 0;
      let lastWritten = Date.now();
      const write = (ev: LinkEvent, bytes = 0): void => {
        if (done) return;
        queued += bytes;
        waiting++;
        if (queued > holdBytes && !release && ctx.adapter.holdLinks) release = ctx.adapter.holdLinks();
        call.write(ev, () => {
          queued -= bytes;
          waiting--;
          lastWritten = Date.now();
          if (release && queued <= holdBytes / 2) letGo();
        });
      };
      stall = setInterval(
        () => {
          if (waiting === 0) lastWritten = Date.now();
          else if (Date.now() - lastWritten >= stallMs) {
            ctx.log('warn', 'Links stream stalled: nothing written to the plugin for a while; closing it', { plugin: pluginId, frames: waiting, bytes: queued });
            entry.close({ code: status.UNAVAILABLE, details: `nothing of ${waiting} frame(s) was written in ${stallMs} ms; open the stream again` });
          }
        },
        Math.max(10, Math.floor(stallMs / 4)),
      );
      stall.unref();
      const deliver = (peer: string, service: string, payload: Buffer): void => {
        if (queued + payload.length > queueLimitBytes) {
          ctx.log('warn', 'Links delivery dropped: plugin not reading', { plugin: pluginId, peer, service, bytes: payload.length });
          write({
            error: {
              id: 0,
              code: status.RESOURCE_EXHAUSTED,
              message: `${service}: dropped a ${payload.length}-byte delivery, the plugin is not reading its Links stream (${queued} bytes queued)`,
              peer,
            },
          });
          return;
        }
        write({ delivery: { peer, service, payload } }, payload.length);
      };
      const frameError = (id: number, err: unknown, peer: string): void => {
        const s = toStatus(err);
        ctx.log('debug', 'Links frame refused', { plugin: pluginId, id, code: s.code, details: s.details });
        write({ error: { id, code: s.code, message: s.details, peer } });
      };

      write({ ready: { maxPayloadBytes: LINK_MAX_PAYLOAD_BYTES, services } });
      for (const service of services) {
        subs.push(
          ctx.adapter.linkMessages(service).subscribe({
            next: (m) => deliver(m.peer, m.service, m.payload),
            error: (err: unknown) => entry.close(toStatus(err)),
          }),
        );
      }
      subs.push(
        ctx.adapter.linkNotices.subscribe((n) => {
          if (own.has(n.service)) {
            write({ error: { id: 0, code: HOST_ERROR_STATUS[n.code], message: `${n.service}: ${n.message}`, peer: n.peer } });
          }
        }),
      );

      call.on('data', (frame: LinkSend__Output) => {
        let peer: string;
        try {
          if (!own.has(frame.service)) {
            throw new Refusal(
              'PERMISSION_DENIED',
              `service '${frame.service}' is not in plugin '${pluginId}' manifest's links.services [${services.join(', ')}]`,
            );
          }
          peer = fingerprint(frame.peer, 'peer');
          maxBytes(frame.payload.length, LINK_MAX_PAYLOAD_BYTES, 'payload', 'RESOURCE_EXHAUSTED');
        } catch (err) {
          frameError(frame.id, err, frame.peer);
          return;
        }
        // Read no further frame until the link took this one: that is the flow control.
        call.pause();
        ctx.adapter
          .sendLink(peer, frame.service, frame.payload, abort.signal)
          .catch((err: unknown) => {
            if (!done) frameError(frame.id, err, peer);
          })
          .finally(() => {
            if (!done) call.resume();
          });
      });
      // 'end' comes only after every frame was read, so every send has been handed over.
      call.on('end', () => {
        if (!done) call.end();
      });
    },
  };
}
