/** The signed, append-only file-metadata log: encoding, feeds, validation and path state. Pure: no I/O. */
// The openpgp-backed SignatureVerifier is imported from './openpgp-verifier' directly: it is
// the one file that loads openpgp, and the pure core does not need it.
export type * from './types';
export { DecodeError, LogError, type DecodeErrorCode, type LogErrorCode } from './errors';
export { isHash, isFingerprint, isFolderId, compareUtf8 } from './codec';
export {
  FORMAT_VERSION,
  KIND_ENTRY,
  KIND_CHECKPOINT,
  CHECKPOINT_SIGNING_PREFIX,
  encodeEntry,
  decodeEntry,
  hashEntry,
  decodeHashedEntry,
  encodeCheckpoint,
  decodeCheckpoint,
  peekAuthor,
  peekSeq,
  sameAuthorBytes,
  checkpointSigningBytes,
  canonicalParents,
  sha256Hex,
  contentHashOf,
} from './encoding';
export { pathProblem, isCleanPath, isUnder, pathsOf, type PathProblem, MAX_PATH_BYTES, MAX_SEGMENT_BYTES, MAX_SEGMENTS, RESERVED_DIR } from './path';
export { linksTo, lamportViolation, nextEntry, advance, missingFrom, mergeVectors, forkBetween, type FeedTip, type ParentRef, type NewChange } from './feed';
export { validateFeed, type FeedBatch, type ValidationContext, type FeedVerdict, type Refusal, type RefusalReason, type Deferral } from './validate';
export { stateHashOfSorted, stateSortKey, type PathHeads } from './state-stream';
export { FolderState, compareHeads, conflictCopyName, conflictCopyNames, isConflictCopyOf, type CopyNameSource, touchesOf, type Touch, type PathResolution } from './state';
export { signCheckpoint, appendBatch } from './sign';
export { verifyForkEvidence, encodeForkEvidence, decodeForkEvidence, KIND_FORK_EVIDENCE, type ForkEvidenceVerdict } from './fork';
