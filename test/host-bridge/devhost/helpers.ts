/** Shared test helpers: temp data dirs, in-process nodes on loopback, waiting on events. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { filter, firstValueFrom, timeout, type Observable } from 'rxjs';
import { DevhostNode, type DevhostNodeOptions } from '../../../host-bridge/src/devhost';

export async function tempDir(prefix = 'kf-devhost-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export class NodeFixture {
  readonly nodes: DevhostNode[] = [];
  readonly dirs: string[] = [];
  readonly logs = new Map<DevhostNode, string[]>();

  async dir(): Promise<string> {
    const d = await tempDir();
    this.dirs.push(d);
    return d;
  }

  async node(name: string, opts: Partial<DevhostNodeOptions> = {}, start = true): Promise<DevhostNode> {
    const dataDir = opts.dataDir ?? (await this.dir());
    const lines: string[] = [];
    const node = await DevhostNode.create({ listenPort: 0, ...opts, dataDir, name, log: (l) => lines.push(l) });
    this.logs.set(node, lines);
    this.nodes.push(node);
    if (start) await node.start();
    return node;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await Promise.all(this.dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  }
}

export function waitFor<T, S extends T>(source: Observable<T>, predicate: (v: T) => v is S, ms?: number, what?: string): Promise<S>;
export function waitFor<T>(source: Observable<T>, predicate: (v: T) => boolean, ms?: number, what?: string): Promise<T>;
export function waitFor<T>(source: Observable<T>, predicate: (v: T) => boolean, ms = 15_000, what = 'event'): Promise<T> {
  return firstValueFrom(
    source.pipe(
      filter(predicate),
      timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${what}`); } }),
    ),
  );
}

/** Resolves once `node` sees `fingerprint` online (or offline). Check and subscribe happen in one tick, so nothing is missed. */
export async function waitPeerOnline(node: DevhostNode, fingerprint: string, online = true, ms = 15_000): Promise<void> {
  const now = node.peers().find((x) => x.fingerprint === fingerprint);
  if (now && now.online === online) return;
  await waitFor(node.peerEvents, (e) => e.kind === 'changed' && e.peer.fingerprint === fingerprint && e.peer.online === online, ms, `${fingerprint.slice(0, 8)} ${online ? 'online' : 'offline'}`);
}

export async function befriend(a: DevhostNode, b: DevhostNode): Promise<void> {
  await a.addFriend(b.certificate());
  await b.addFriend(a.certificate());
  await Promise.all([waitPeerOnline(a, b.self().fingerprint), waitPeerOnline(b, a.self().fingerprint)]);
}
