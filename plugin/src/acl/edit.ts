/**
 * Building manifest versions: a genesis and the version after another, with members,
 * prefixes and revocations put in canonical order, so callers never sort by hand.
 */
import { compareStrings, compareUtf8 } from '../log/codec';
import type { Fingerprint, FolderId } from '../log/types';
import { manifestHash } from './encoding';
import type { ManifestVersion, Member, Revocation } from './types';

/** Sorts and de-duplicates what the encoding wants sorted; the last row for a fingerprint wins. */
export function canonicalManifest(m: ManifestVersion): ManifestVersion {
  const byFp = new Map<Fingerprint, Member>();
  for (const mem of m.members) {
    const prefixes = [...new Set(mem.pathPrefixes ?? [])].sort(compareUtf8);
    const { pathPrefixes: _drop, earlier, ...rest } = mem;
    const row: Member = earlier && earlier.length > 0 ? { ...rest, earlier } : rest;
    byFp.set(mem.fingerprint, mem.role === 'writer' && prefixes.length > 0 ? { ...row, pathPrefixes: prefixes } : row);
  }
  const revs = new Map<Fingerprint, Revocation>();
  for (const r of m.revocations) revs.set(r.fingerprint, r);
  return {
    ...m,
    members: [...byFp.values()].sort((a, b) => compareStrings(a.fingerprint, b.fingerprint)),
    revocations: [...revs.values()].sort((a, b) => compareStrings(a.fingerprint, b.fingerprint)),
  };
}

export interface GenesisInput {
  readonly folder: FolderId;
  readonly name: string;
  /** The creator: signs the genesis and is its first admin. */
  readonly creator: Omit<Member, 'role' | 'pathPrefixes'>;
  readonly createdAtMs: number;
  readonly members?: readonly Member[];
  readonly ignoreRules?: readonly string[];
}

export function genesis(input: GenesisInput): ManifestVersion {
  return canonicalManifest({
    folder: input.folder,
    name: input.name,
    version: 1,
    prev: null,
    author: input.creator.fingerprint,
    createdAtMs: input.createdAtMs,
    members: [...(input.members ?? []), { ...input.creator, role: 'admin' }],
    revocations: [],
    ignoreRules: input.ignoreRules ?? [],
  });
}

/** One admin's edit: rows to add or replace, revocations to add, and optionally name and rules. */
export interface ManifestEdit {
  readonly upsert?: readonly Member[];
  /** Drops a member's row entirely; only for readers (writers are revoked, see chain rules). */
  readonly remove?: readonly Fingerprint[];
  readonly revoke?: readonly Revocation[];
  readonly name?: string;
  readonly ignoreRules?: readonly string[];
}

/** The version after `prev`, signed (later) by `author`. The chain still judges it on apply. */
export function nextVersion(prev: ManifestVersion, author: Fingerprint, createdAtMs: number, edit: ManifestEdit): ManifestVersion {
  const removed = new Set(edit.remove ?? []);
  return canonicalManifest({
    ...prev,
    name: edit.name ?? prev.name,
    version: prev.version + 1,
    prev: manifestHash(prev),
    author,
    createdAtMs,
    members: [...prev.members.filter((m) => !removed.has(m.fingerprint)), ...(edit.upsert ?? [])],
    revocations: [...prev.revocations, ...(edit.revoke ?? [])],
    ignoreRules: edit.ignoreRules ?? prev.ignoreRules,
  });
}
