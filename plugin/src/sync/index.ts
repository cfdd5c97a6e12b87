/** Sync between friends: the protocol's messages, one session per (peer, folder), and blocks fetched from peers. */
export { SyncError, isSyncError, type SyncErrorCode } from './errors';
export {
  encodeMessage,
  decodeMessage,
  isBlockMessage,
  isBlockBytes,
  vectorEntries,
  vectorOf,
  PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  MAX_BATCH_BLOCKS,
  MAX_MESSAGE_BYTES,
  MAX_BLOCK_BYTES,
  type SyncMessage,
  type SyncKind,
  type BlockRequestItem,
  type BlockReplyItem,
  type VectorEntry,
  type ResumeFeed,
} from './messages';
export { sealEnvelope, openEnvelope, encodeEnvelope, ENVELOPE_BYTES } from './envelope';
export { SyncSession, type SessionOptions, type SessionEvent } from './session';
export { FeedSources, SOURCE_STALL_MS, type FeedHolder } from './feed-sources';
export { AUTHOR_SLOWER_LIMIT, BlockRequester, PeerBlockSource, DEFAULT_MAX_IN_FLIGHT } from './blocks';
