/**
 * One folder's replica on this node: the pure log and acl wired to the sqlite store. Local
 * changes become signed entries; entries and manifests from peers are verified, validated and
 * stored; and it answers what sync asks (version vector, missing ranges, entries to send).
 *
 * Every operation that changes the replica runs alone (a queue), so feed tips in memory and
 * in the store never disagree: tips are staged during an operation and kept only once the
 * store has committed its one transaction.
 */
import {
  ManifestChain,
  ManifestIndex,
  checkTransition,
  decodeManifest,
  encodeSignedManifest,
  manifestChange,
  signManifest,
  type KeyInspector,
  type ManifestChange,
  type ManifestRefusalReason,
  type ManifestVersion,
  type Member,
  type Overruled,
  type SignedManifest,
} from '../acl';
import {
  appendBatch,
  decodeCheckpoint,
  decodeHashedEntry,
  sha256Hex,
  signCheckpoint,
  DecodeError,
  missingFrom,
  pathProblem,
  pathsOf,
  peekAuthor,
  peekSeq,
  sameAuthorBytes,
  validateFeed,
  type Checkpoint,
  type FeedTip,
  type Fingerprint,
  type FolderId,
  type ForkEvidence,
  type Hash,
  type HashedEntry,
  type NewChange,
  type ParentRef,
  type RefusalReason,
  type SeqRange,
  type SignatureVerifier,
  type Signer,
  type VersionVector,
  type WriteAuthority,
  type WriteDecision,
} from '../log';
import type { AppendBatch, CutStore, EntryRecord, EntryStore, ForkRecord, ManifestStore, RefusedStore } from '../store';
import { checkAborted, ReplicaError } from './errors';
import { LamportCache } from './lamport-cache';
import { genesisManifest, editedManifest, type ManifestEdit } from './manifest-edit';
import { checkpointRecord, encodeCheckpointRecord, entryRecord, forkRecord, manifestRecord, type ForkSide } from './records';
import { ReplicaState } from './state';

/** Lets I/O callbacks run (a microtask would not). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The store as the replica needs it: the log tables and the manifests. */
export type ReplicaStore = EntryStore & ManifestStore & CutStore & RefusedStore;

export interface ReplicaOptions {
  readonly store: ReplicaStore;
  readonly folder: FolderId;
  /** The local identity's fingerprint: the author of local entries and manifest edits. */
  readonly self: Fingerprint;
  /** Signs through the host (`HostClient.sign` wraps the bytes in `pluginSignedMessage`). */
  readonly signer: Signer;
  /** Must accept what `signer` makes, e.g. `new OpenpgpVerifier({ wrap: (m) => pluginSignedMessage('kinfolder', m) })`. */
  readonly verifier: SignatureVerifier;
  /** Checks that a member's key is filed under its own fingerprint; defaults to `verifier` if it can. */
  readonly keys?: KeyInspector;
  /** Milliseconds since the epoch, for manifest times and fork evidence. */
  readonly clock: () => number;
  readonly signal?: AbortSignal;
  /** Entries kept in memory while they wait for parents from feeds not received yet (default 10,000). */
  readonly maxPendingEntries?: number;
  /**
   * A local batch gets a checkpoint at least every this many entries (default 1,000). Peers can
   * only validate a run of entries that ends at a checkpoint, so this bounds the batches they
   * catch up in, and with them their memory (measured: batches of 1,000 peak at ~170 MB RSS
   * catching up, of 5,000 at ~280 MB, for the same entries/s).
   */
  readonly checkpointEvery?: number;
  /**
   * Clocks of recently stored entries kept by hash for the parents of later ones (default
   * 2,048). Small on purpose: 20,000 cost ~13 MB of heap in a 100k catch-up, and the parents it
   * misses cost one batched store query per batch.
   */
  readonly lamportCacheEntries?: number;
}

export interface CreateOptions extends ReplicaOptions {
  readonly name: string;
  /** Members of the genesis; must include the local identity (with its public key), who becomes admin. */
  readonly members: readonly Member[];
}

/** One refused input, with its feed and seq when known. */
export interface IngestRefusal {
  readonly kind: 'entry' | 'checkpoint';
  readonly reason: RefusalReason;
  readonly detail: string;
  readonly author: Fingerprint;
  readonly seq?: number;
  readonly hash?: Hash;
}

export interface IngestDeferral {
  readonly author: Fingerprint;
  readonly seq: number;
  readonly hash: Hash;
  readonly missingParents: readonly Hash[];
  /** False when the pending buffer was full: the entry was dropped and must be sent again. */
  readonly kept: boolean;
}

export interface IngestInput {
  /** Encoded signed manifests (encodeSignedManifest), any order. */
  readonly manifests?: readonly Uint8Array[];
  readonly entries?: readonly Uint8Array[];
  readonly checkpoints?: readonly Uint8Array[];
}

export interface IngestResult {
  /** Entries stored by this call. */
  readonly accepted: number;
  /** Those entries, decoded (what the folder engine applies, without decoding them again). */
  readonly entries: readonly HashedEntry[];
  readonly refusals: IngestRefusal[];
  /** Entries that wait for parents from another feed (kept in memory up to a bound). */
  readonly deferred: IngestDeferral[];
  readonly forks: ForkEvidence[];
  /** Manifest versions that lost to a concurrent edit by this call. */
  readonly overruledManifests: Overruled[];
  readonly manifestsApplied: Hash[];
  readonly manifestRefusals: { readonly hash: Hash | null; readonly reason: ManifestRefusalReason; readonly detail: string }[];
  /** What the new current manifest means for entries already judged (present when the head moved). */
  readonly manifestChange?: ManifestChange;
  /** Stored entries the new current manifest made invalid, removed by this call (see FeedCutReport). */
  readonly cuts: FeedCutReport[];
}

/**
 * Entries of one feed that a new current manifest made invalid (a revocation, a demotion, a
 * narrowed grant), removed from the store from `fromSeq` on: this node's state becomes the
 * one a node that refused them on arrival has. The feed goes on from `fromSeq` (its author
 * may write again there, within the new grant).
 */
export interface FeedCutReport {
  readonly author: Fingerprint;
  readonly fromSeq: number;
  /** Why the entry at fromSeq is no longer valid (the ACL's verdict on it). */
  readonly reason: RefusalReason;
  readonly detail: string;
  readonly removed: number;
  /** Paths the removed entries touched: their files follow the state again. */
  readonly paths: readonly string[];
  /** When the feed is self's: the removed entries, whose changes are on this node's disk and shared no more. */
  readonly own: readonly HashedEntry[];
}

/** What appendLocal stored: the new entries and their checkpoints (one per `checkpointEvery` entries, the last at the end). */
export interface LocalBatch {
  readonly entries: HashedEntry[];
  /** The checkpoint at the last entry (null only for an empty batch). */
  readonly checkpoint: Checkpoint | null;
  readonly checkpoints: Checkpoint[];
}

/** A batch for a peer: entries in seq order and the checkpoint that covers them. */
export interface EntryBatch {
  readonly author: Fingerprint;
  readonly entries: Buffer[];
  readonly checkpoints: Buffer[];
}

/** Authority when no manifest is known yet: nobody may write. */
const NO_AUTHORITY: WriteAuthority = {
  publicKeyOf: () => undefined,
  mayWrite: (author) => ({ ok: false, reason: 'UNKNOWN_AUTHOR', detail: `${author}: no manifest yet` }),
};

const MAX_REMEMBERED_REFUSALS = 100_000;

/**
 * Refusals that stay true under the current manifest (an author's are forgotten when a
 * manifest change may let their entries in): an entry refused so will never be stored. Not UNCOVERED or BROKEN_CHAIN, which the next batch may cure.
 */
const FINAL_REFUSALS = new Set<RefusalReason>(['DECODE', 'WRONG_FEED', 'UNKNOWN_AUTHOR', 'NOT_A_WRITER', 'OUTSIDE_PATH_GRANT', 'REVOKED', 'FORK', 'BAD_PATH', 'BAD_LAMPORT']);

/**
 * Sorts a peer's entries into their feeds' lists. The per-entry loops of ingest live in small
 * functions like this: inside ingestNow, V8 compiled all they inline into that big async
 * function (~180 ms of a compiler thread per catch-up, --trace-opt). A peer sends runs of one
 * feed, so an entry whose author bytes are the previous entry's skips making the fingerprint.
 */
function groupByAuthor(entries: readonly Uint8Array[], listOf: (author: Fingerprint) => Uint8Array[]): void {
  let list: Uint8Array[] | null = null;
  let last: Uint8Array | null = null;
  for (let i = 0; i < entries.length; i++) {
    const bytes = entries[i];
    if (list === null || last === null || !sameAuthorBytes(last, bytes)) list = listOf(peekAuthor(bytes));
    list.push(bytes);
    last = bytes;
  }
}

/**
 * Refuses a batch of local changes (BAD_CHANGE, WRITE_REFUSED) unless every one is self's, in
 * this folder, on clean paths that the manifest lets self write at the seq it will get (the
 * first after `tipSeq`). Indexed loops: for-of allocated an iterator result per step.
 */
function checkLocalChanges(changes: readonly NewChange[], folder: FolderId, self: Fingerprint, tipSeq: number, authority: WriteAuthority): void {
  let seq = tipSeq;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    seq++;
    if (c.folder !== folder || c.author !== self) throw new ReplicaError('BAD_CHANGE', `a change of ${c.author} in ${c.folder}, not of ${self} in ${folder}`);
    const paths = pathsOf(c.body);
    for (let k = 0; k < paths.length; k++) {
      const p = paths[k];
      const problem = pathProblem(p);
      if (problem !== null) throw new ReplicaError('BAD_CHANGE', `path ${JSON.stringify(p)}: ${problem}`, 'BAD_PATH');
      const d = authority.mayWrite(self, p, seq);
      if (!d.ok) throw new ReplicaError('WRITE_REFUSED', d.detail, d.reason);
    }
  }
}

function pushAll<T>(to: T[], from: readonly T[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]);
}

/** Accepted entries into the call's list and as store records. */
function pushRecords(accepted: readonly HashedEntry[], acceptedList: HashedEntry[], records: EntryRecord[]): void {
  for (let i = 0; i < accepted.length; i++) {
    acceptedList.push(accepted[i]);
    records.push(entryRecord(accepted[i]));
  }
}

/** Whether any of the encoded entries claims a seq at or below `tipSeq` (or one that cannot be read). */
function reachesDown(entries: readonly Uint8Array[], tipSeq: number): boolean {
  for (let i = 0; i < entries.length; i++) {
    const seq = peekSeq(entries[i]);
    if (seq === undefined || seq <= tipSeq) return true;
  }
  return false;
}

export class FolderReplica {
  readonly folder: FolderId;
  readonly self: Fingerprint;
  /** Heads, winners, conflicts and the state hash, read from the store (see state.ts). */
  readonly state: ReplicaState;
  private readonly store: ReplicaStore;
  private readonly tips = new Map<Fingerprint, FeedTip>();
  private readonly forkedAt = new Map<Fingerprint, number>();
  private readonly storedOverruled = new Map<Hash, boolean>();
  /** Entries waiting for parents from other feeds, by author, with their checkpoints. */
  private readonly pending = new Map<Fingerprint, { entries: Uint8Array[]; checkpoints: Uint8Array[] }>();
  private pendingCount = 0;
  /**
   * Hashes refused here, with the feed they claimed: naming one as a parent must not stall a
   * feed (validateFeed gives it clock 0). The store keeps them too, for after a restart.
   */
  private readonly refusedHashes = new Map<Hash, Fingerprint>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Batches handed to the store and not committed yet (see `pipelined`). */
  private readonly inflight = new Set<readonly HashedEntry[]>();
  private lastCommit: Promise<void> | null = null;
  /** A commit failed: tips must be read again from the store before the next operation. */
  private stale = false;
  /** Clocks of entries committed lately, for the parents of the next ones (see parentLamports). */
  private readonly lamports: LamportCache;

  private constructor(
    private readonly opts: ReplicaOptions,
    private readonly chain: ManifestChain,
    emptyStore: boolean,
  ) {
    this.folder = opts.folder;
    this.self = opts.self;
    this.store = opts.store;
    this.state = new ReplicaState(opts.store, opts.folder, (signal) => this.scanEntries(signal), emptyStore);
    this.lamports = new LamportCache(opts.lamportCacheEntries ?? 2048);
  }

  /** Every stored entry of the folder, feed by feed, streamed. */
  private async *scanEntries(signal?: AbortSignal): AsyncIterableIterator<EntryRecord> {
    for (const [author, { seq }] of await this.store.versionVector(this.folder)) {
      yield* this.store.entriesRange(this.folder, author, 1, seq, { signal, pageSize: 2000 });
    }
  }

  private static chainFor(opts: ReplicaOptions): ManifestChain {
    const v = opts.verifier as SignatureVerifier & Partial<KeyInspector>;
    const keys = opts.keys ?? (typeof v.fingerprintOf === 'function' ? (v as unknown as KeyInspector) : undefined);
    return new ManifestChain({ folder: opts.folder, verifier: opts.verifier, keys });
  }

  /** Opens the replica of a folder whose manifest is in the store; resumes tips, chain and forks. */
  static async open(opts: ReplicaOptions): Promise<FolderReplica> {
    checkAborted(opts.signal, 'open');
    const records = await opts.store.manifestChain(opts.folder);
    if (records.length === 0) throw new ReplicaError('NO_MANIFEST', `no manifest of folder ${opts.folder} in the store`);
    const chain = FolderReplica.chainFor(opts);
    const vector = await opts.store.versionVector(opts.folder);
    const r = new FolderReplica(opts, chain, vector.size === 0);
    // Versions were verified before they were stored; they are verified again, since the file may have been changed.
    for (const rec of records) {
      checkAborted(opts.signal, 'open');
      const res = await chain.apply({ manifest: decodeManifest(rec.bytes), signature: rec.signature }, opts.signal);
      if (res.status === 'refused') throw new ReplicaError('NO_MANIFEST', `stored manifest ${rec.hash} is refused: ${res.reason}: ${res.detail}`, res.reason);
      r.storedOverruled.set(rec.hash, rec.overruled);
    }
    if (!chain.head()) throw new ReplicaError('NO_MANIFEST', `the stored manifests of ${opts.folder} hold no genesis`);
    for (const [author, { seq, head }] of vector) {
      const e = await opts.store.entry(head);
      if (e) r.tips.set(author, { seq, hash: head, lamport: e.lamport });
    }
    for (const f of await opts.store.forks(opts.folder)) r.forkedAt.set(f.author, Math.min(f.seq, r.forkedAt.get(f.author) ?? Infinity));
    return r;
  }

  /** Makes a new folder: a genesis signed by `self` (as admin), stored, then opened. */
  static async create(opts: CreateOptions): Promise<FolderReplica> {
    checkAborted(opts.signal, 'create');
    if ((await opts.store.manifestChain(opts.folder)).length > 0) throw new ReplicaError('ALREADY_CREATED', `folder ${opts.folder} already has a manifest`);
    const genesis = genesisManifest(opts.folder, opts.name, opts.self, opts.members, opts.clock());
    const broken = checkTransition(null, genesis);
    if (broken) throw new ReplicaError('MANIFEST_REFUSED', broken.detail, broken.reason);
    const signed = await signManifest(opts.signer, genesis);
    const chain = FolderReplica.chainFor(opts);
    const res = await chain.apply(signed, opts.signal);
    if (res.status !== 'applied') throw new ReplicaError('MANIFEST_REFUSED', `the signed genesis is ${res.status}${res.status === 'refused' ? `: ${res.detail}` : ''}`, res.status === 'refused' ? res.reason : undefined);
    await opts.store.putManifest(manifestRecord(res.hash, signed, false));
    return FolderReplica.open(opts);
  }

  /**
   * Joins a folder made elsewhere: its manifest versions (from the invitation or a peer) are
   * verified through the chain and stored, then the replica opens. Refused versions are left out;
   * without a verified genesis it fails with NO_MANIFEST.
   */
  static async join(opts: ReplicaOptions & { readonly manifests: readonly Uint8Array[] }): Promise<FolderReplica> {
    checkAborted(opts.signal, 'join');
    const chain = FolderReplica.chainFor(opts);
    for (const bytes of opts.manifests) await chain.apply(bytes, opts.signal);
    if (!chain.head()) throw new ReplicaError('NO_MANIFEST', `no verified genesis of folder ${opts.folder} among ${opts.manifests.length} versions`);
    const overruled = new Set(chain.overruled().map((o) => o.hash));
    for (const v of chain.versions()) await opts.store.putManifest(manifestRecord(v.hash, v.signed, overruled.has(v.hash)));
    return FolderReplica.open(opts);
  }

  /** Runs `op` after every earlier operation, alone. */
  private exclusive<T>(what: string, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    return this.pipelined(what, signal, async () => ({ value: await op() }));
  }

  /**
   * Runs `op` alone, up to the moment it hands its batch to the store: the next operation
   * validates or signs while sqlite commits this one (on its own thread). The caller's promise
   * settles only after the commit. A batch is handed over only once the one before it has
   * committed, so the store never holds a batch whose predecessor failed (no gap in a feed, and
   * no second history of our own feed). Tips move on at hand-over; after a failed commit the
   * next batch is refused (PREVIOUS_COMMIT_FAILED) and the operation after it reloads tips.
   */
  private pipelined<T>(what: string, signal: AbortSignal | undefined, op: () => Promise<{ value: T; commit?: Promise<unknown> }>): Promise<T> {
    const staged = this.queue.then(async () => {
      if (this.closed) throw new ReplicaError('CLOSED', `${what}: the replica is closed`);
      checkAborted(signal, what);
      if (this.stale) await this.reload();
      return op();
    });
    this.queue = staged.catch(() => undefined);
    return staged.then(async ({ value, commit }) => {
      if (commit) await commit;
      return value;
    });
  }

  /**
   * Hands a batch to the store once the previous one committed; returns its commit. Lookups
   * see its entries (through `inflight`) until the reader does.
   */
  private async submit(batch: AppendBatch, entries: readonly HashedEntry[], signal: AbortSignal | undefined): Promise<{ commit: Promise<void> }> {
    const previous = this.lastCommit;
    // Checked and encoded while the previous batch commits; stored only once it has.
    this.store.prepareBatch?.(batch);
    if (previous) {
      try {
        await previous;
      } catch (err) {
        throw new ReplicaError('PREVIOUS_COMMIT_FAILED', 'the batch before this one failed to commit; this one was not stored', undefined, { cause: err });
      }
    }
    checkAborted(signal, 'store');
    this.inflight.add(entries);
    const commit = this.store.appendBatch(batch, { signal }).then(
      () => {
        this.inflight.delete(entries);
        this.lamports.setAll(entries);
      },
      (err: unknown) => {
        this.inflight.delete(entries);
        this.stale = true;
        throw err;
      },
    );
    this.lastCommit = commit;
    void commit.catch(() => undefined);
    // Wrapped: an async function returning the promise itself would wait for it.
    return { commit };
  }

  /** Tips and forks as the store has them, after a failed commit. */
  private async reload(): Promise<void> {
    await this.lastCommit?.catch(() => undefined);
    this.lastCommit = null;
    this.tips.clear();
    this.lamports.clear();
    for (const [author, { seq, head }] of await this.store.versionVector(this.folder)) {
      const e = await this.store.entry(head);
      if (e) this.tips.set(author, { seq, hash: head, lamport: e.lamport });
    }
    this.forkedAt.clear();
    for (const f of await this.store.forks(this.folder)) this.forkedAt.set(f.author, Math.min(f.seq, this.forkedAt.get(f.author) ?? Infinity));
    this.stale = false;
  }

  /** An entry handed to the store but maybe not committed yet. */
  private inflightEntry(hash: Hash): HashedEntry | undefined {
    for (const batch of this.inflight) for (const he of batch) if (he.hash === hash) return he;
    return undefined;
  }

  /** The current manifest version (the resolved head of the chain). */
  manifest(): { hash: Hash; manifest: ManifestVersion; index: ManifestIndex } {
    return this.chain.head() as { hash: Hash; manifest: ManifestVersion; index: ManifestIndex };
  }

  /** Every applied manifest version, encoded and signed, each after its prev: what a peer needs. */
  manifestChain(): Buffer[] {
    return this.chain.versions().map((v) => encodeSignedManifest(v.signed));
  }

  /** Versions that lost to a concurrent edit. */
  overruledManifests(): Overruled[] {
    return this.chain.overruled();
  }

  /** Where a feed stands on this node (null: nothing of it stored). */
  tip(author: Fingerprint = this.self): FeedTip | null {
    return this.tips.get(author) ?? null;
  }

  /** The seq at which an author's feed stopped because of a fork, if it did. */
  forkedFeedAt(author: Fingerprint): number | undefined {
    return this.forkedAt.get(author);
  }

  /** The heads of a path as parents of a new local change to it. */
  async parentsOf(path: string): Promise<ParentRef[]> {
    return (await this.store.heads(this.folder, path)).map((h) => ({ hash: h.hash, lamport: h.lamport }));
  }

  /** A new manifest version with `edit`, signed by self (an active admin), applied and stored. */
  editManifest(edit: ManifestEdit, signal?: AbortSignal): Promise<{ hash: Hash; manifest: ManifestVersion; cuts: FeedCutReport[] }> {
    return this.exclusive('editManifest', signal, async () => {
      const head = this.manifest();
      if (!head.index.isActiveAdmin(this.self)) throw new ReplicaError('NOT_ADMIN', `${this.self} is not an admin of version ${head.manifest.version}`);
      const next = editedManifest(head, edit, this.self, this.opts.clock());
      const broken = checkTransition(head.index, next);
      if (broken) throw new ReplicaError('MANIFEST_REFUSED', broken.detail, broken.reason);
      const signed = await signManifest(this.opts.signer, next);
      checkAborted(signal, 'editManifest');
      const res = await this.chain.apply(signed, signal);
      if (res.status !== 'applied') throw new ReplicaError('MANIFEST_REFUSED', `the signed version is ${res.status}${res.status === 'refused' ? `: ${res.detail}` : ''}`, res.status === 'refused' ? res.reason : undefined);
      await this.storeManifests([res.hash]);
      // Our own edit names the tips we hold, so it cuts only what arrived since we read them.
      const change = manifestChange(head.manifest, next);
      await this.forgetRefusals(change.reopened);
      const cuts = await this.cutInvalid(change, signal);
      return { hash: res.hash, manifest: next, cuts };
    });
  }

  /** Stores the given versions and every change of an overruled flag, as the chain now says. */
  private async storeManifests(applied: readonly Hash[]): Promise<void> {
    const overruled = new Set(this.chain.overruled().map((o) => o.hash));
    const todo = new Set<Hash>(applied);
    for (const [hash, was] of this.storedOverruled) if (was !== overruled.has(hash)) todo.add(hash);
    for (const hash of todo) {
      const signed = this.chain.get(hash) as SignedManifest;
      await this.store.putManifest(manifestRecord(hash, signed, overruled.has(hash)));
      this.storedOverruled.set(hash, overruled.has(hash));
    }
  }

  /**
   * Appends local changes to self's feed with one checkpoint for the batch, stored in one
   * transaction. Refuses the whole batch (WRITE_REFUSED, BAD_CHANGE) if any change is not
   * allowed under the current manifest: nothing is signed or stored then.
   */
  appendLocal(changes: readonly NewChange[], signal?: AbortSignal): Promise<LocalBatch> {
    return this.pipelined<LocalBatch>('appendLocal', signal, async () => {
      if (changes.length === 0) return { value: { entries: [], checkpoint: null, checkpoints: [] } };
      const authority = this.manifest().index;
      const forked = this.forkedAt.get(this.self);
      if (forked !== undefined) throw new ReplicaError('WRITE_REFUSED', `self's feed stopped at a fork at seq ${forked}`, 'FORK');
      const tip = this.tips.get(this.self) ?? null;
      checkLocalChanges(changes, this.folder, this.self, tip ? tip.seq : 0, authority);
      // Signed in runs of `checkpointEvery`, stored together in one transaction.
      const every = Math.max(1, this.opts.checkpointEvery ?? 1000);
      const entries: HashedEntry[] = [];
      const checkpoints: Checkpoint[] = [];
      let t = tip;
      for (let i = 0; i < changes.length; i += every) {
        const made = await appendBatch(t, changes.slice(i, i + every), this.opts.signer, signal);
        pushAll(entries, made.entries);
        if (made.checkpoint) checkpoints.push(made.checkpoint);
        t = made.tip;
      }
      checkAborted(signal, 'appendLocal');
      const { commit } = await this.submit({ entries: entries.map(entryRecord), checkpoints: checkpoints.map(checkpointRecord) }, entries, signal);
      if (t) this.tips.set(this.self, t);
      this.state.rememberAll(entries);
      return { value: { entries, checkpoint: checkpoints[checkpoints.length - 1] ?? null, checkpoints }, commit };
    });
  }

  /**
   * Takes what a peer sent: manifests first (verified through the chain), then each feed's
   * entries, validated under the current manifest; accepted entries, their checkpoints and
   * fork evidence are stored in ONE transaction. Entries without a covering checkpoint are
   * refused as UNCOVERED (not kept: the sender sends the checkpoint with the entries).
   * Entries waiting for parents from another feed are retried within the call and then kept
   * in memory (up to `maxPendingEntries`) for the next call.
   */
  ingest(input: IngestInput, signal?: AbortSignal): Promise<IngestResult> {
    return this.pipelined('ingest', signal, () => this.ingestNow(input, signal));
  }

  private async ingestNow(input: IngestInput, signal: AbortSignal | undefined): Promise<{ value: IngestResult; commit?: Promise<unknown> }> {
    // 1. Manifests.
    const before = this.chain.head();
    const manifestsApplied: Hash[] = [];
    const manifestRefusals: IngestResult['manifestRefusals'] = [];
    const overruledBefore = new Set(this.chain.overruled().map((o) => o.hash));
    const collect = (res: Awaited<ReturnType<ManifestChain['apply']>>): void => {
      if (res.status === 'applied') {
        manifestsApplied.push(res.hash);
        for (const u of res.unlocked) collect(u);
      } else if (res.status === 'refused') manifestRefusals.push({ hash: res.hash, reason: res.reason, detail: res.detail });
    };
    for (const bytes of input.manifests ?? []) collect(await this.chain.apply(bytes, signal));
    if (manifestsApplied.length > 0) await this.storeManifests(manifestsApplied);
    const overruledManifests = this.chain.overruled().filter((o) => !overruledBefore.has(o.hash));
    const after = this.chain.head();
    const change = after && after.hash !== before?.hash ? manifestChange(before?.manifest, after.manifest) : undefined;
    if (change) await this.forgetRefusals(change.reopened);
    const cuts = change ? await this.cutInvalid(change, signal) : [];

    // 2. Entries and checkpoints, grouped by feed (with what waited from earlier calls).
    const refusals: IngestRefusal[] = [];
    const groups = new Map<Fingerprint, { entries: Uint8Array[]; checkpoints: Uint8Array[] }>();
    const group = (author: Fingerprint) => {
      let g = groups.get(author);
      if (!g) groups.set(author, (g = { entries: [], checkpoints: [] }));
      return g;
    };
    // Indexed loops over a batch's entries here and below: for-of allocated an iterator result per entry.
    groupByAuthor(input.entries ?? [], (author) => group(author).entries);
    for (const bytes of input.checkpoints ?? []) {
      let cp: Checkpoint;
      try {
        cp = decodeCheckpoint(bytes);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        refusals.push({ kind: 'checkpoint', reason: 'DECODE', detail: err.message, author: '' });
        continue;
      }
      group(cp.author).checkpoints.push(bytes);
    }
    for (const [author, p] of this.pending) {
      const g = group(author);
      g.entries.push(...p.entries);
      g.checkpoints.push(...p.checkpoints);
    }
    this.pending.clear();
    this.pendingCount = 0;
    for (const [author, g] of groups) await this.dropStored(author, g);

    const authority: WriteAuthority = after ? after.index : NO_AUTHORITY;
    const staged = new Map<Fingerprint, FeedTip | null>();
    const tipOf = (a: Fingerprint): FeedTip | null => (staged.has(a) ? (staged.get(a) as FeedTip | null) : (this.tips.get(a) ?? null));
    const acceptedList: HashedEntry[] = [];
    // By hash only when someone asks (a parent or a fork side): a first catch-up never does.
    let byHash: Map<Hash, HashedEntry> | null = null;
    const acceptedNow = (h: Hash): HashedEntry | undefined => {
      if (byHash === null || byHash.size < acceptedList.length) {
        byHash ??= new Map();
        for (let i = byHash.size; i < acceptedList.length; i++) byHash.set(acceptedList[i].hash, acceptedList[i]);
      }
      return byHash.get(h);
    };
    const records: EntryRecord[] = [];
    const checkpoints: Checkpoint[] = [];
    const forks: ForkEvidence[] = [];
    const newForks = new Map<Fingerprint, number>();
    const newlyRefused: { hash: Hash; author: Fingerprint }[] = [];
    let deferredNow = new Map<Fingerprint, { entries: Uint8Array[]; checkpoints: Uint8Array[]; deferrals: IngestDeferral[] }>();

    // Asked once per feed and batch, for the parents outside it: this call's accepted entries,
    // batches not committed yet, recent commits, then one batched store lookup for the rest.
    const parentLamports = async (hashes: readonly Hash[]): Promise<Map<Hash, number>> => {
      const out = new Map<Hash, number>();
      const ask: Hash[] = [];
      for (const h of hashes) {
        const here = acceptedNow(h) ?? (this.inflight.size > 0 ? this.inflightEntry(h) : undefined);
        const l = here ? here.entry.lamport : this.lamports.get(h);
        if (l !== undefined) out.set(h, l);
        else ask.push(h);
      }
      if (ask.length === 0) return out;
      const stored = this.store.lamports
        ? await this.store.lamports(ask)
        : new Map((await Promise.all(ask.map(async (h) => [h, (await this.store.entry(h))?.lamport] as const))).filter((x): x is [Hash, number] => x[1] !== undefined));
      for (const h of ask) {
        const l = stored.get(h);
        if (l !== undefined) out.set(h, l);
        else if (this.refusedHashes.has(h)) out.set(h, 0);
      }
      const unknown = ask.filter((h) => !out.has(h));
      if (unknown.length > 0) for (const h of await this.store.refusedAmong(this.folder, unknown)) out.set(h, 0);
      return out;
    };

    // 3. Validate feed by feed; retry what waited for parents as long as another feed moved on.
    let round = [...groups.entries()];
    for (;;) {
      let progressed = false;
      deferredNow = new Map();
      for (const [author, g] of round) {
        checkAborted(signal, 'ingest');
        const tip = tipOf(author);
        const verdict = await validateFeed(
          {
            folder: this.folder,
            author,
            tip,
            forkedAt: newForks.get(author) ?? this.forkedAt.get(author) ?? null,
            storedHashes: (seqs) => this.storedHashes(author, seqs),
            entries: g.entries,
            checkpoints: g.checkpoints,
          },
          { authority, verifier: this.opts.verifier, parentLamports, signal },
        );
        // A turn of the event loop for the store: the previous batch's transaction needs the JS
        // thread between its statements, and without this it waits for the whole batch.
        await nextTurn();
        for (const r of verdict.refused) {
          refusals.push({ kind: r.kind, reason: r.reason, detail: r.detail, author, seq: r.seq, hash: r.hash });
          if (r.kind === 'entry' && r.hash && author && FINAL_REFUSALS.has(r.reason)) newlyRefused.push({ hash: r.hash, author });
        }
        if (verdict.accepted.length > 0) {
          progressed = true;
          staged.set(author, verdict.tip);
          pushRecords(verdict.accepted, acceptedList, records);
          checkpoints.push(...verdict.checkpoints);
        }
        if (verdict.fork) {
          forks.push(verdict.fork);
          newForks.set(author, Math.min(verdict.fork.seq, newForks.get(author) ?? Infinity));
        }
        if (verdict.deferred.length > 0) {
          const top = verdict.tip ? verdict.tip.seq : 0;
          const keep = verdict.deferred.map((d) => g.entries[d.index]);
          const cps = g.checkpoints.filter((b) => (peekSeq(b) ?? Infinity) > top);
          deferredNow.set(author, {
            entries: keep,
            checkpoints: cps,
            deferrals: verdict.deferred.map((d) => ({ author, seq: d.seq, hash: d.hash, missingParents: d.missingParents, kept: true })),
          });
        }
      }
      if (!progressed || deferredNow.size === 0) break;
      round = [...deferredNow.entries()].map(([a, d]) => [a, { entries: d.entries, checkpoints: d.checkpoints }]);
    }

    // 4. Fork evidence completed with the side already stored, then ONE transaction.
    const forkRecords: ForkRecord[] = [];
    for (const f of forks) {
      const rec = await forkRecord(f, this.opts.clock(), (h) => this.forkSide(f, h, acceptedNow));
      if (rec) forkRecords.push(rec);
    }
    checkAborted(signal, 'ingest');
    if (records.length > 0) await nextTurn();
    const commit =
      records.length > 0 || checkpoints.length > 0 || forkRecords.length > 0
        ? (await this.submit({ entries: records, checkpoints: checkpoints.map(checkpointRecord), forks: forkRecords }, acceptedList, signal)).commit
        : undefined;

    // 5. Handed over: keep the staged tips and what was learnt (see `pipelined` for a failed commit).
    for (const [a, t] of staged) if (t) this.tips.set(a, t);
    for (const [a, s] of newForks) this.forkedAt.set(a, Math.min(s, this.forkedAt.get(a) ?? Infinity));
    this.state.rememberAll(acceptedList);
    await this.rememberRefused(newlyRefused);
    const deferred: IngestDeferral[] = [];
    const max = this.opts.maxPendingEntries ?? 10_000;
    for (const [author, d] of deferredNow) {
      const kept = this.pendingCount + d.entries.length <= max;
      if (kept) {
        this.pending.set(author, { entries: d.entries, checkpoints: d.checkpoints });
        this.pendingCount += d.entries.length;
      }
      for (const x of d.deferrals) deferred.push({ ...x, kept });
    }
    return { value: { accepted: records.length, entries: acceptedList, refusals, deferred, forks, overruledManifests, manifestsApplied, manifestRefusals, manifestChange: change, cuts }, commit };
  }

  private async rememberRefused(refused: ReadonlyArray<{ hash: Hash; author: Fingerprint }>): Promise<void> {
    if (refused.length === 0) return;
    if (this.refusedHashes.size + refused.length > MAX_REMEMBERED_REFUSALS) this.refusedHashes.clear();
    for (const r of refused) this.refusedHashes.set(r.hash, r.author);
    await this.store.addRefused(this.folder, refused);
  }

  /** What the old manifest refused of these authors, the new one may allow. */
  private async forgetRefusals(authors: readonly Fingerprint[]): Promise<void> {
    if (authors.length === 0) return;
    const gone = new Set(authors);
    for (const [h, a] of this.refusedHashes) if (gone.has(a)) this.refusedHashes.delete(h);
    await this.store.forgetRefused(this.folder, authors);
  }

  /**
   * Removes what the current manifest no longer allows, feed by feed: from the first stored
   * entry it refuses on. A node that gets the manifest first refuses that entry on arrival and,
   * since a feed is valid only as an unbroken prefix, everything after it; so the cut is judged
   * the same way, by the whole feed under the new manifest (grants kept as `earlier` judge the
   * seqs they cover). Runs inside an operation, after the previous batch committed.
   */
  private async cutInvalid(change: ManifestChange, signal: AbortSignal | undefined): Promise<FeedCutReport[]> {
    const authors = [...new Set([...change.cut.map((c) => c.author), ...change.narrowed])].filter((a) => this.tips.has(a)).sort();
    if (authors.length === 0) return [];
    await this.lastCommit?.catch(() => undefined);
    const index = this.manifest().index;
    const reports: FeedCutReport[] = [];
    for (const author of authors) {
      const tip = this.tips.get(author) as FeedTip;
      let fromSeq: number | undefined;
      let verdict: WriteDecision = { ok: true };
      const own: HashedEntry[] = [];
      for await (const e of this.store.entriesRange(this.folder, author, 1, tip.seq, { signal, pageSize: 2000 })) {
        if (fromSeq === undefined) {
          for (const p of e.paths) if (verdict.ok) verdict = index.mayWrite(author, p, e.seq);
          if (!verdict.ok) fromSeq = e.seq;
        }
        if (fromSeq !== undefined && author === this.self) own.push(decodeHashedEntry(Buffer.from(e.bytes)));
      }
      if (fromSeq === undefined || verdict.ok) continue;
      const cut = await this.store.cutFeed(this.folder, author, fromSeq, { signal });
      await this.rememberRefused(cut.hashes.map((hash) => ({ hash, author })));
      if ((this.forkedAt.get(author) ?? Infinity) >= fromSeq) this.forkedAt.delete(author);
      const head = (await this.store.versionVector(this.folder)).get(author);
      const at = head ? await this.store.entry(head.head) : undefined;
      if (head && at) this.tips.set(author, { seq: head.seq, hash: head.head, lamport: at.lamport });
      else this.tips.delete(author);
      // What is left of our own feed keeps a checkpoint at its end, so peers can still be shown it is ours.
      if (author === this.self && at && at.seq === head?.seq) {
        const kept = decodeHashedEntry(Buffer.from(at.bytes));
        const cp = await signCheckpoint(this.opts.signer, kept);
        await this.store.appendBatch({ checkpoints: [checkpointRecord(cp)] }, { signal });
      }
      reports.push({ author, fromSeq, reason: verdict.reason, detail: verdict.detail, removed: cut.removed, paths: cut.paths, own });
    }
    this.lamports.clear();
    return reports;
  }

  /**
   * Drops from a feed's input the entries stored here already (a second peer sending the same
   * catch-up): bytes whose hash is the stored hash at their seq are that entry, so they are
   * neither decoded nor validated again; with them go checkpoints at or below the tip. Anything
   * else at a stored seq (a fork) goes on to validation, with every checkpoint.
   */
  private async dropStored(author: Fingerprint, g: { entries: Uint8Array[]; checkpoints: Uint8Array[] }): Promise<void> {
    const tip = this.tips.get(author);
    if (!tip || g.entries.length === 0 || !reachesDown(g.entries, tip.seq)) return;
    const seqs = g.entries.map(peekSeq);
    const low = seqs.filter((s): s is number => s !== undefined && s <= tip.seq);
    if (low.length === 0) return;
    const stored = await this.storedHashes(author, [...new Set(low)].sort((a, b) => a - b));
    const keep: Uint8Array[] = [];
    let differs = false;
    g.entries.forEach((bytes, i) => {
      const seq = seqs[i];
      if (seq !== undefined && seq <= tip.seq) {
        if (stored.get(seq) === sha256Hex(bytes)) return;
        differs = true;
      }
      keep.push(bytes);
    });
    if (keep.length === g.entries.length) return;
    g.entries = keep;
    if (!differs) g.checkpoints = g.checkpoints.filter((b) => (peekSeq(b) ?? Infinity) > tip.seq);
  }

  /** A side of a fork that this node held before: its bytes, and the stored checkpoint and entries that prove it. */
  private async forkSide(f: ForkEvidence, hash: Hash, acceptedNow: (h: Hash) => HashedEntry | undefined): Promise<ForkSide | undefined> {
    const here = acceptedNow(hash) ?? this.inflightEntry(hash);
    if (here) return { bytes: Buffer.from(here.bytes), entries: [], checkpoints: [] };
    const stored = await this.store.entry(hash);
    if (!stored) return undefined;
    const cps = await this.store.checkpointsCovering(this.folder, f.author, f.seq, f.seq);
    const cp = cps.find((c) => c.seq >= f.seq);
    if (!cp) return { bytes: stored.bytes, entries: [], checkpoints: [] };
    const entries: Buffer[] = [];
    for await (const e of this.store.entriesRange(this.folder, f.author, f.seq, cp.seq)) entries.push(e.bytes);
    return { bytes: stored.bytes, entries, checkpoints: [encodeCheckpointRecord(cp)] };
  }

  /** Hashes of stored entries of a feed at the given seqs (below its tip). */
  private async storedHashes(author: Fingerprint, seqs: readonly number[]): Promise<Map<number, Hash>> {
    const out = new Map<number, Hash>();
    for (const batch of this.inflight) for (const he of batch) if (he.entry.author === author) out.set(he.entry.seq, he.hash);
    // Contiguous runs, each one ranged read.
    for (let i = 0; i < seqs.length; ) {
      let j = i;
      while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++;
      if (this.store.feedHashes) for (const [seq, hash] of await this.store.feedHashes(this.folder, author, seqs[i], seqs[j])) out.set(seq, hash);
      else for await (const e of this.store.entriesRange(this.folder, author, seqs[i], seqs[j])) out.set(e.seq, e.hash);
      i = j + 1;
    }
    return out;
  }

  /** author → highest contiguous stored seq and its hash. */
  versionVector(): Promise<VersionVector> {
    return this.store.versionVector(this.folder);
  }

  /** What a peer with `peerVector` lacks from this node, as seq ranges; `divergent`: same seq, other head. */
  async missingFor(peerVector: VersionVector): Promise<{ ranges: SeqRange[]; divergent: Fingerprint[] }> {
    return missingFrom(peerVector, await this.versionVector());
  }

  /**
   * Encoded entries of `ranges` with the checkpoints that cover them, streamed from the store
   * in batches of about `batchEntries`. A batch ends at a stored checkpoint (the receiver
   * verifies that one and the chain covers the rest), so a batch may run longer when
   * checkpoints are far apart; a range is extended up to the checkpoint that covers its end.
   */
  async *entriesFor(ranges: readonly SeqRange[], options: { signal?: AbortSignal; batchEntries?: number } = {}): AsyncIterableIterator<EntryBatch> {
    const target = options.batchEntries ?? 1000;
    for (const range of ranges) {
      checkAborted(options.signal, 'entriesFor');
      const cps = await this.store.checkpointsCovering(this.folder, range.author, range.fromSeq, range.toSeq);
      const cpAt = new Map(cps.map((c) => [c.seq, c]));
      const end = Math.max(range.toSeq, cps.length > 0 ? cps[cps.length - 1].seq : 0);
      let entries: Buffer[] = [];
      let covering: Buffer[] = [];
      for await (const e of this.store.entriesRange(this.folder, range.author, range.fromSeq, end, { signal: options.signal, pageSize: 2000 })) {
        entries.push(e.bytes);
        const cp = cpAt.get(e.seq);
        if (cp) covering = [encodeCheckpointRecord(cp)];
        if (cp && entries.length >= target) {
          yield { author: range.author, entries, checkpoints: covering };
          entries = [];
          covering = [];
        }
      }
      // A tail past the last stored checkpoint goes uncovered; the receiver refuses it as UNCOVERED.
      if (entries.length > 0) yield { author: range.author, entries, checkpoints: covering };
    }
  }

  /** Fork evidence stored for this folder. */
  forks(): Promise<ForkRecord[]> {
    return this.store.forks(this.folder);
  }

  /** Waits for running operations; later calls fail with CLOSED. The store stays open (its owner closes it). */
  async close(): Promise<void> {
    const last = this.queue;
    this.closed = true;
    await last;
    await this.lastCommit?.catch(() => undefined);
  }
}
