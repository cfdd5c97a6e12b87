/** Messages between BlockReads and its worker thread (block-reads-worker.cjs). */
export interface BlockReadRequest {
  /** Absolute path, its parents checked by the caller (safePath); the last component is opened with O_NOFOLLOW. */
  readonly path: string;
  readonly offset: number;
  readonly size: number;
  /** The SHA-256 (hex) the bytes must have to be answered. */
  readonly hash: string;
}

export interface BlockReadsBatch {
  readonly id: number;
  readonly reads: readonly BlockReadRequest[];
}

export interface BlockReadsReply {
  readonly id: number;
  /** All reads' bytes, each read's at the sum of the sizes before it (a read not found leaves its room unused). */
  readonly data: ArrayBuffer;
  /** Per read: 1 when its bytes are there and hash right; 0 when not (gone, moved, short, changed, unreadable). */
  readonly found: Uint8Array;
}
