/** Sync fixtures: folder-engine nodes whose missing blocks come from peers, joined by sessions over the in-memory duplex. */
import { promises as fsp } from 'node:fs';
import { FolderEngine } from '../../../plugin/src/folder';
import type { Store } from '../../../plugin/src/store';
import { FolderReplica } from '../../../plugin/src/replica';
import { POSIX_TRAITS } from '../../../plugin/src/scan';
import { decodeMessage, FeedSources, PeerBlockSource, SyncSession, type SessionEvent, type SessionOptions, type SyncMessage } from '../../../plugin/src/sync';
import { FOLDER, loadIdentities, member, openMemberNode, type Name, type TestIdentity } from '../replica/helpers';
import { cut, duplex, type End } from './duplex';
import { until as folderUntil } from '../folder/helpers';

export { FOLDER };
export const WAIT_MS = 20_000;

export interface SyncNode {
  readonly name: Name;
  readonly root: string;
  readonly store: Store;
  readonly replica: FolderReplica;
  readonly engine: FolderEngine;
  readonly id: TestIdentity;
  readonly blocks: PeerBlockSource;
  /** Shared by the node's sessions, as a shared folder's are. */
  readonly sources: FeedSources;
}

export interface Link {
  readonly a: SyncSession;
  readonly b: SyncSession;
  /** a's end (what a sent) and b's end. */
  readonly ends: [End, End];
  readonly close: () => Promise<void>;
}

export class SyncCluster {
  readonly nodes: SyncNode[] = [];
  readonly links: Link[] = [];
  readonly sessions: SyncSession[] = [];
  private readonly dirs: string[] = [];
  ids!: Record<Name, TestIdentity>;

  async init(): Promise<void> {
    this.ids = await loadIdentities();
  }

  /** The creator (alice admin, bob writer, carol reader) or a member joining with `from`'s manifests. */
  async node(name: Name, from?: SyncNode, opts: { sourceStallMs?: number } = {}): Promise<SyncNode> {
    const id = this.ids[name];
    const members = () => [member(this.ids.alice, 'admin'), member(this.ids.bob, 'writer'), member(this.ids.carol, 'reader')];
    const { dir, root, store, replica } = await openMemberNode(`kf-sync-${name}-`, id, members, from);
    this.dirs.push(dir);
    const blocks = new PeerBlockSource();
    const engine = await FolderEngine.start({
      root,
      store,
      replica,
      self: id.fingerprint,
      blocks,
      clock: () => Date.now(),
      fsTraits: POSIX_TRAITS,
      scan: { rescanIntervalMs: 0, quietMs: 40, settleMs: 20 },
    });
    const node = { name, root, store, replica, engine, id, blocks, sources: new FeedSources(opts.sourceStallMs) };
    this.nodes.push(node);
    return node;
  }

  /** A session on `n` with `peer`, sending through `end`. */
  session(n: SyncNode, peer: Name, end: End, extra: Partial<SessionOptions> = {}): SyncSession {
    const s = new SyncSession({
      ...extra,
      engine: n.engine,
      replica: n.replica,
      peer: this.ids[peer].fingerprint,
      send: end.send,
      blocks: n.blocks,
      sources: n.sources,
      log: process.env.DEBUG_SYNC ? (m, d) => console.log(n.name, m, d) : undefined,
    });
    end.onReceive((b) => s.receive(b));
    if (process.env.DEBUG_SYNC) s.events.subscribe((e) => console.log(n.name, '<-', peer, e.type, e.type === 'sync:ingested' ? { accepted: e.result.accepted, deferred: e.result.deferred.length, refusals: e.result.refusals.length } : e.type === 'sync:problem' ? e.message : ''));
    this.sessions.push(s);
    return s;
  }

  /** Connects two nodes: a session on each side, both started. */
  async connect(a: SyncNode, b: SyncNode, opts: { maxBytes?: number; session?: Partial<SessionOptions> } = {}): Promise<Link> {
    const [ea, eb] = duplex(opts.maxBytes);
    const sa = this.session(a, b.name, ea, opts.session);
    const sb = this.session(b, a.name, eb, opts.session);
    await Promise.all([sa.start(), sb.start()]);
    const link: Link = {
      a: sa,
      b: sb,
      ends: [ea, eb],
      close: async () => {
        cut(ea);
        await Promise.all([sa.close(), sb.close()]);
      },
    };
    this.links.push(link);
    return link;
  }

  /** A session on `n` facing a scripted peer `as`: what `n` sends is collected in `got`. */
  async raw(n: SyncNode, as: Name): Promise<{ session: SyncSession; peer: End; mine: End; got: SyncMessage[]; arrived: (pred: (m: SyncMessage) => boolean, what: string, ms?: number) => Promise<SyncMessage> }> {
    const [mine, peer] = duplex();
    const session = this.session(n, as, mine);
    const got: SyncMessage[] = [];
    const waiters = new Set<(m: SyncMessage) => void>();
    peer.onReceive(async (b) => {
      const m = decodeMessage(b);
      got.push(m);
      for (const w of [...waiters]) w(m);
    });
    /** The first message (already received or to come) matching `pred`. */
    const arrived = (pred: (m: SyncMessage) => boolean, what: string, ms = WAIT_MS): Promise<SyncMessage> => {
      const had = got.find(pred);
      if (had) return Promise.resolve(had);
      return new Promise((resolve, reject) => {
        const w = (m: SyncMessage): void => {
          if (!pred(m)) return;
          waiters.delete(w);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
        }, ms);
        waiters.add(w);
      });
    };
    await session.start();
    this.links.push({ a: session, b: session, ends: [mine, peer], close: async () => cut(mine) });
    return { session, peer, mine, got, arrived };
  }

  async cleanup(): Promise<void> {
    for (const l of this.links.splice(0)) await l.close();
    for (const s of this.sessions.splice(0)) await s.close();
    for (const n of this.nodes.splice(0)) {
      n.sources.close();
      await n.engine.stop();
      await n.replica.close();
      await n.store.close().catch(() => undefined);
    }
    await Promise.all(this.dirs.splice(0).map((d) => fsp.rm(d, { recursive: true, force: true })));
  }
}

/** Resolves with the first event of `s` matching `pred` (events from now on); fails after `ms`. */
export function nextEvent<T extends SessionEvent>(s: SyncSession, pred: (e: SessionEvent) => e is T, what: string, ms?: number): Promise<T>;
export function nextEvent(s: SyncSession, pred: (e: SessionEvent) => boolean, what: string, ms?: number): Promise<SessionEvent>;
export function nextEvent(s: SyncSession, pred: (e: SessionEvent) => boolean, what: string, ms = WAIT_MS): Promise<SessionEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const sub = s.events.subscribe((e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(e);
    });
  });
}

export const caughtUp = (s: SyncSession, what = 'caught-up'): Promise<SessionEvent> => nextEvent(s, (e) => e.type === 'sync:caught-up', what);

/** Waits until `check` holds, checked now and after every event of the nodes' engines; fails after `ms`. */
export function until(nodes: readonly SyncNode[], check: () => Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  return folderUntil(nodes.map((n) => n.engine), check, what, ms);
}
