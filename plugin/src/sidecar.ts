/**
 * The sidecar's composition root: the host client, the folder service (store, engines, sync
 * over the host's Links) and the panel server. Each piece has start/stop; this wires them.
 */
import * as fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { filter } from 'rxjs';
import { pluginSignedMessage } from '../../proto';
import { KinfolderService } from './folders';
import { HostClient, type Peer } from './host';
import { OpenpgpVerifier } from './log/openpgp-verifier';
import { startPanelServer, type PanelServer } from './panel';

export const PLUGIN_ID = 'kinfolder';
export const SYNC_SERVICE = 'kinfolder.sync.v1';
export const PANEL = { id: 'folders', title: 'Shared folders', icon: '📁' } as const;

export interface SidecarOptions {
  hostAddress: string;
  hostToken: string;
  dataDir: string;
  log: Logger;
  /** Scanner timing (tests shorten it). */
  scan?: { rescanIntervalMs?: number; quietMs?: number; maxWaitMs?: number; settleMs?: number };
}

export interface Sidecar {
  readonly host: HostClient;
  readonly panel: PanelServer;
  /** The folder service, once the host has told us who we are. */
  readonly service: Promise<KinfolderService>;
  stop(): Promise<void>;
}

export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const log = opts.log;
  const host = new HostClient({
    address: opts.hostAddress,
    token: opts.hostToken,
    pluginId: PLUGIN_ID,
    log: (level, message, fields) => log[level](fields ?? {}, message),
  });
  let peers: Peer[] = [];
  const panel = await startPanelServer({
    status: async () => ({ self: await host.getSelf(), peers }),
  });
  const subs = [
    host.peers$.subscribe((p) => (peers = p)),
    // The host forgets panels when it restarts: register again every time the link is ready.
    host.state$.pipe(filter((s) => s === 'ready')).subscribe(() => {
      host.registerPanel({ ...PANEL, url: panel.url }).then(
        (r) => {
          panel.setToken(r.panelToken);
          log.info({ event: 'panel:registered', url: panel.url }, 'panel registered with the host');
        },
        (err: Error) => log.error({ event: 'panel:refused', err: err.message }, 'the host refused the panel'),
      );
    }),
    host.state$.subscribe((state) => log.info({ event: 'host:state', state }, `host link ${state}`)),
  ];
  host.start();
  const stopping = new AbortController();
  const service = KinfolderService.start({
    host,
    dataDir: opts.dataDir,
    syncService: SYNC_SERVICE,
    verifier: new OpenpgpVerifier({ wrap: (m) => pluginSignedMessage(PLUGIN_ID, m) }),
    log: (level, message, detail) => log[level](detail === undefined ? {} : { detail: detail instanceof Error ? detail.message : detail }, message),
    scan: opts.scan,
    signal: stopping.signal,
  });
  service.then(
    (s) => {
      panel.setService(s);
      log.info({ event: 'folders:ready' }, 'folder service ready');
    },
    (err: Error) => {
      if (!stopping.signal.aborted) log.error({ event: 'folders:failed', err: err.message }, 'the folder service did not start');
    },
  );
  return {
    host,
    panel,
    service,
    async stop() {
      stopping.abort();
      for (const s of subs) s.unsubscribe();
      await service.then((s) => s.stop(), () => undefined);
      await host.stop();
      await panel.close();
    },
  };
}
