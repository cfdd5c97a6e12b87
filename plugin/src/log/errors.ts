/** Typed errors of the log: stable string codes, so callers branch on `code`, never on text. */

export type DecodeErrorCode =
  | 'DECODE_TRUNCATED'
  | 'DECODE_TRAILING_BYTES'
  | 'DECODE_NON_CANONICAL_VARINT'
  | 'DECODE_VARINT_OVERFLOW'
  | 'DECODE_BAD_KIND'
  | 'DECODE_BAD_FORMAT_VERSION'
  | 'DECODE_OUT_OF_RANGE'
  | 'DECODE_UNSORTED'
  | 'DECODE_DUPLICATE'
  | 'DECODE_BAD_UTF8'
  | 'DECODE_BAD_VALUE'
  | 'DECODE_TOO_LARGE';

/** Bytes that are not the canonical encoding of anything. Decoders throw nothing else. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(readonly code: DecodeErrorCode, message: string) {
    super(`${code}: ${message}`);
  }
}

export type LogErrorCode = 'ENCODE_INVALID' | 'FEED_NOT_NEXT' | 'FEED_BAD_LAMPORT' | 'STATE_UNSORTED';

/** A domain object that can not be encoded or appended as given (a caller's bug). */
export class LogError extends Error {
  override readonly name = 'LogError';
  constructor(readonly code: LogErrorCode, message: string) {
    super(`${code}: ${message}`);
  }
}
