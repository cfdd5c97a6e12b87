import { isUnder, pathProblem, type PathProblem } from '../../../plugin/src/log';

describe('clean paths', () => {
  it.each<[string, PathProblem]>([
    ['', 'EMPTY'],
    ['a\0b', 'NUL'],
    ['a\u0001b', 'CONTROL_CHAR'],
    ['a\nb', 'CONTROL_CHAR'],
    ['a\u007fb', 'CONTROL_CHAR'],
    ['a\u0085b', 'CONTROL_CHAR'],
    ['a\\b', 'BACKSLASH'],
    ['a\ud800b', 'NOT_WELL_FORMED'],
    ['cafe\u0301.txt', 'NOT_NFC'],
    ['a/'.repeat(2100) + 'b', 'TOO_LONG'],
    ['/etc/passwd', 'ABSOLUTE'],
    ['docs/', 'TRAILING_SLASH'],
    ['a//b', 'EMPTY_SEGMENT'],
    ['./a', 'DOT_SEGMENT'],
    ['a/./b', 'DOT_SEGMENT'],
    ['../a', 'DOTDOT_SEGMENT'],
    ['a/../../b', 'DOTDOT_SEGMENT'],
    ['a/' + 'x'.repeat(256), 'SEGMENT_TOO_LONG'],
    ['a/' + '\u00e9'.repeat(128), 'SEGMENT_TOO_LONG'],
    [Array.from({ length: 65 }, () => 'd').join('/'), 'TOO_DEEP'],
    ['.kinfolder/versions/a', 'RESERVED'],
    ['.kinfolder', 'RESERVED'],
    ['.KinFolder/x', 'RESERVED'],
  ])('refuses %j as %s', (p, problem) => {
    expect(pathProblem(p)).toBe(problem);
  });

  it.each(['a', 'docs/readme.md', 'caf\u00e9.txt', '.hidden', 'a/.kinfolder/b', '..a', 'a..', 'x'.repeat(255), Array.from({ length: 64 }, () => 'd').join('/'), '\u{1f600}/\u4e2d\u6587'])('accepts %j', (p) => {
    expect(pathProblem(p)).toBeNull();
  });

  it('knows what lies under a prefix', () => {
    expect(isUnder('docs', 'docs')).toBe(true);
    expect(isUnder('docs/a', 'docs')).toBe(true);
    expect(isUnder('docsx/a', 'docs')).toBe(false);
    expect(isUnder('doc', 'docs')).toBe(false);
  });
});
