import { ManifestIndex, checkTransition, manifestHash, type ManifestVersion, type Member } from '../../../plugin/src/acl';
import { editedManifest, isReplicaError, type ManifestEdit } from '../../../plugin/src/replica';

const mem = (c: string, role: Member['role'], pathPrefixes?: string[]): Member => ({ fingerprint: c.repeat(40), name: c, publicKeyArmored: `key-${c}`, role, ...(pathPrefixes ? { pathPrefixes } : {}) });
const ADMIN = 'A'.repeat(40);
const WRITER = 'B'.repeat(40);
const genesis: ManifestVersion = {
  folder: '0'.repeat(32),
  name: 'n',
  version: 1,
  prev: null,
  author: ADMIN,
  createdAtMs: 0,
  members: [mem('A', 'admin'), mem('B', 'writer'), mem('C', 'writer', ['docs'])],
  revocations: [],
  ignoreRules: [],
};

/** Applies `edit` to `current` as the admin would, and asks the chain's rules about it. */
function edit(current: ManifestVersion, e: ManifestEdit): ManifestVersion {
  const next = editedManifest({ hash: manifestHash(current), manifest: current }, e, ADMIN, current.createdAtMs + 1);
  expect(checkTransition(new ManifestIndex(current), next)).toBeNull();
  return next;
}
const verdict = (m: ManifestVersion, fp: string, path: string, seq: number): string => {
  const d = new ManifestIndex(m).mayWrite(fp, path, seq);
  return d.ok ? 'ok' : d.reason;
};
const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'OK';
  } catch (e) {
    if (isReplicaError(e)) return e.code;
    throw e;
  }
};

describe('editedManifest: narrowing and demoting after the member wrote', () => {
  it('narrowing keeps the entries up to untilSeq valid and refuses later ones outside the new grant', () => {
    const v2 = edit(genesis, { kind: 'narrow', fingerprint: WRITER, pathPrefixes: ['docs'], untilSeq: 4 });
    expect(v2.members.find((m) => m.fingerprint === WRITER)).toMatchObject({ role: 'writer', pathPrefixes: ['docs'], earlier: [{ untilSeq: 4, role: 'writer' }] });
    expect([verdict(v2, WRITER, 'src/x', 4), verdict(v2, WRITER, 'src/x', 5), verdict(v2, WRITER, 'docs/x', 5)]).toEqual(['ok', 'OUTSIDE_PATH_GRANT', 'ok']);
  });

  it('demoting a writer to reader likewise; a later promotion and narrowing keep every record', () => {
    const v2 = edit(genesis, { kind: 'role', fingerprint: 'C'.repeat(40), role: 'reader', untilSeq: 3 });
    const c = 'C'.repeat(40);
    expect([verdict(v2, c, 'docs/a', 3), verdict(v2, c, 'src/a', 3), verdict(v2, c, 'docs/a', 4)]).toEqual(['ok', 'OUTSIDE_PATH_GRANT', 'NOT_A_WRITER']);
    const v3 = edit(v2, { kind: 'role', fingerprint: c, role: 'writer' }); // widening: nothing to record
    expect(v3.members.find((m) => m.fingerprint === c)?.earlier).toEqual([{ untilSeq: 3, role: 'writer', pathPrefixes: ['docs'] }]);
    // A stale tip (2, behind the record at 3) is raised to the last record, which the chain requires.
    const v4 = edit(v3, { kind: 'narrow', fingerprint: c, pathPrefixes: ['docs/sub'], untilSeq: 2 });
    expect(v4.members.find((m) => m.fingerprint === c)?.earlier).toEqual([
      { untilSeq: 3, role: 'writer', pathPrefixes: ['docs'] },
      { untilSeq: 3, role: 'writer' },
    ]);
    expect([verdict(v4, c, 'docs/a', 3), verdict(v4, c, 'docs/a', 4), verdict(v4, c, 'docs/sub/a', 4)]).toEqual(['ok', 'OUTSIDE_PATH_GRANT', 'ok']);
  });

  it('a shrinking edit without untilSeq is refused before signing; a widening one needs none', () => {
    const current = { hash: manifestHash(genesis), manifest: genesis };
    expect(codeOf(() => editedManifest(current, { kind: 'narrow', fingerprint: WRITER, pathPrefixes: ['docs'] }, ADMIN, 1))).toBe('BAD_CHANGE');
    expect(codeOf(() => editedManifest(current, { kind: 'role', fingerprint: WRITER, role: 'reader', untilSeq: -1 }, ADMIN, 1))).toBe('BAD_CHANGE');
    const wider = edit(genesis, { kind: 'narrow', fingerprint: 'C'.repeat(40), pathPrefixes: [] });
    expect(wider.members.find((m) => m.fingerprint === 'C'.repeat(40))).toEqual(mem('C', 'writer'));
    const promoted = edit(genesis, { kind: 'role', fingerprint: WRITER, role: 'admin' });
    expect(promoted.members.find((m) => m.fingerprint === WRITER)?.earlier).toBeUndefined();
  });
});
