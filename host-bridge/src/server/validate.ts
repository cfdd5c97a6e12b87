/** Request field checks shared by the services; each throws a Refusal with the field's name. */
import { Refusal } from './errors';

const FINGERPRINT = /^[0-9A-Fa-f]{40}$/;
const ROOM_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A friend's PGP v4 fingerprint, returned upper-case as the contract spells it. */
export function fingerprint(value: string | undefined, field: string): string {
  if (!value || !FINGERPRINT.test(value)) {
    throw new Refusal('INVALID_ARGUMENT', `${field} must be a 40-hex-digit PGP fingerprint, got ${JSON.stringify(clip(value ?? ''))}`);
  }
  return value.toUpperCase();
}

export function roomId(value: string | undefined, field: string): string {
  if (!value || !ROOM_ID.test(value)) {
    throw new Refusal('INVALID_ARGUMENT', `${field} must be 1..128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(clip(value ?? ''))}`);
  }
  return value;
}

export function maxBytes(bytes: number, limit: number, what: string, code: 'INVALID_ARGUMENT' | 'RESOURCE_EXHAUSTED'): void {
  if (bytes > limit) throw new Refusal(code, `${what} is ${bytes} bytes, more than the limit of ${limit}`);
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
