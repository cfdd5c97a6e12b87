/**
 * "May X write path P at seq N?" under one manifest version, and the WriteAuthority the
 * log's validator asks. Lookups are indexed: the validator asks once per entry.
 */
import { isUnder } from '../log/path';
import type { Fingerprint, WriteAuthority, WriteDecision } from '../log/types';
import type { Grant, ManifestVersion, Member, Revocation } from './types';

const OK: WriteDecision = { ok: true };

/** Whether `grant` (a member's current one, or an earlier one) lets its holder write `path`, ignoring revocation. */
export function grantCovers(grant: Grant, path: string): boolean {
  if (grant.role === 'admin') return true;
  if (grant.role !== 'writer') return false;
  const prefixes = grant.pathPrefixes ?? [];
  return prefixes.length === 0 || prefixes.some((q) => isUnder(path, q));
}

/** The grant that judges `member`'s entry at `seq`: the first earlier grant reaching that seq, else the current one. */
export function grantAt(member: Member, seq: number): Grant {
  for (const e of member.earlier ?? []) if (seq <= e.untilSeq) return e;
  return member;
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
  const grant = grantAt(member, seq);
  const when = grant === member ? '' : ` at seq ${seq}`;
  if (grant.role === 'reader') return { ok: false, reason: 'NOT_A_WRITER', detail: `${author} is a reader${when}` };
  if (!grantCovers(grant, path)) return { ok: false, reason: 'OUTSIDE_PATH_GRANT', detail: `${author} may write only under ${(grant.pathPrefixes ?? []).join(', ')}${when}` };
  return OK;
}

/** What a change of the current manifest means for entries already judged. */
export interface ManifestChange {
  /** Feeds whose entries from `fromSeq` on are no longer valid (a new revocation, a demotion to reader, a head switch). */
  readonly cut: readonly { readonly author: Fingerprint; readonly fromSeq: number }[];
  /** Authors whose current grant lost paths (a narrowing, a demotion, a head switch): judge their accepted entries again. */
  readonly narrowed: readonly Fingerprint[];
  /** Authors whose refused entries may now be valid (wider grant, lifted revocation): fetch and validate again. */
  readonly reopened: readonly Fingerprint[];
}

/** Up to which seq an author's entries can be valid at all under `idx`. */
function writableUpTo(idx: ManifestIndex | null, fp: Fingerprint): number {
  const m = idx?.member(fp);
  if (!m) return 0;
  // A reader who wrote before a demotion: up to the last earlier grant that let them write.
  const upTo = m.role !== 'reader' ? Infinity : Math.max(0, ...(m.earlier ?? []).filter((e) => e.role !== 'reader').map((e) => e.untilSeq));
  return Math.min(upTo, idx?.revocation(fp)?.lastValidSeq ?? Infinity);
}

const writesEverything = (g: Grant): boolean => g.role === 'admin' || (g.role === 'writer' && (g.pathPrefixes ?? []).length === 0);

/** Whether `after` lets its holder write everything `before` does. */
export function grantIncludes(after: Grant, before: Grant): boolean {
  if (before.role === 'reader') return true;
  if (writesEverything(after)) return true;
  if (writesEverything(before) || after.role === 'reader') return false;
  return (before.pathPrefixes ?? []).every((q) => (after.pathPrefixes ?? []).some((p) => isUnder(q, p)));
}

const sameEarlier = (a: Member, b: Member): boolean => JSON.stringify(a.earlier ?? []) === JSON.stringify(b.earlier ?? []);

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
      // Earlier grants differ only across a head switch: judge again and fetch again.
      const rewritten = !sameEarlier(mb, ma);
      if (rewritten || !grantIncludes(ma, mb)) narrowed.push(fp);
      if (now === was && (rewritten || !grantIncludes(mb, ma))) reopened.push(fp);
    }
  }
  return { cut, narrowed, reopened };
}
