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
