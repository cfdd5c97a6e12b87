/**
 * Devhost nodes with real sidecar processes on loopback, friends with each other, driven through
 * each node's panel API as a person would: share a folder, invite, accept, leave; a node can be
 * stopped and started again on the same data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { filter, firstValueFrom, map, startWith, timeout } from 'rxjs';
import { startDevhostApp, type DevhostApp } from '../../host-bridge/src/app';
import { panelApi, poll, type PanelApi } from '../../scripts/lib/panel-api';
import { childPids, isChildWith } from './proc';

const MANIFEST = path.resolve(__dirname, '..', '..', 'plugin.manifest.json');
const LOG_LINES = 400;

export type Role = 'admin' | 'writer' | 'reader';

export interface FolderStatusView {
  state: string;
  behindEntries: number;
  behindEntriesLastKnown?: boolean;
  behindFiles: number;
  behindBytes: number;
  scan?: { done: number; total: number };
  peers: { fingerprint: string; online: boolean; state: string; theyLackEntries: number; weLackEntries: number; vector?: 'fresh' | 'last-known' | 'none' }[];
}

/**
 * A POST that meets a keep-alive connection the panel's server has just closed fails as
 * `fetch failed` (socket closed) before the server saw it; undici retries only idempotent
 * methods, so this sends it once more in that case.
 */
async function post<T>(api: PanelApi, p: string, body: unknown): Promise<T> {
  try {
    return await api.post<T>(p, body);
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    if ((e as Error).message !== 'fetch failed' || !cause || !['UND_ERR_SOCKET', 'ECONNRESET'].includes(cause.code ?? '')) throw e;
    return api.post<T>(p, body);
  }
}

export class BenchNode {
  app?: DevhostApp;
  api?: PanelApi;
  /** The last lines the host and its sidecar logged (printed when a workload fails). */
  readonly logLines: string[] = [];
  /** performance.now() of the sidecar's last 'folder service ready' line. */
  readyAtMs?: number;

  constructor(
    readonly name: string,
    readonly dataDir: string,
  ) {}

  get fingerprint(): string {
    return this.app!.devhost.node.self().fingerprint;
  }

  private log(line: string): void {
    if (line.includes('"folders:ready"')) this.readyAtMs = performance.now();
    this.logLines.push(line);
    if (this.logLines.length > LOG_LINES) this.logLines.splice(0, this.logLines.length - LOG_LINES);
  }

  async start(env?: Record<string, string>): Promise<void> {
    this.readyAtMs = undefined;
    this.app = await startDevhostApp({ dataDir: this.dataDir, name: this.name, plugins: [MANIFEST], log: (l) => this.log(l), pluginEnv: env });
  }

  /** The sidecar's folder service answers (after a start, the sidecar took the host's token and opened its folders). */
  async connectApi(ms = 120_000): Promise<PanelApi> {
    const api = await poll(() => panelApi(this.app!.web.url), `${this.name}'s panel`, ms);
    await poll(() => api.get('/api/self'), `${this.name}'s folder service`, ms);
    this.api = api;
    return api;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    this.api = undefined;
    await app?.stop();
  }

  private pid?: number;

  /**
   * The sidecar process of this node (a child of this process running the plugin on this node's
   * data). Remembered while it lives: a walk of /proc per call cost the bench process (whose CPU
   * the figures count as the hosts') several CPU-seconds a workload on a machine with many processes.
   */
  sidecarPid(): number | undefined {
    const parts = ['kinfolder.js', path.join(this.dataDir, 'plugins')];
    if (this.pid !== undefined && isChildWith(this.pid, process.pid, parts)) return this.pid;
    this.pid = childPids(process.pid, parts)[0];
    return this.pid;
  }

  /** Bytes of frames this node's host has sent on its TLS links to each friend since it started. */
  sentBytes(): number {
    const node = this.app!.devhost.node;
    let n = 0;
    for (const f of node.friends()) n += (node.linkInfo(f.fingerprint) as { sentBytes?: number }).sentBytes ?? 0;
    return n;
  }

  async status(folder: string): Promise<FolderStatusView> {
    return (await this.api!.get<{ status: FolderStatusView }>(`/api/folders/${folder}`)).status;
  }
}

export class Cluster {
  private constructor(readonly nodes: BenchNode[]) {}

  /** `env`: extra environment for the sidecars (say NODE_OPTIONS=--cpu-prof). */
  static async start(root: string, names: string[], env?: Record<string, string>): Promise<Cluster> {
    const nodes = names.map((n) => new BenchNode(n, path.join(root, n.toLowerCase())));
    const c = new Cluster(nodes);
    try {
      for (const n of nodes) await n.start(env);
      for (const a of nodes) {
        for (const b of nodes) {
          if (a === b) continue;
          const node = a.app!.devhost.node;
          if (!node.peers().some((p) => p.fingerprint === b.fingerprint)) await node.addFriend(b.app!.devhost.node.certificate());
        }
      }
      await Promise.all(nodes.map((n) => c.whenLinked(n)));
      await Promise.all(nodes.map((n) => n.connectApi()));
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Every friend of `n` online. */
  async whenLinked(n: BenchNode, ms = 60_000): Promise<void> {
    const node = n.app!.devhost.node;
    await firstValueFrom(
      node.peerEvents.pipe(
        startWith(null),
        map(() => node.peers().filter((p) => p.online).length),
        filter((k) => k === this.nodes.length - 1),
        timeout(ms),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => undefined)));
  }

  sidecarPids(): Map<string, number | undefined> {
    return new Map(this.nodes.map((n) => [n.name, n.sidecarPid()]));
  }

  /** Node 0 makes a folder of `root` (files already there are scanned into its log) and waits until the first scan is done. */
  async create(name: string, root: string): Promise<string> {
    const api = this.nodes[0].api!;
    const folder = await post<{ id: string }>(api, '/api/folders', { name, root });
    await poll(
      async () => {
        const s = await this.nodes[0].status(folder.id);
        return s.state !== 'scanning' && !s.scan ? true : undefined;
      },
      `the first scan of ${name}`,
      600_000,
      100,
    );
    return folder.id;
  }

  /** Node 0 invites nodes `members` with `role`; each waits for the invitation (not yet accepted). */
  async invite(folder: string, members: { node: number; role: Role }[]): Promise<void> {
    for (const m of members) {
      await post(this.nodes[0].api!, `/api/folders/${folder}/members`, { kind: 'invite', fingerprint: this.nodes[m.node].fingerprint, role: m.role });
    }
    await Promise.all(
      members.map((m) =>
        poll(
          async () => ((await this.nodes[m.node].api!.get<{ folder: string }[]>('/api/invitations')).some((v) => v.folder === folder) ? true : undefined),
          `${this.nodes[m.node].name}'s invitation`,
          60_000,
          50,
        ),
      ),
    );
  }

  async accept(folder: string, node: number, root: string): Promise<void> {
    await post(this.nodes[node].api!, `/api/invitations/${folder}/accept`, { root });
  }

  /**
   * Ends a workload's folder so that it costs nothing later (its files are then removed): node 0
   * removes the members (leaving alone does not take a member out of the manifest, and the last
   * admin cannot leave while others are members), they leave, then node 0 leaves. Each call gets
   * `ms`; what failed or hung is returned (a leave waits for the applies in flight).
   */
  async retire(folder: string, members: number[], ms = 30_000): Promise<string[]> {
    const problems: string[] = [];
    const step = async (what: string, f: () => Promise<unknown>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms)));
      try {
        await Promise.race([f(), late]);
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    };
    const admin = this.nodes[0];
    for (const i of members) {
      const n = this.nodes[i];
      await step(`${admin.name} removes ${n.name}`, () => post(admin.api!, `/api/folders/${folder}/members`, { kind: 'remove', fingerprint: n.fingerprint }));
    }
    for (const i of members) {
      const api = this.nodes[i].api;
      if (api) await step(`${this.nodes[i].name} leaves`, () => post(api, `/api/folders/${folder}/leave`, {}));
    }
    await step(`${admin.name} leaves`, () => post(admin.api!, `/api/folders/${folder}/leave`, {}));
    return problems;
  }

  /** Removes a retired folder's files everywhere. */
  static removeRoots(roots: string[]): void {
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  }
}
