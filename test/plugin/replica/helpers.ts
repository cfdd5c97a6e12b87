/** Replica test fixtures: real sqlite stores in os.tmpdir(), the committed openpgp test keys, host-style signing. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pluginSignedMessage } from '../../../proto';
import { OpenpgpVerifier } from '../../../plugin/src/log/openpgp-verifier';
import { encodeCheckpoint, FolderState, decodeHashedEntry, type Checkpoint, type EntryBody, type HashedEntry, type NewChange, type Signer } from '../../../plugin/src/log';
import { Store } from '../../../plugin/src/store';
import { FolderReplica, type IngestResult } from '../../../plugin/src/replica';
import { FOLDER, fileMeta, loadIdentities, member, signerFor, type Name, type TestIdentity } from '../../vectors/fixtures';
import type { Member, Role } from '../../../plugin/src/acl';

export { FOLDER, fileMeta, loadIdentities, member, type Name, type TestIdentity };

export const PLUGIN_ID = 'kinfolder';
export const wrap = (m: Uint8Array): Uint8Array => pluginSignedMessage(PLUGIN_ID, m);
/** Verifies what the host signs: `pluginSignedMessage('kinfolder', bytes)`. */
export const hostVerifier = new OpenpgpVerifier({ wrap });
/** Signs as the host does, with a local key. */
export const hostSigner = (id: TestIdentity): Signer => signerFor(id.privateKey, wrap);

export const put = (p: string, label = p): EntryBody => ({ op: 'put', path: p, meta: fileMeta(label) });

export class Fixture {
  readonly dirs: string[] = [];
  readonly stores: Store[] = [];
  readonly replicas: FolderReplica[] = [];
  ids!: Record<Name, TestIdentity>;
  now = 1_750_000_000_000;
  readonly clock = (): number => this.now++;

  async init(): Promise<void> {
    this.ids = await loadIdentities();
  }

  async store(): Promise<Store> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-replica-'));
    this.dirs.push(dir);
    const s = await Store.open(path.join(dir, 'store.sqlite'));
    this.stores.push(s);
    return s;
  }

  async create(who: Name, members: Member[], name = 'shared'): Promise<FolderReplica> {
    const id = this.ids[who];
    const r = await FolderReplica.create({ store: await this.store(), folder: FOLDER, self: id.fingerprint, signer: hostSigner(id), verifier: hostVerifier, clock: this.clock, name, members });
    this.replicas.push(r);
    return r;
  }

  /** `who`'s replica in a new store, joined with the manifests `from` holds (as an invitation carries them). */
  async join(who: Name, from: FolderReplica): Promise<FolderReplica> {
    const id = this.ids[who];
    const r = await FolderReplica.join({ store: await this.store(), folder: FOLDER, self: id.fingerprint, signer: hostSigner(id), verifier: hostVerifier, clock: this.clock, manifests: from.manifestChain() });
    this.replicas.push(r);
    return r;
  }

  member(who: Name, role: Role, prefixes?: string[]): Member {
    return member(this.ids[who], role, prefixes);
  }

  change(who: Name, body: EntryBody, parents: NewChange['parents'] = []): NewChange {
    return { folder: FOLDER, author: this.ids[who].fingerprint, wallTimeMs: this.now, body, parents };
  }

  async cleanup(): Promise<void> {
    for (const r of this.replicas.splice(0)) await r.close();
    for (const s of this.stores.splice(0)) await s.close().catch(() => undefined);
    await Promise.all(this.dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  }
}

/** What one appendLocal gives a peer. */
export function wire(entries: readonly HashedEntry[], checkpoint: Checkpoint | null): { entries: Uint8Array[]; checkpoints: Uint8Array[] } {
  return { entries: entries.map((e) => e.bytes), checkpoints: checkpoint ? [encodeCheckpoint(checkpoint)] : [] };
}

/** Everything `from` has that `to` lacks, through missingFor + entriesFor, manifests included. */
export async function sync(from: FolderReplica, to: FolderReplica): Promise<IngestResult[]> {
  const out: IngestResult[] = [await to.ingest({ manifests: from.manifestChain() })];
  const { ranges } = await from.missingFor(await to.versionVector());
  for await (const b of from.entriesFor(ranges, { batchEntries: 2 })) out.push(await to.ingest({ entries: b.entries, checkpoints: b.checkpoints }));
  return out;
}

/** The log's own FolderState over every entry a replica stored: the reference state hash. */
export async function referenceStateHash(store: Store, replica: FolderReplica): Promise<string> {
  const s = new FolderState();
  for (const [author, { seq }] of await replica.versionVector()) {
    for await (const e of store.entriesRange(FOLDER, author, 1, seq)) s.apply(decodeHashedEntry(e.bytes));
  }
  return s.stateHash();
}

/** A member's node on disk: temp dir with `root/` and a sqlite store, and its replica (created with `members`, or joining `from`). */
export async function openMemberNode(
  prefix: string,
  id: TestIdentity,
  members: () => Member[],
  from?: { replica: FolderReplica },
): Promise<{ dir: string; root: string; store: Store; replica: FolderReplica }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const root = path.join(dir, 'root');
  await fs.mkdir(root);
  const store = await Store.open(path.join(dir, 'store.sqlite'));
  const base = { store, folder: FOLDER, self: id.fingerprint, signer: hostSigner(id), verifier: hostVerifier, clock: () => Date.now() };
  const replica = from
    ? await FolderReplica.join({ ...base, manifests: from.replica.manifestChain() })
    : await FolderReplica.create({ ...base, name: 'shared', members: members() });
  return { dir, root, store, replica };
}
