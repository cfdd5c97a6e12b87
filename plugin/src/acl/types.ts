/** Domain types of the folder manifest: who may read, write and administer a folder. */
import type { Fingerprint, FolderId, Hash } from '../log/types';

export type Role = 'admin' | 'writer' | 'reader';

/** What a member may do: their role and, for a writer, the subtrees they may write. */
export interface Grant {
  readonly role: Role;
  /**
   * Narrows a writer to these subtrees (clean relative paths, sorted, unique). Absent or
   * empty: the whole folder. A path p is inside prefix q when p === q or p starts with q + '/'.
   */
  readonly pathPrefixes?: readonly string[];
}

/**
 * The grant that judged a member's entries up to `untilSeq`, kept when an admin narrowed or
 * demoted them, so what they wrote under the wider grant stays valid.
 */
export interface EarlierGrant extends Grant {
  readonly untilSeq: number;
}

export interface Member extends Grant {
  readonly fingerprint: Fingerprint;
  /** Display name, as the admin who added the member saw it. */
  readonly name: string;
  /** The member's armored OpenPGP public key: lets members who are not friends verify them. */
  readonly publicKeyArmored: string;
  /**
   * Grants that judged the member's earlier entries, by ascending (non-decreasing) untilSeq:
   * an entry with seq <= some untilSeq is judged by the first such grant, later entries by
   * the current role and prefixes. Absent or empty: every entry by the current grant.
   * Only grows: each narrowing or demotion appends the grant it replaced.
   */
  readonly earlier?: readonly EarlierGrant[];
}

/**
 * Ends a member's rights: entries of theirs with seq <= lastValidSeq stay valid (judged by
 * their role and prefixes), later ones are refused, so they cannot back-date new entries.
 * lastValidSeq 0 means none of their entries is valid. A revoked member keeps their row in
 * `members` so their earlier entries stay verifiable.
 */
export interface Revocation {
  readonly fingerprint: Fingerprint;
  readonly lastValidSeq: number;
}

/** One version of a folder's manifest. Lists are sorted by fingerprint (members, revocations). */
export interface ManifestVersion {
  readonly folder: FolderId;
  readonly name: string;
  /** 1 for the genesis, prev's version + 1 after. */
  readonly version: number;
  /** Hash of the version this one follows; null exactly for the genesis. */
  readonly prev: Hash | null;
  /** Who signed it: the creator for the genesis, an admin of `prev` after. */
  readonly author: Fingerprint;
  readonly createdAtMs: number;
  readonly members: readonly Member[];
  readonly revocations: readonly Revocation[];
  /** gitignore-syntax rules every member applies; order matters (negations). */
  readonly ignoreRules: readonly string[];
}

/** A manifest version with its author's detached signature over `manifestSigningBytes`. */
export interface SignedManifest {
  readonly manifest: ManifestVersion;
  readonly signature: Uint8Array;
}
