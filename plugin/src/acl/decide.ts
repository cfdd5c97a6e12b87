/**
 * "May X write path P at seq N?" under one manifest version, and the WriteAuthority the
 * log's validator asks. Lookups are indexed: the validator asks once per entry.
 */
import { isUnder } from '../log/path';
import type { Fingerprint, WriteAuthority, WriteDecision } from '../log/types';
import type { ManifestVersion, Member, Revocation } from './types';

const OK: WriteDecision = { ok: true };

/** Whether `member` may write `path`, ignoring revocation: their grant. */
export function grantCovers(member: Member, path: string): boolean {
  if (member.role === 'admin') return true;
  if (member.role !== 'writer') return false;
  const prefixes = member.pathPrefixes ?? [];
  return prefixes.length === 0 || prefixes.some((q) => isUnder(path, q));
}

/** A manifest version indexed by fingerprint. */
export class ManifestIndex implements WriteAuthority {
  private readonly members = new Map<Fingerprint, Member>();
  private readonly revocations = new Map<Fingerprint, Revocation>();

  constructor(readonly manifest: ManifestVersion) {
    for (const m of manifest.members) this.members.set(m.fingerprint, m);
    for (const r of manifest.revocations) this.revocations.set(r.fingerprint, r);
  }

  member(fp: Fingerprint): Member | undefined {
    return this.members.get(fp);
  }

  revocation(fp: Fingerprint): Revocation | undefined {
    return this.revocations.get(fp);
  }

  /** A member who is not revoked: may read the folder (and receives its data). */
  isActiveMember(fp: Fingerprint): boolean {
    return this.members.has(fp) && !this.revocations.has(fp);
  }

  /** A member who may sign the next manifest version. */
  isActiveAdmin(fp: Fingerprint): boolean {
    return this.members.get(fp)?.role === 'admin' && !this.revocations.has(fp);
  }

  publicKeyOf(fp: Fingerprint): string | undefined {
    return this.members.get(fp)?.publicKeyArmored;
  }

  mayWrite(author: Fingerprint, path: string, seq: number): WriteDecision {
    return mayWrite(this, author, path, seq);
  }
}

/** The ACL's verdict on one write; the reason names the first rule that refuses. */
export function mayWrite(state: ManifestIndex | ManifestVersion, author: Fingerprint, path: string, seq: number): WriteDecision {
  const index = state instanceof ManifestIndex ? state : new ManifestIndex(state);
  const member = index.member(author);
  if (!member) return { ok: false, reason: 'UNKNOWN_AUTHOR', detail: `${author} is not a member` };
  const rev = index.revocation(author);
  if (rev && seq > rev.lastValidSeq) return { ok: false, reason: 'REVOKED', detail: `${author} was revoked after seq ${rev.lastValidSeq}; this is seq ${seq}` };
  if (member.role === 'reader') return { ok: false, reason: 'NOT_A_WRITER', detail: `${author} is a reader` };
  if (!grantCovers(member, path)) return { ok: false, reason: 'OUTSIDE_PATH_GRANT', detail: `${author} may write only under ${(member.pathPrefixes ?? []).join(', ')}` };
  return OK;
}

/** What a change of the current manifest means for entries already judged. */
export interface ManifestChange {
  /** Feeds whose entries from `fromSeq` on are no longer valid (a new revocation, a demotion, a head switch). */
  readonly cut: readonly { readonly author: Fingerprint; readonly fromSeq: number }[];
  /** Authors whose grant lost paths without a seq bound (only on a head switch): judge their accepted entries again. */
  readonly narrowed: readonly Fingerprint[];
  /** Authors whose refused entries may now be valid (wider grant, lifted revocation): fetch and validate again. */
  readonly reopened: readonly Fingerprint[];
}

/** Up to which seq an author's entries can be valid at all under `idx`. */
function writableUpTo(idx: ManifestIndex | null, fp: Fingerprint): number {
  const m = idx?.member(fp);
  if (!m || m.role === 'reader') return 0;
  return idx?.revocation(fp)?.lastValidSeq ?? Infinity;
}

/** Whether everything `m` may write, `other` may write too (roles aside from reader). */
function grantWithin(m: Member, other: Member): boolean {
  if (other.role === 'admin' || (other.role === 'writer' && (other.pathPrefixes ?? []).length === 0)) return true;
  if (m.role === 'admin' || (m.pathPrefixes ?? []).length === 0) return false;
  return (m.pathPrefixes ?? []).every((q) => (other.pathPrefixes ?? []).some((p) => isUnder(q, p)));
}

/**
 * Compares the current manifest before and after an apply (the head may also switch to
 * another branch when a concurrent version wins). Pure: the caller drops, re-judges or re-fetches.
 */
export function manifestChange(before: ManifestVersion | undefined, after: ManifestVersion): ManifestChange {
  const b = before ? new ManifestIndex(before) : null;
  const a = new ManifestIndex(after);
  const cut: { author: Fingerprint; fromSeq: number }[] = [];
  const narrowed: Fingerprint[] = [];
  const reopened: Fingerprint[] = [];
  const fps = new Set<Fingerprint>([...(before?.members ?? []).map((m) => m.fingerprint), ...after.members.map((m) => m.fingerprint)]);
  for (const fp of [...fps].sort()) {
    const was = writableUpTo(b, fp);
    const now = writableUpTo(a, fp);
    if (now < was) cut.push({ author: fp, fromSeq: now + 1 });
    if (now > was) reopened.push(fp);
    if (was > 0 && now > 0) {
      const mb = b?.member(fp) as Member;
      const ma = a.member(fp) as Member;
      if (!grantWithin(mb, ma)) narrowed.push(fp);
      if (now === was && !grantWithin(ma, mb)) reopened.push(fp);
    }
  }
  return { cut, narrowed, reopened };
}
