import { ManifestIndex, manifestChange, mayWrite, type ManifestVersion, type Member } from '../../../plugin/src/acl';

const mem = (c: string, role: Member['role'], pathPrefixes?: string[]): Member => ({ fingerprint: c.repeat(40), name: c, publicKeyArmored: `key-${c}`, role, ...(pathPrefixes ? { pathPrefixes } : {}) });
const m: ManifestVersion = {
  folder: '0'.repeat(32),
  name: 'n',
  version: 1,
  prev: null,
  author: 'A'.repeat(40),
  createdAtMs: 0,
  members: [mem('A', 'admin'), mem('B', 'writer'), mem('C', 'writer', ['docs', 'shared/team']), mem('D', 'reader'), mem('E', 'writer')],
  revocations: [{ fingerprint: 'E'.repeat(40), lastValidSeq: 10 }],
  ignoreRules: [],
};

describe('mayWrite', () => {
  const idx = new ManifestIndex(m);
  it.each([
    ['A', 'anything/at/all', 1, 'ok'],
    ['B', 'x', 99, 'ok'],
    ['C', 'docs', 1, 'ok'],
    ['C', 'docs/a/b', 1, 'ok'],
    ['C', 'shared/team/x', 1, 'ok'],
    ['C', 'shared/other', 1, 'OUTSIDE_PATH_GRANT'],
    ['C', 'docs2/x', 1, 'OUTSIDE_PATH_GRANT'],
    ['D', 'x', 1, 'NOT_A_WRITER'],
    ['E', 'x', 10, 'ok'],
    ['E', 'x', 11, 'REVOKED'],
    ['F', 'x', 1, 'UNKNOWN_AUTHOR'],
  ])('%s writing %s at seq %i: %s', (who, path, seq, expected) => {
    const d = mayWrite(idx, (who as string).repeat(40), path as string, seq as number);
    expect(d.ok ? 'ok' : d.reason).toBe(expected);
    expect(mayWrite(m, (who as string).repeat(40), path as string, seq as number)).toEqual(d);
  });

  it('answers the validator\'s questions: keys, active members, admins', () => {
    expect(idx.publicKeyOf('E'.repeat(40))).toBe('key-E');
    expect(idx.publicKeyOf('F'.repeat(40))).toBeUndefined();
    expect(idx.isActiveMember('E'.repeat(40))).toBe(false);
    expect(idx.isActiveMember('D'.repeat(40))).toBe(true);
    expect(idx.isActiveAdmin('A'.repeat(40))).toBe(true);
    expect(idx.isActiveAdmin('B'.repeat(40))).toBe(false);
  });
});

describe('manifestChange', () => {
  const with_ = (patch: Partial<ManifestVersion>): ManifestVersion => ({ ...m, ...patch });
  const swap = (row: Member) => [...m.members.filter((x) => x.fingerprint !== row.fingerprint), row].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));

  it('nothing changes between equal manifests; everyone who writes is reopened from nothing', () => {
    expect(manifestChange(m, m)).toEqual({ cut: [], narrowed: [], reopened: [] });
    expect(manifestChange(undefined, m).reopened).toEqual(['A', 'B', 'C', 'E'].map((c) => c.repeat(40)));
  });

  it('a new revocation cuts the feed after the last valid seq; a lifted one reopens it', () => {
    const revoked = with_({ revocations: [{ fingerprint: 'B'.repeat(40), lastValidSeq: 4 }, ...m.revocations] });
    expect(manifestChange(m, revoked)).toEqual({ cut: [{ author: 'B'.repeat(40), fromSeq: 5 }], narrowed: [], reopened: [] });
    expect(manifestChange(revoked, m)).toEqual({ cut: [], narrowed: [], reopened: ['B'.repeat(40)] });
  });

  it('a narrower grant asks for judging again, a wider one for fetching again', () => {
    const narrower = with_({ members: swap(mem('C', 'writer', ['docs'])) });
    expect(manifestChange(m, narrower)).toEqual({ cut: [], narrowed: ['C'.repeat(40)], reopened: [] });
    expect(manifestChange(narrower, m)).toEqual({ cut: [], narrowed: [], reopened: ['C'.repeat(40)] });
    const reader = with_({ members: swap(mem('B', 'reader')) });
    expect(manifestChange(m, reader).cut).toEqual([{ author: 'B'.repeat(40), fromSeq: 1 }]);
  });

  it('a demotion that records the earlier grant cuts only after its untilSeq; a head switch that changes the records asks for both', () => {
    const B = 'B'.repeat(40);
    const demoted = with_({ members: swap({ ...mem('B', 'reader'), earlier: [{ untilSeq: 6, role: 'writer' }] }) });
    expect(manifestChange(m, demoted)).toEqual({ cut: [{ author: B, fromSeq: 7 }], narrowed: [B], reopened: [] });
    const later = with_({ members: swap({ ...mem('B', 'reader'), earlier: [{ untilSeq: 9, role: 'writer' }] }) });
    expect(manifestChange(demoted, later)).toEqual({ cut: [], narrowed: [B], reopened: [B] });
    const narrowedAt = (n: number) => with_({ members: swap({ ...mem('B', 'writer', ['docs']), earlier: [{ untilSeq: n, role: 'writer' }] }) });
    expect(manifestChange(narrowedAt(3), narrowedAt(5))).toEqual({ cut: [], narrowed: [B], reopened: [B] });
  });
});

describe('mayWrite with earlier grants', () => {
  const F = 'F'.repeat(40);
  const earlier = [{ untilSeq: 3, role: 'admin' as const }, { untilSeq: 3, role: 'reader' as const }, { untilSeq: 7, role: 'writer' as const, pathPrefixes: ['docs'] }];
  const withF = { ...m, members: [...m.members, { ...mem('F', 'writer', ['docs/sub']), earlier }] };
  it.each([
    ['x', 1, 'ok'],
    ['x', 3, 'ok'], // the first record reaching seq 3 judges it; the second at 3 never does
    ['x', 4, 'OUTSIDE_PATH_GRANT'],
    ['docs/a', 7, 'ok'],
    ['docs/a', 8, 'OUTSIDE_PATH_GRANT'],
    ['docs/sub/a', 8, 'ok'],
  ])('F writing %s at seq %i: %s', (path, seq, expected) => {
    const d = mayWrite(withF, F, path as string, seq as number);
    expect(d.ok ? 'ok' : d.reason).toBe(expected);
  });
});
