/**
 * What a Links payload of the sync service holds: the folder's id (16 raw bytes), then one
 * encoded sync message. The receiver routes on the folder before decoding the message, so
 * block messages (which name no folder) reach that folder's session, and a folder it does not
 * hold is answered without looking further.
 */
import { LINK_HEADROOM, markLinkHeadroom } from '../../../proto';
import { FOLDER_BYTES } from '../log/codec';
import { SyncError } from './errors';
import { encodeWithHeadroom, MAX_MESSAGE_BYTES, type SyncMessage } from './messages';

export const ENVELOPE_BYTES = FOLDER_BYTES;
const FOLDER_HEX = /^[0-9a-f]{32}$/;

export function sealEnvelope(folder: string, message: Uint8Array): Buffer {
  if (!FOLDER_HEX.test(folder)) throw new SyncError('SYNC_ENCODE_INVALID', `folder id ${JSON.stringify(folder)} is not 32 lower-case hex characters`);
  if (message.length > MAX_MESSAGE_BYTES) throw new SyncError('SYNC_ENCODE_INVALID', `message of ${message.length} bytes, more than ${MAX_MESSAGE_BYTES}`);
  const out = Buffer.allocUnsafe(ENVELOPE_BYTES + message.length);
  out.write(folder, 0, 'hex');
  out.set(message, ENVELOPE_BYTES);
  return out;
}

/**
 * `sealEnvelope(folder, encodeMessage(m))` in one buffer: a block is copied once on its way out,
 * not three times. Room is left in front for the Links message around it (see LINK_HEADROOM),
 * so the gRPC encoder does not copy it once more.
 */
export function encodeEnvelope(folder: string, m: SyncMessage): Buffer {
  if (!FOLDER_HEX.test(folder)) throw new SyncError('SYNC_ENCODE_INVALID', `folder id ${JSON.stringify(folder)} is not 32 lower-case hex characters`);
  const out = encodeWithHeadroom(m, LINK_HEADROOM + ENVELOPE_BYTES).subarray(LINK_HEADROOM);
  out.write(folder, 0, 'hex');
  markLinkHeadroom(out);
  return out;
}

/** The folder and the message's bytes (a view, not a copy); SYNC_MALFORMED for what cannot be one. */
export function openEnvelope(payload: Uint8Array): { folder: string; message: Uint8Array } {
  if (!(payload instanceof Uint8Array) || payload.length <= ENVELOPE_BYTES) throw new SyncError('SYNC_MALFORMED', `envelope of ${payload?.length ?? 0} bytes is too short`);
  if (payload.length > ENVELOPE_BYTES + MAX_MESSAGE_BYTES) throw new SyncError('SYNC_MALFORMED', `envelope of ${payload.length} bytes, more than ${ENVELOPE_BYTES + MAX_MESSAGE_BYTES}`);
  return { folder: Buffer.from(payload.buffer, payload.byteOffset, ENVELOPE_BYTES).toString('hex'), message: payload.subarray(ENVELOPE_BYTES) };
}
