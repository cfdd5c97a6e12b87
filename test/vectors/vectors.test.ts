import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeCheckpoint, decodeEntry, decodeHashedEntry, encodeCheckpoint, encodeEntry, checkpointSigningBytes, DecodeError, sha256Hex } from '../../plugin/src/log';
import { decodeManifest, decodeSignedManifest, encodeManifest, encodeSignedManifest, manifestSigningBytes } from '../../plugin/src/acl';
import { buildAclVectors, buildLogVectors } from './build';
import { hex, unhex } from './fixtures';

const logVectors = JSON.parse(fs.readFileSync(path.join(__dirname, 'log.json'), 'utf8'));
const aclVectors = JSON.parse(fs.readFileSync(path.join(__dirname, 'acl.json'), 'utf8'));

describe('checked-in vectors', () => {
  it('rebuilding the log vectors from the fixed inputs gives the same bytes, hashes and verdicts', async () => {
    expect(JSON.parse(JSON.stringify(await buildLogVectors()))).toEqual(logVectors);
  });

  it('rebuilding the acl vectors from the fixed inputs gives the same bytes, hashes and verdicts', async () => {
    expect(JSON.parse(JSON.stringify(await buildAclVectors()))).toEqual(aclVectors);
  });

  it('every entry vector decodes to its object and re-encodes to its bytes and hash', () => {
    expect(logVectors.entries.length).toBeGreaterThanOrEqual(8);
    for (const v of logVectors.entries) {
      const bytes = unhex(v.bytes);
      expect(decodeEntry(bytes)).toEqual(v.entry);
      expect(hex(encodeEntry(v.entry))).toBe(v.bytes);
      expect(decodeHashedEntry(bytes).hash).toBe(v.hash);
      expect(sha256Hex(bytes)).toBe(v.hash);
    }
  });

  it('every checkpoint vector decodes and re-encodes, with its signing bytes', () => {
    for (const v of logVectors.checkpoints) {
      const cp = decodeCheckpoint(unhex(v.bytes));
      expect(hex(cp.signature)).toBe(v.checkpoint.signature);
      expect(hex(encodeCheckpoint(cp))).toBe(v.bytes);
      expect(hex(checkpointSigningBytes(cp))).toBe(v.signingBytes);
      expect(unhex(v.signingBytes).subarray(0, 24).toString('latin1')).toBe('KINFOLDER-CHECKPOINT-V1\0');
    }
  });

  it('every invalid vector fails with its decode code', () => {
    for (const v of logVectors.invalid) {
      let code = 'ACCEPTED';
      try {
        decodeEntry(unhex(v.bytes));
      } catch (err) {
        code = err instanceof DecodeError ? err.code : 'THREW';
      }
      expect([v.name, code]).toEqual([v.name, v.error]);
    }
  });

  it('every manifest vector decodes, re-encodes and hashes the unsigned bytes', () => {
    for (const v of aclVectors.manifests) {
      const m = decodeManifest(unhex(v.bytes));
      expect(m).toEqual(v.manifest);
      expect(hex(encodeManifest(m))).toBe(v.bytes);
      expect(hex(manifestSigningBytes(m))).toBe(v.signingBytes);
      const s = decodeSignedManifest(unhex(v.signed));
      expect(s.hash).toBe(v.hash);
      expect(hex(encodeSignedManifest(s))).toBe(v.signed);
    }
  });
});
