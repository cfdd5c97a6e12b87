/** Typed errors and refusal reasons of the ACL, with stable string codes. */

/** Why a manifest version is not applied to the chain. */
export type ManifestRefusalReason =
  | 'DECODE'
  | 'WRONG_FOLDER'
  | 'WRONG_GENESIS'
  | 'BAD_VERSION_NUMBER'
  | 'BAD_SIGNATURE'
  | 'SIGNER_NOT_ADMIN'
  | 'LAST_ADMIN'
  | 'BAD_MEMBER_KEY'
  | 'BAD_PATH_PREFIX'
  | 'REVOCATION_UNKNOWN_MEMBER'
  | 'REVOCATION_CHANGED'
  | 'REVOKED_MEMBER_CHANGED'
  | 'REVOKE_FIRST'
  | 'EARLIER_GRANT_MISSING'
  | 'EARLIER_GRANT_CHANGED'
  | 'PREV_REFUSED'
  | 'TOO_MANY_PENDING';

export type AclErrorCode = 'ACL_INVALID_MANIFEST';

/** A manifest given to the encoder that no decoder would accept (a caller's bug). */
export class AclError extends Error {
  override readonly name = 'AclError';
  constructor(readonly code: AclErrorCode, message: string) {
    super(`${code}: ${message}`);
  }
}
