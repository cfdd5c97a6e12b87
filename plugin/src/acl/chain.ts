/**
 * The manifest chain of one folder: versions hash-linked to their predecessor, each signed
 * by an admin of that predecessor (the genesis by its creator). Versions may arrive in any
 * order; concurrent versions (same prev) are resolved the same way on every node, and the
 * versions that lose are reported as overruled, never dropped silently.
 *
 * Concurrent edits: among versions with the same prev, the one whose signer's fingerprint
 * sorts first wins, then the lowest hash. Signer order is fixed per admin, so an admin can
 * not win a race by re-rolling content until its hash is low, and everyone can predict
 * which of two admins prevails. The whole subtree under a losing version is overruled; its
 * authors re-apply their change on top of the winner.
 */
import { compareStrings } from '../log/codec';
import { DecodeError } from '../log/errors';
import { isCleanPath, isUnder } from '../log/path';
import type { Fingerprint, FolderId, Hash, SignatureVerifier } from '../log/types';
import { ManifestIndex, grantIncludes } from './decide';
import { decodeSignedManifest, encodeManifest, manifestSigningBytes } from './encoding';
import { sha256Hex } from '../log/encoding';
import type { ManifestRefusalReason } from './errors';
import type { Grant, ManifestVersion, Member, SignedManifest } from './types';

/** Reads the fingerprint of an armored key, so an admin can not file one key under another's name. */
export interface KeyInspector {
  fingerprintOf(publicKeyArmored: string): Promise<Fingerprint>;
}

export interface ManifestChainOptions {
  readonly folder: FolderId;
  readonly verifier: SignatureVerifier;
  /** The genesis named by the invitation; without it, competing geneses resolve like siblings. */
  readonly genesisHash?: Hash;
  readonly keys?: KeyInspector;
  /** Versions kept while their prev is missing. */
  readonly maxPending?: number;
}

export interface Overruled {
  readonly hash: Hash;
  readonly manifest: ManifestVersion;
  /** The version on the winning path that beat this one's branch. */
  readonly by: Hash;
}

export type ApplyResult =
  | { readonly status: 'applied'; readonly hash: Hash; readonly head: Hash; readonly newlyOverruled: readonly Overruled[]; readonly unlocked: readonly ApplyResult[] }
  | { readonly status: 'duplicate'; readonly hash: Hash }
  | { readonly status: 'pending'; readonly hash: Hash; readonly missing: Hash }
  | { readonly status: 'refused'; readonly hash: Hash | null; readonly reason: ManifestRefusalReason; readonly detail: string };

export interface Refused {
  readonly reason: ManifestRefusalReason;
  readonly detail: string;
}

interface Node {
  readonly hash: Hash;
  readonly signed: SignedManifest;
  readonly index: ManifestIndex;
  readonly children: Hash[];
}

const refusal = (reason: ManifestRefusalReason, detail: string): Refused => ({ reason, detail });

const sameGrant = (a: Grant, b: Grant): boolean => a.role === b.role && JSON.stringify(a.pathPrefixes ?? []) === JSON.stringify(b.pathPrefixes ?? []);

const sameRow = (a: Member, b: Member): boolean =>
  sameGrant(a, b) && a.publicKeyArmored === b.publicKeyArmored && JSON.stringify(a.earlier ?? []) === JSON.stringify(b.earlier ?? []);

/**
 * The earlier-grant rules for a member who stays active: the records of `before` are kept
 * verbatim, at most one is appended and it is the grant `before` held (so nobody can
 * back-date a wider grant), at an untilSeq no smaller than the last; a grant that shrinks
 * must append one. The untilSeq is the admin's word, like a revocation's lastValidSeq:
 * the member's entries after it are judged by the new grant.
 */
function checkEarlier(before: Member, after: Member): Refused | null {
  const was = before.earlier ?? [];
  const now = after.earlier ?? [];
  const fp = before.fingerprint;
  if (now.length < was.length || was.some((e, i) => e.untilSeq !== now[i].untilSeq || !sameGrant(e, now[i])))
    return refusal('EARLIER_GRANT_CHANGED', `the earlier grants of ${fp} must stay as they were`);
  if (now.length > was.length + 1) return refusal('EARLIER_GRANT_CHANGED', `one version records at most one earlier grant of ${fp}`);
  const added = now.length > was.length ? now[was.length] : undefined;
  if (added) {
    if (!sameGrant(added, before)) return refusal('EARLIER_GRANT_CHANGED', `the earlier grant recorded for ${fp} is not the grant they held`);
    const last = was.length > 0 ? was[was.length - 1].untilSeq : 0;
    if (!Number.isSafeInteger(added.untilSeq) || added.untilSeq < last) return refusal('EARLIER_GRANT_CHANGED', `the earlier grant of ${fp} ends at seq ${added.untilSeq}, before the previous one (${last})`);
  }
  if (!added && !grantIncludes(after, before))
    return refusal('EARLIER_GRANT_MISSING', `${fp}'s write grant shrinks without recording the grant their earlier entries were written under`);
  return null;
}

/**
 * The content rules of `next` given the version before it (null for a genesis). Signatures
 * are not checked here. Returns the first rule broken, or null.
 */
export function checkTransition(prev: ManifestIndex | null, next: ManifestVersion): Refused | null {
  const nextIndex = new ManifestIndex(next);
  if (prev === null) {
    if (!nextIndex.isActiveAdmin(next.author)) return refusal('SIGNER_NOT_ADMIN', `genesis signer ${next.author} is not an admin in it`);
  } else {
    const p = prev.manifest;
    if (next.folder !== p.folder) return refusal('WRONG_FOLDER', `folder ${next.folder} follows a version of ${p.folder}`);
    if (next.version !== p.version + 1) return refusal('BAD_VERSION_NUMBER', `version ${next.version} follows version ${p.version}`);
    if (!prev.isActiveAdmin(next.author)) return refusal('SIGNER_NOT_ADMIN', `${next.author} is not an admin of version ${p.version}`);
  }
  if (!next.members.some((m) => nextIndex.isActiveAdmin(m.fingerprint))) return refusal('LAST_ADMIN', 'no admin would be left');
  for (const r of next.revocations) if (!nextIndex.member(r.fingerprint)) return refusal('REVOCATION_UNKNOWN_MEMBER', `revocation of ${r.fingerprint}, who is not a member`);
  for (const m of next.members)
    for (const g of [m, ...(m.earlier ?? [])])
      for (const q of g.pathPrefixes ?? []) if (!isCleanPath(q)) return refusal('BAD_PATH_PREFIX', `prefix ${JSON.stringify(q)} of ${m.fingerprint} is not a clean path`);
  // Earlier grants only come from narrowing a member who was already there.
  for (const m of next.members)
    if ((m.earlier ?? []).length > 0 && !prev?.member(m.fingerprint)) return refusal('EARLIER_GRANT_CHANGED', `new member ${m.fingerprint} has earlier grants`);
  if (prev === null) return null;
  for (const r of prev.manifest.revocations) {
    const now = nextIndex.revocation(r.fingerprint);
    if (!now || now.lastValidSeq !== r.lastValidSeq) return refusal('REVOCATION_CHANGED', `the revocation of ${r.fingerprint} must stay as it was`);
  }
  for (const before of prev.manifest.members) {
    const after = nextIndex.member(before.fingerprint);
    const revokedBefore = prev.revocation(before.fingerprint) !== undefined;
    const revokedNow = nextIndex.revocation(before.fingerprint) !== undefined;
    // Rows of revoked members judge their earlier entries: they stay as they were.
    if (revokedBefore || revokedNow) {
      if (!after || !sameRow(after, before)) return refusal('REVOKED_MEMBER_CHANGED', `the row of revoked member ${before.fingerprint} must stay as it was`);
      continue;
    }
    // A row judges its entries: only a member who never could write may be dropped.
    if (!after) {
      if (before.role !== 'reader' || (before.earlier ?? []).length > 0) return refusal('REVOKE_FIRST', `${before.fingerprint} may have written: revoke them instead of dropping their row`);
      continue;
    }
    const broken = checkEarlier(before, after);
    if (broken) return broken;
  }
  return null;
}

/** The manifest chain of one folder; `apply` takes versions in any order. */
export class ManifestChain {
  private readonly nodes = new Map<Hash, Node>();
  private readonly roots: Hash[] = [];
  private readonly pending = new Map<Hash, { hash: Hash; signed: SignedManifest }[]>();
  private pendingCount = 0;
  private readonly refused = new Map<Hash, Refused>();
  private headHash: Hash | undefined;
  private overruledNow = new Map<Hash, Overruled>();

  constructor(private readonly opts: ManifestChainOptions) {}

  /** The resolved current version, or undefined before a genesis is applied. */
  head(): { hash: Hash; manifest: ManifestVersion; index: ManifestIndex } | undefined {
    if (this.headHash === undefined) return undefined;
    const n = this.nodes.get(this.headHash) as Node;
    return { hash: n.hash, manifest: n.signed.manifest, index: n.index };
  }

  /** Applied versions that lost to a concurrent one, sorted by hash. */
  overruled(): Overruled[] {
    return [...this.overruledNow.values()].sort((a, b) => compareStrings(a.hash, b.hash));
  }

  get(hash: Hash): SignedManifest | undefined {
    return this.nodes.get(hash)?.signed;
  }

  /** Every applied version, each after its prev (what a peer needs to rebuild the chain). */
  versions(): { hash: Hash; signed: SignedManifest }[] {
    // Iterative depth-first walk: a long chain must not exhaust the stack.
    const out: { hash: Hash; signed: SignedManifest }[] = [];
    const stack = [...this.roots].sort(compareStrings).reverse();
    while (stack.length > 0) {
      const h = stack.pop() as Hash;
      const n = this.nodes.get(h) as Node;
      out.push({ hash: h, signed: n.signed });
      stack.push(...[...n.children].sort(compareStrings).reverse());
    }
    return out;
  }

  /** Verifies and applies one version (encoded bytes or decoded). */
  async apply(input: Uint8Array | SignedManifest, signal?: AbortSignal): Promise<ApplyResult> {
    let signed: SignedManifest;
    let hash: Hash;
    if (input instanceof Uint8Array) {
      try {
        const d = decodeSignedManifest(input);
        signed = { manifest: d.manifest, signature: d.signature };
        hash = d.hash;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        return { status: 'refused', hash: null, reason: 'DECODE', detail: err.message };
      }
    } else {
      signed = input;
      hash = sha256Hex(encodeManifest(input.manifest));
    }
    return this.applyOne(hash, signed, signal);
  }

  private async applyOne(hash: Hash, signed: SignedManifest, signal?: AbortSignal): Promise<ApplyResult> {
    signal?.throwIfAborted();
    if (this.nodes.has(hash)) return { status: 'duplicate', hash };
    const known = this.refused.get(hash);
    if (known) return { status: 'refused', hash, ...known };
    const m = signed.manifest;
    const refuse = (r: Refused): ApplyResult => {
      // Remembered so children are refused at once; bounded, junk must not grow memory.
      if (this.refused.size >= 4096) this.refused.delete(this.refused.keys().next().value as Hash);
      this.refused.set(hash, r);
      this.dropPendingUnder(hash);
      return { status: 'refused', hash, ...r };
    };
    if (m.folder !== this.opts.folder) return refuse(refusal('WRONG_FOLDER', `version of folder ${m.folder}, not ${this.opts.folder}`));
    let prev: Node | null = null;
    if (m.prev === null) {
      if (this.opts.genesisHash !== undefined && hash !== this.opts.genesisHash) return refuse(refusal('WRONG_GENESIS', `genesis ${hash} is not the invited ${this.opts.genesisHash}`));
    } else {
      const p = this.nodes.get(m.prev);
      if (!p) {
        if (this.refused.has(m.prev)) return refuse(refusal('PREV_REFUSED', `prev ${m.prev} was refused`));
        const list = this.pending.get(m.prev) ?? [];
        if (list.some((x) => x.hash === hash && Buffer.compare(x.signed.signature, signed.signature) === 0)) return { status: 'pending', hash, missing: m.prev };
        if (this.pendingCount >= (this.opts.maxPending ?? 256)) return { status: 'refused', hash, reason: 'TOO_MANY_PENDING', detail: 'too many versions wait for their prev' };
        list.push({ hash, signed });
        this.pending.set(m.prev, list);
        this.pendingCount++;
        return { status: 'pending', hash, missing: m.prev };
      }
      prev = p;
    }
    const broken = checkTransition(prev ? prev.index : null, m);
    if (broken) return refuse(broken);
    const signerKey = (prev ? prev.index : new ManifestIndex(m)).publicKeyOf(m.author) as string;
    // Not remembered: the hash names the content, and the same content may still come with a good signature.
    if (!(await this.opts.verifier.verify(signerKey, manifestSigningBytes(m), signed.signature)))
      return { status: 'refused', hash, reason: 'BAD_SIGNATURE', detail: `version ${m.version} does not verify with ${m.author}'s key` };
    if (this.opts.keys) {
      for (const mem of m.members) {
        if (prev && prev.index.member(mem.fingerprint)?.publicKeyArmored === mem.publicKeyArmored) continue;
        let fp: string | null;
        try {
          fp = await this.opts.keys.fingerprintOf(mem.publicKeyArmored);
        } catch {
          fp = null;
        }
        if (fp !== mem.fingerprint) return refuse(refusal('BAD_MEMBER_KEY', `the key filed under ${mem.fingerprint} is ${fp ?? 'unreadable'}`));
      }
    }
    signal?.throwIfAborted();
    this.nodes.set(hash, { hash, signed, index: new ManifestIndex(m), children: [] });
    if (prev) prev.children.push(hash);
    else this.roots.push(hash);
    const newlyOverruled = this.resolve();
    const unlocked: ApplyResult[] = [];
    const waiting = this.pending.get(hash);
    if (waiting) {
      this.pending.delete(hash);
      this.pendingCount -= waiting.length;
      for (const w of waiting) unlocked.push(await this.applyOne(w.hash, w.signed, signal));
    }
    return { status: 'applied', hash, head: this.headHash as Hash, newlyOverruled, unlocked };
  }

  /** Versions waiting for a refused version can never apply: refuse them too. */
  private dropPendingUnder(hash: Hash): void {
    const waiting = this.pending.get(hash);
    if (!waiting) return;
    this.pending.delete(hash);
    this.pendingCount -= waiting.length;
    for (const w of waiting) {
      this.refused.set(w.hash, refusal('PREV_REFUSED', `prev ${hash} was refused`));
      this.dropPendingUnder(w.hash);
    }
  }

  /** Orders siblings: signer first, then hash. */
  private better(a: Hash, b: Hash): number {
    const x = (this.nodes.get(a) as Node).signed.manifest.author;
    const y = (this.nodes.get(b) as Node).signed.manifest.author;
    return x !== y ? compareStrings(x, y) : compareStrings(a, b);
  }

  /** Recomputes the head and the overruled set; returns what became overruled. */
  private resolve(): Overruled[] {
    const next = new Map<Hash, Overruled>();
    const overruleSubtree = (top: Hash, by: Hash): void => {
      const stack = [top];
      while (stack.length > 0) {
        const h = stack.pop() as Hash;
        const n = this.nodes.get(h) as Node;
        next.set(h, { hash: h, manifest: n.signed.manifest, by });
        stack.push(...n.children);
      }
    };
    let level = this.roots;
    let head: Hash | undefined;
    while (level.length > 0) {
      const winner = [...level].sort((a, b) => this.better(a, b))[0];
      for (const h of level) if (h !== winner) overruleSubtree(h, winner);
      head = winner;
      level = (this.nodes.get(winner) as Node).children;
    }
    this.headHash = head;
    const fresh = [...next.values()].filter((o) => !this.overruledNow.has(o.hash));
    this.overruledNow = next;
    return fresh.sort((a, b) => compareStrings(a.hash, b.hash));
  }
}
