/**
 * The friend certificate, exchanged out of band: `kfcert1:` + base64url of
 *   u32 BE body length | body | binary OpenPGP detached signature over body
 * where body = "KINFOLDER-DEVHOST-CERT-V1\0" then, each as u32 BE length + bytes:
 *   name (UTF-8) | location id (ASCII hex) | address "host:port" (ASCII) | binary public key.
 * Fixed field order, no JSON: the signature covers exactly these bytes.
 */
import * as openpgp from 'openpgp';
import { certInvalid } from './errors';
import type { Identity } from './identity';
import { fingerprintOf, verifyDetached } from './pgp';

export const CERT_PREFIX = 'kfcert1:';
const CERT_CONTEXT = Buffer.from('KINFOLDER-DEVHOST-CERT-V1\0', 'utf8');
const MAX_CERT_CHARS = 64 * 1024;
const MAX_NAME_BYTES = 256;

export interface ParsedCertificate {
  fingerprint: string;
  name: string;
  locationId: string;
  address: string; // host:port
  publicKeyArmored: string;
  publicKey: openpgp.Key;
}

function field(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

export function certificateBody(name: string, locationId: string, address: string, publicKey: Uint8Array): Buffer {
  return Buffer.concat([
    CERT_CONTEXT,
    field(Buffer.from(name, 'utf8')),
    field(Buffer.from(locationId, 'ascii')),
    field(Buffer.from(address, 'ascii')),
    field(publicKey),
  ]);
}

export async function createCertificate(identity: Identity, address: string): Promise<string> {
  const body = certificateBody(identity.displayName, identity.locationId, address, identity.publicKey.write());
  const sig = await identity.sign(body);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return CERT_PREFIX + Buffer.concat([len, body, sig]).toString('base64url');
}

export function parseAddress(address: string): { host: string; port: number } | undefined {
  const m = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** Parses and verifies a certificate; throws DevhostError CERT_INVALID with a `reason`. */
export async function parseCertificate(text: string): Promise<ParsedCertificate> {
  const trimmed = text.trim();
  if (!trimmed.startsWith(CERT_PREFIX)) throw certInvalid('prefix', `expected it to start with ${CERT_PREFIX}`);
  if (trimmed.length > MAX_CERT_CHARS) throw certInvalid('too-large');
  const b64 = trimmed.slice(CERT_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(b64)) throw certInvalid('encoding', 'not base64url');
  const raw = Buffer.from(b64, 'base64url');
  if (raw.length < 4) throw certInvalid('truncated');
  const bodyLen = raw.readUInt32BE(0);
  if (bodyLen > raw.length - 4) throw certInvalid('truncated');
  const body = raw.subarray(4, 4 + bodyLen);
  const sig = raw.subarray(4 + bodyLen);
  if (sig.length === 0) throw certInvalid('unsigned');
  if (!body.subarray(0, CERT_CONTEXT.length).equals(CERT_CONTEXT)) throw certInvalid('context', 'not a devhost certificate body');

  const fields: Buffer[] = [];
  let off = CERT_CONTEXT.length;
  while (off < body.length) {
    if (body.length - off < 4) throw certInvalid('fields', 'truncated field length');
    const n = body.readUInt32BE(off);
    off += 4;
    if (n > body.length - off) throw certInvalid('fields', 'field overruns body');
    fields.push(body.subarray(off, off + n));
    off += n;
  }
  if (fields.length !== 4) throw certInvalid('fields', `expected 4 fields, got ${fields.length}`);
  const [nameBytes, locBytes, addrBytes, keyBytes] = fields;

  const name = nameBytes.toString('utf8');
  if (name.length === 0 || nameBytes.length > MAX_NAME_BYTES || !Buffer.from(name, 'utf8').equals(nameBytes) || /[\u0000-\u001f]/.test(name)) {
    throw certInvalid('name');
  }
  const locationId = locBytes.toString('ascii');
  if (!/^[0-9a-f]{32}$/.test(locationId)) throw certInvalid('location');
  const address = addrBytes.toString('ascii');
  if (!parseAddress(address)) throw certInvalid('address', address);

  let publicKey: openpgp.Key;
  try {
    publicKey = await openpgp.readKey({ binaryKey: keyBytes });
  } catch (err) {
    throw certInvalid('key', (err as Error).message);
  }
  if (publicKey.isPrivate()) throw certInvalid('key', 'holds a private key');
  if (!(await verifyDetached(publicKey, body, sig))) throw certInvalid('signature', 'not signed by the key it carries');
  return { fingerprint: fingerprintOf(publicKey), name, locationId, address, publicKeyArmored: publicKey.armor(), publicKey };
}
