/** Peers service: the friend list, and a stream of its changes after a snapshot. */
import type { PeersHandlers } from '../../../../proto/generated/kinfolder/host/v1/Peers';
import { type ServiceContext, serverStream, unary } from '../context';
import { peerEventToWire, peerToWire } from '../wire';

export function peersHandlers(ctx: ServiceContext): PeersHandlers {
  return {
    List: unary(ctx, 'Peers.List', 'peers.read', () => ({ peers: ctx.adapter.peers().map(peerToWire) })),
    Watch: serverStream(ctx, 'Peers.Watch', 'peers.read', (call, _plugin, fail) => {
      // Snapshot and subscription in one synchronous step, so no change falls between them.
      call.write({ snapshot: { peers: ctx.adapter.peers().map(peerToWire) } });
      const sub = ctx.adapter.peerEvents.subscribe({
        next: (e) => call.write(peerEventToWire(e)),
        error: fail,
        complete: () => call.end(),
      });
      return () => sub.unsubscribe();
    }),
  };
}
