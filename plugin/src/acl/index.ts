/** Folder manifests: the signed chain of who may read, write and administer a folder. Pure: no I/O. */
export type * from './types';
export { AclError, type AclErrorCode, type ManifestRefusalReason } from './errors';
export {
  KIND_MANIFEST,
  KIND_SIGNED_MANIFEST,
  MANIFEST_SIGNING_PREFIX,
  encodeManifest,
  decodeManifest,
  encodeSignedManifest,
  decodeSignedManifest,
  manifestHash,
  manifestSigningBytes,
  MAX_EARLIER_GRANTS,
} from './encoding';
export { ManifestIndex, mayWrite, grantAt, grantCovers, grantIncludes, manifestChange, type ManifestChange } from './decide';
export { ManifestChain, checkTransition, type ApplyResult, type Overruled, type KeyInspector, type ManifestChainOptions, type Refused } from './chain';
export { signManifest } from './sign';
export { genesis, nextVersion, canonicalManifest, type GenesisInput, type ManifestEdit } from './edit';
