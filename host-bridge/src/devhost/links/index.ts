/** Secure links between friends: mutual TLS bound to PGP keys, framed messages, one link per friend. */
export { LinkManager, DEFAULT_LINK_TIMINGS, backoffDelay } from './manager';
export type { LinkEvent, RefusalReason, LinkTimings, LinkManagerDeps, DataFrame } from './manager';
export { bindingMessage, signBinding, verifyBinding } from './binding';
export { generateTlsCredentials, loadOrCreateTlsCredentials, spkiSha256OfCert } from './tls-credentials';
export type { TlsCredentials } from './tls-credentials';
export { encodeFrame, encodeFrameParts, decodeFrameBody, FrameDecoder, FrameError, FRAME_TYPE, MAX_FRAME_BYTES } from './frames';
export type { Frame, HelloFrame, ChatFrame, ChatRoomRef } from './frames';
