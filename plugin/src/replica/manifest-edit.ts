/**
 * Manifest edits as data: the next version an admin proposes, built from the current one.
 * Pure. Whether the edit is allowed is the acl's `checkTransition`, asked by the caller.
 */
import { grantIncludes, type EarlierGrant, type ManifestVersion, type Member, type Revocation, type Role } from '../acl';
import { compareUtf8, type Fingerprint, type Hash } from '../log';
import { ReplicaError } from './errors';

export type ManifestEdit =
  | { readonly kind: 'add'; readonly member: Member }
  | { readonly kind: 'remove'; readonly fingerprint: Fingerprint }
  /**
   * `untilSeq`: the member's feed tip as the admin knows it. Needed when the grant shrinks
   * (a demotion): their entries up to it stay judged by the grant they held, later ones by
   * the new one (so concurrent entries they write after it under the old grant are refused).
   */
  | { readonly kind: 'role'; readonly fingerprint: Fingerprint; readonly role: Role; readonly untilSeq?: number }
  /** Narrows a writer to these subtrees; an empty list widens them to the whole folder. `untilSeq` as for 'role'. */
  | { readonly kind: 'narrow'; readonly fingerprint: Fingerprint; readonly pathPrefixes: readonly string[]; readonly untilSeq?: number }
  /** Entries of theirs up to `lastValidSeq` stay valid, later ones are refused. */
  | { readonly kind: 'revoke'; readonly fingerprint: Fingerprint; readonly lastValidSeq: number };

const byFingerprint = <T extends { fingerprint: Fingerprint }>(a: T, b: T): number => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0);

/** A member row as the encoding wants it: prefixes only for writers, sorted in UTF-8 order, unique; no empty `earlier`. */
export function normalMember(m: Member): Member {
  const prefixes = m.role === 'writer' ? [...new Set(m.pathPrefixes ?? [])].sort(compareUtf8) : [];
  const { pathPrefixes: _drop, earlier, ...rest } = m;
  const row: Member = earlier && earlier.length > 0 ? { ...rest, earlier } : rest;
  return prefixes.length > 0 ? { ...row, pathPrefixes: prefixes } : row;
}

/**
 * `old` replaced by `row`: when the write grant shrinks, `old`'s grant is recorded as the one
 * that judges their entries up to `untilSeq` (the chain refuses a shrink without it).
 */
function regrant(old: Member, row: Member, untilSeq: number | undefined): Member {
  const next = normalMember(row);
  if (grantIncludes(next, old)) return next;
  if (untilSeq === undefined) throw new ReplicaError('BAD_CHANGE', `${old.fingerprint}'s grant shrinks: say up to which seq of theirs the old grant applies (untilSeq)`);
  if (!Number.isSafeInteger(untilSeq) || untilSeq < 0) throw new ReplicaError('BAD_CHANGE', `untilSeq ${untilSeq} must be an integer >= 0`);
  const was = old.earlier ?? [];
  // Entries up to the last record are judged already; a stale tip must not reach behind it.
  const last = was.length > 0 ? was[was.length - 1].untilSeq : 0;
  const held: EarlierGrant = { untilSeq: Math.max(untilSeq, last), role: old.role, ...(old.pathPrefixes && old.pathPrefixes.length > 0 ? { pathPrefixes: old.pathPrefixes } : {}) };
  return { ...next, earlier: [...was, held] };
}

/** The version after `current` with `edit` applied, signed later by `author`. */
export function editedManifest(current: { hash: Hash; manifest: ManifestVersion }, edit: ManifestEdit, author: Fingerprint, nowMs: number): ManifestVersion {
  const m = current.manifest;
  let members = [...m.members];
  let revocations: Revocation[] = [...m.revocations];
  const find = (fp: Fingerprint): Member => {
    const found = members.find((x) => x.fingerprint === fp);
    if (!found) throw new ReplicaError('UNKNOWN_MEMBER', `${fp} is not a member of version ${m.version}`);
    return found;
  };
  switch (edit.kind) {
    case 'add':
      if (members.some((x) => x.fingerprint === edit.member.fingerprint)) throw new ReplicaError('BAD_CHANGE', `${edit.member.fingerprint} is already a member`);
      members.push(normalMember(edit.member));
      break;
    case 'remove':
      find(edit.fingerprint);
      members = members.filter((x) => x.fingerprint !== edit.fingerprint);
      break;
    case 'role': {
      const old = find(edit.fingerprint);
      members = members.map((x) => (x === old ? regrant(old, { ...old, role: edit.role }, edit.untilSeq) : x));
      break;
    }
    case 'narrow': {
      const old = find(edit.fingerprint);
      if (old.role !== 'writer') throw new ReplicaError('BAD_CHANGE', `only writers are narrowed to paths; ${edit.fingerprint} is ${old.role}`);
      members = members.map((x) => (x === old ? regrant(old, { ...old, pathPrefixes: [...edit.pathPrefixes] }, edit.untilSeq) : x));
      break;
    }
    case 'revoke':
      find(edit.fingerprint);
      if (!Number.isSafeInteger(edit.lastValidSeq) || edit.lastValidSeq < 0) throw new ReplicaError('BAD_CHANGE', `lastValidSeq ${edit.lastValidSeq} must be an integer >= 0`);
      if (revocations.some((r) => r.fingerprint === edit.fingerprint)) throw new ReplicaError('BAD_CHANGE', `${edit.fingerprint} is already revoked`);
      revocations.push({ fingerprint: edit.fingerprint, lastValidSeq: edit.lastValidSeq });
      break;
  }
  return {
    folder: m.folder,
    name: m.name,
    version: m.version + 1,
    prev: current.hash,
    author,
    createdAtMs: nowMs,
    members: members.sort(byFingerprint),
    revocations: revocations.sort(byFingerprint),
    ignoreRules: m.ignoreRules,
  };
}

/** The genesis: `members` with `self` as admin. */
export function genesisManifest(folder: string, name: string, self: Fingerprint, members: readonly Member[], nowMs: number): ManifestVersion {
  const me = members.find((x) => x.fingerprint === self);
  if (!me) throw new ReplicaError('BAD_CHANGE', `the genesis must list its creator ${self} (with their public key)`);
  return {
    folder,
    name,
    version: 1,
    prev: null,
    author: self,
    createdAtMs: nowMs,
    members: members.map((x) => normalMember(x.fingerprint === self ? { ...x, role: 'admin' } : x)).sort(byFingerprint),
    revocations: [],
    ignoreRules: [],
  };
}
