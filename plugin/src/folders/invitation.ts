/**
 * An invitation is the folder's manifest chain, sent by a member to a friend who does not
 * hold the folder yet. It proves itself: every version's signature is checked through the
 * manifest chain, and it is an invitation only if its head makes us an active member.
 */
import { encodeSignedManifest, ManifestChain, type KeyInspector, type Member, type ManifestVersion } from '../acl';
import type { SignatureVerifier } from '../log';

export interface CheckedInvitation {
  readonly head: ManifestVersion;
  readonly me: Member;
  /** The versions that verified, in an order the chain takes. */
  readonly chain: readonly Uint8Array[];
}

/** The verified invitation, or why it is not one. */
export async function checkInvitation(
  folder: string,
  self: string,
  chain: readonly Uint8Array[],
  verifier: SignatureVerifier,
  keys?: KeyInspector,
  signal?: AbortSignal,
): Promise<CheckedInvitation | { readonly refused: string }> {
  const c = new ManifestChain({ folder, verifier, keys });
  for (const bytes of chain) await c.apply(bytes, signal);
  const head = c.head();
  if (!head) return { refused: 'no verified genesis among the versions sent' };
  const me = head.index.member(self);
  if (!me || !head.index.isActiveMember(self)) return { refused: 'the manifest does not make this node a member' };
  return { head: head.manifest, me, chain: c.versions().map((v) => encodeSignedManifest(v.signed)) };
}
