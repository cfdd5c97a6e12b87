/**
 * Real nodes for folder tests: devhost apps (PGP keys, TLS links between them, the contract
 * server on a Unix socket), each with an in-process folder service talking to its host over
 * real gRPC through a HostClient. Files live in temp dirs; everything is removed afterwards.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { firstValueFrom, merge, interval } from 'rxjs';
import { pluginSignedMessage } from '../../../proto';
import { befriendAll, startDevhostApp, loadManifestFile, type DevhostApp } from '../../../host-bridge/src/app';
import { HostClient } from '../../../plugin/src/host';
import { OpenpgpVerifier } from '../../../plugin/src/log/openpgp-verifier';
import { KinfolderService, type FolderServiceOptions, type MemberEdit } from '../../../plugin/src/folders';
import { tempDir, waitPeerOnline } from '../../host-bridge/devhost/helpers';
import { snapshot } from '../../plugin/folder/helpers';

export { snapshot };
const ROOT = path.resolve(__dirname, '../../..');
const MANIFEST = path.join(ROOT, 'plugin.manifest.json');
export const SYNC_SERVICE = 'kinfolder.sync.v1';
export const WAIT_MS = 45_000;

export interface KinNode {
  readonly name: string;
  readonly dir: string;
  /** Replaced by `Net.restartHost`. */
  app: DevhostApp;
  client: HostClient;
  service: KinfolderService;
  fingerprint: string;
}

export class Net {
  readonly nodes: KinNode[] = [];
  private readonly dirs: string[] = [];
  /** Options every service started from now on gets, over the defaults below. */
  serviceOptions: Partial<Pick<FolderServiceOptions, 'peerAnswerMs'>> = {};
  /** What to stop, in the order started: run backwards, so a half-made node is stopped too. */
  private readonly stoppers: (() => Promise<unknown>)[] = [];

  async node(name: string): Promise<KinNode> {
    const dir = await tempDir(`kf-net-${name.toLowerCase()}-`);
    this.dirs.push(dir);
    const app = await startDevhostApp({ dataDir: path.join(dir, 'host'), name, plugins: [], log: () => {} });
    const node = { name, dir, app } as KinNode;
    this.stoppers.push(() => node.app.stop());
    const { token } = await app.registerPlugin(await loadManifestFile(MANIFEST));
    const client = new HostClient({ address: app.contractAddress, token, pluginId: 'kinfolder', backoff: { initialMs: 50, maxMs: 500 } });
    this.stoppers.push(() => client.stop());
    client.start();
    node.client = client;
    await this.startService(node);
    // Whichever service runs at the end (a restart replaces it).
    this.stoppers.push(() => node.service.stop());
    node.fingerprint = app.devhost.node.self().fingerprint;
    this.nodes.push(node);
    return node;
  }

  /** Starts the node's folder service (its sidecar) on its data, through its host client. */
  async startService(n: KinNode): Promise<void> {
    n.service = await KinfolderService.start({
      host: n.client,
      dataDir: path.join(n.dir, 'sidecar'),
      syncService: SYNC_SERVICE,
      verifier: new OpenpgpVerifier({ wrap: (m) => pluginSignedMessage('kinfolder', m) }),
      log: process.env.DEBUG_KIN ? (level, m, d) => console.log(n.name, level, m, d ?? '') : () => {},
      scan: { rescanIntervalMs: 0, quietMs: 40, settleMs: 20 },
      ...this.serviceOptions,
    });
  }

  /** Stops the node's folder service while its host stays up: friends still see it online, nobody answers for it. */
  async stopService(n: KinNode): Promise<void> {
    await n.service.stop();
  }

  /** Makes every pair of `nodes` friends and waits until they see each other online. */
  async friends(...nodes: KinNode[]): Promise<void> {
    await befriendAll(nodes.map((n) => n.app));
    for (const a of nodes) for (const b of nodes) if (a !== b) await waitPeerOnline(a.app.devhost.node, b.fingerprint);
    // And the services see them online through their host clients.
    for (const a of nodes) await until([a], () => nodes.every((b) => b === a || a.service.friends().some((f) => f.fingerprint === b.fingerprint && f.online)), `${a.name} seeing friends online`);
  }

  /** Stops the node's host (its links to every friend drop); the service keeps running and waits for it. */
  async stopHost(n: KinNode): Promise<void> {
    await n.app.stop();
  }

  /** Starts the node's host again on the same data: same key, friends, socket and plugin token. */
  async startHost(n: KinNode): Promise<void> {
    n.app = await startDevhostApp({ dataDir: path.join(n.dir, 'host'), name: n.name, plugins: [], log: () => {} });
  }

  /**
   * Cuts the link between two nodes while both hosts stay up (hosts sign for their sidecars,
   * so a node whose host is down cannot announce anything): `a` unfriends `b`, which drops the
   * TLS link; `heal` befriends again.
   */
  async cut(a: KinNode, b: KinNode): Promise<void> {
    await a.app.devhost.node.removeFriend(b.fingerprint);
    await until([a, b], () => !a.service.friends().some((f) => f.fingerprint === b.fingerprint && f.online) && !b.service.friends().some((f) => f.fingerprint === a.fingerprint && f.online), `${a.name} and ${b.name} apart`);
  }

  async heal(a: KinNode, b: KinNode): Promise<void> {
    await a.app.devhost.node.addFriend(b.app.devhost.node.certificate());
    await until([a, b], () => a.service.friends().some((f) => f.fingerprint === b.fingerprint && f.online) && b.service.friends().some((f) => f.fingerprint === a.fingerprint && f.online), `${a.name} and ${b.name} together again`);
  }

  root(n: KinNode, folder: string): string {
    return path.join(n.dir, 'folders', folder);
  }

  /** `admin` creates a folder at `<dir>/folders/<label>` holding `files`. */
  async create(admin: KinNode, label: string, files: Record<string, string> = {}): Promise<string> {
    const root = this.root(admin, label);
    await fsp.mkdir(root, { recursive: true });
    for (const [p, d] of Object.entries(files)) await write(root, p, d);
    const f = await admin.service.createFolder({ name: label, root });
    return f.id;
  }

  /** `admin` invites `who` with `role`; `who` accepts into `<dir>/folders/<label>`. */
  async invite(admin: KinNode, folder: string, who: KinNode, role: 'reader' | 'writer' | 'admin', pathPrefixes?: string[]): Promise<string> {
    const edit: MemberEdit = { kind: 'invite', fingerprint: who.fingerprint, role, ...(pathPrefixes ? { pathPrefixes } : {}) };
    await admin.service.editMember(folder, edit);
    await until([who], () => who.service.invitations().some((i) => i.folder === folder), `${who.name} receiving the invitation`);
    const label = (await admin.service.folder(folder)).name;
    const root = this.root(who, label);
    await who.service.acceptInvitation(folder, root);
    return root;
  }

  async cleanup(): Promise<void> {
    this.nodes.length = 0;
    for (const stop of this.stoppers.splice(0).reverse()) await stop().catch(() => undefined);
    await Promise.all(this.dirs.splice(0).map((d) => fsp.rm(d, { recursive: true, force: true })));
  }
}

export async function write(root: string, p: string, data: string | Buffer): Promise<void> {
  await fsp.mkdir(path.dirname(path.join(root, p)), { recursive: true });
  await fsp.writeFile(path.join(root, p), data);
}

export const read = (root: string, p: string): Promise<string | undefined> => fsp.readFile(path.join(root, p), 'utf8').catch(() => undefined);

/**
 * Waits until `check` holds: checked now, after every event of the nodes' services, and every
 * 200 ms (some conditions, like a file on disk, have no event of their own); fails after `ms`.
 */
export async function until(nodes: readonly KinNode[], check: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const ticks = merge(interval(200), ...nodes.map((n) => n.service.events));
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    // The next event of any node (or the next tick): checked one at a time, never piled up.
    await firstValueFrom(ticks);
  }
}

/** Identical files on disk (ignoring .kinfolder) and the same folder state hash on every node. */
export async function converged(folder: string, nodes: readonly { node: KinNode; root: string }[]): Promise<boolean> {
  const hashes = new Set<string>();
  const trees = new Set<string>();
  for (const { node, root } of nodes) {
    const f = node.service.running(folder);
    if (!f) return false;
    hashes.add(await f.replica.state.stateHash());
    trees.add(JSON.stringify([...(await snapshot(root))]));
  }
  return hashes.size === 1 && trees.size === 1;
}
