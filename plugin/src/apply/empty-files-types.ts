/** Messages between EmptyFiles and its worker thread (empty-files-worker.cjs). */
export interface EmptyFileRequest {
  readonly path: string;
  readonly mode: number;
  /** fchmod after the create (the umask took bits of `mode`). */
  readonly chmod: boolean;
  /** futimes argument (seconds). */
  readonly timeSec: number;
  /** Bytes to write, in order from offset 0 (a small file's verified blocks); none: an empty file. */
  readonly data?: readonly Uint8Array[];
}

/** Renames `from` to `to` when nothing stands at `to` (else EEXIST, and nothing is moved). */
export interface PlaceRequest {
  readonly op: 'place';
  readonly from: string;
  readonly to: string;
}

export type PlaceResult = { readonly ok: true } | Extract<EmptyFileResult, { ok: false }>;

export type EmptyFileResult =
  | { readonly ok: true; readonly ino: number; readonly mode: number; readonly size: number; readonly mtimeMs: number }
  | { readonly ok: false; readonly code?: string; readonly syscall?: string; readonly message: string };

export interface EmptyFilesBatch {
  readonly id: number;
  readonly files: readonly (EmptyFileRequest | PlaceRequest)[];
}

export interface EmptyFilesReply {
  readonly id: number;
  readonly results: readonly (EmptyFileResult | PlaceResult)[];
}
