import { ANSWERS_PER_GENERATION, IgnoreRules, rebasePattern } from '../../../plugin/src/scan/ignore';

describe('IgnoreRules', () => {
  it('ignores the built-in temp, swap and system files, at any depth', () => {
    const rules = new IgnoreRules();
    const ignored = ['a.swp', 'd/a.swx', 'notes.txt~', '.#notes.txt', '#notes.txt#', 'x/y/z.tmp', '~$report.docx', '.DS_Store', 'p/.ds_store', 'Thumbs.db', 'THUMBS.DB', 'q/desktop.ini', 'Desktop.ini'];
    for (const p of ignored) expect([p, rules.isIgnored(p, false)]).toEqual([p, true]);
    const kept = ['notes.txt', 'report.docx', 'a.swp.txt', 'tmp', 'd/tmp.txt', 'photo.sync-conflict-20240101-120000-ABCD.jpg', '.kinignore', 'Thumbs.dbx'];
    for (const p of kept) expect([p, rules.isIgnored(p, false)]).toEqual([p, false]);
  });

  it('always ignores .kinfolder, even when a rule tries to re-include it', () => {
    const rules = new IgnoreRules(['!.kinfolder', '!.kinfolder/**']);
    rules.setKinignore('', '!.kinfolder/\n!.kinfolder/tmp/x');
    expect(rules.isIgnored('.kinfolder', true)).toBe(true);
    expect(rules.isIgnored('.kinfolder/tmp/x', false)).toBe(true);
    expect(rules.isIgnored('sub/.kinfolder', true)).toBe(true);
    expect(rules.isIgnored('', true)).toBe(false);
  });

  it('applies the root .kinignore with gitignore semantics: negation, directory-only rules, anchoring', () => {
    const rules = new IgnoreRules();
    rules.setKinignore('', ['# comment', '*.log', '!keep.log', 'build/', '/only-root.txt', 'docs/*.pdf', ''].join('\n'));
    expect(rules.isIgnored('a.log', false)).toBe(true);
    expect(rules.isIgnored('deep/er/b.log', false)).toBe(true);
    expect(rules.isIgnored('keep.log', false)).toBe(false);
    expect(rules.isIgnored('build', true)).toBe(true);
    expect(rules.isIgnored('build/out.js', false)).toBe(true);
    expect(rules.isIgnored('build', false)).toBe(false); // a *file* named build: dir-only rule does not apply
    expect(rules.isIgnored('only-root.txt', false)).toBe(true);
    expect(rules.isIgnored('sub/only-root.txt', false)).toBe(false);
    expect(rules.isIgnored('docs/x.pdf', false)).toBe(true);
    expect(rules.isIgnored('docs/sub/x.pdf', false)).toBe(false);
    expect(rules.isIgnored('# comment', false)).toBe(false);
  });

  it('cannot re-include a file inside an ignored directory (as in git)', () => {
    const rules = new IgnoreRules();
    rules.setKinignore('', 'cache/\n!cache/important.txt');
    expect(rules.isIgnored('cache/important.txt', false)).toBe(true);
  });

  it('scopes a nested .kinignore to its subtree and lets it override its parents', () => {
    const rules = new IgnoreRules();
    rules.setKinignore('', '*.bak\n');
    rules.setKinignore('proj', '*.o\n!wanted.bak\n/local.txt\nsub/gen.txt\n');
    expect(rules.isIgnored('proj/x.o', false)).toBe(true);
    expect(rules.isIgnored('proj/deep/x.o', false)).toBe(true);
    expect(rules.isIgnored('x.o', false)).toBe(false); // outside proj
    expect(rules.isIgnored('other/x.o', false)).toBe(false);
    expect(rules.isIgnored('a.bak', false)).toBe(true);
    expect(rules.isIgnored('proj/wanted.bak', false)).toBe(false); // deeper negation wins
    expect(rules.isIgnored('wanted.bak', false)).toBe(true);
    expect(rules.isIgnored('proj/local.txt', false)).toBe(true);
    expect(rules.isIgnored('proj/deep/local.txt', false)).toBe(false); // anchored to proj/
    expect(rules.isIgnored('proj/sub/gen.txt', false)).toBe(true);
    expect(rules.isIgnored('proj/x/sub/gen.txt', false)).toBe(false);
    rules.setKinignore('proj', undefined);
    expect(rules.isIgnored('proj/x.o', false)).toBe(false);
    expect(rules.kinignoreDirs()).toEqual(['']);
  });

  it('lets a deeper .kinignore re-include a directory its parent excluded', () => {
    const rules = new IgnoreRules();
    rules.setKinignore('', 'out/\n');
    rules.setKinignore('app', '!out/\n');
    expect(rules.isIgnored('out', true)).toBe(true);
    expect(rules.isIgnored('app/out', true)).toBe(false);
    expect(rules.isIgnored('app/out/bundle.js', false)).toBe(false);
    expect(rules.isIgnored('lib/out/bundle.js', false)).toBe(true);
  });

  it('applies the manifest’s folder-wide rules, below every .kinignore', () => {
    const rules = new IgnoreRules(['*.iso', 'node_modules/']);
    expect(rules.isIgnored('disk.iso', false)).toBe(true);
    expect(rules.isIgnored('web/node_modules', true)).toBe(true);
    expect(rules.isIgnored('web/node_modules/x/index.js', false)).toBe(true);
    rules.setKinignore('', '!needed.iso\n');
    expect(rules.isIgnored('needed.iso', false)).toBe(false);
    expect(rules.isIgnored('disk.iso', false)).toBe(true);
  });

  it('lets a member re-include a built-in pattern', () => {
    const rules = new IgnoreRules();
    rules.setKinignore('', '!keep.tmp\n');
    expect(rules.isIgnored('keep.tmp', false)).toBe(false);
    expect(rules.isIgnored('other.tmp', false)).toBe(true);
  });

  it('answers again after the rules change (remembered answers are dropped)', () => {
    const rules = new IgnoreRules();
    expect(rules.isIgnored('a.log', false)).toBe(false);
    expect(rules.isIgnored('a.log', false)).toBe(false);
    rules.setKinignore('', '*.log\n');
    expect(rules.isIgnored('a.log', false)).toBe(true);
    rules.setKinignore('', undefined);
    expect(rules.isIgnored('a.log', false)).toBe(false);
  });

  it('remembers a bounded number of answers and answers alike after forgetting (a folder larger than the bound)', () => {
    const rules = new IgnoreRules(['*.log']);
    rules.setKinignore('d1', '!keep.log');
    const n = 3 * ANSWERS_PER_GENERATION + 17;
    const answer = (i: number): boolean => rules.isIgnored(`d${i % 3}/f${i}.log`, false);
    for (let i = 0; i < n; i++) expect(answer(i)).toBe(true);
    expect(rules.rememberedAnswers).toBeLessThanOrEqual(2 * ANSWERS_PER_GENERATION);
    // Forgotten long ago, asked again: the rebuilt matcher still knows every rule.
    expect(answer(0)).toBe(true);
    expect(rules.isIgnored('d1/keep.log', false)).toBe(false);
    expect(rules.isIgnored('d2/keep.log', false)).toBe(true);
    expect(rules.isIgnored('d1', true)).toBe(false);
  });

  it('ignores local-only paths and everything under them, read live from the owner’s set', () => {
    const rules = new IgnoreRules();
    const local = new Set<string>();
    rules.setLocalOnly(local);
    expect(rules.isIgnored('a.sync-conflict-x.txt', false)).toBe(false);
    local.add('a.sync-conflict-x.txt');
    local.add('dir/kept');
    expect(rules.isIgnored('a.sync-conflict-x.txt', false)).toBe(true);
    expect(rules.isIgnored('dir/kept', true)).toBe(true);
    expect(rules.isIgnored('dir/kept/inner.txt', false)).toBe(true);
    expect(rules.isIgnored('dir/kept2', false)).toBe(false);
    expect(rules.isIgnored('dir', true)).toBe(false);
  });

  it('is case-sensitive for user rules, so every member decides alike', () => {
    const rules = new IgnoreRules(['*.LOG']);
    expect(rules.isIgnored('a.LOG', false)).toBe(true);
    expect(rules.isIgnored('a.log', false)).toBe(false);
  });
});

describe('rebasePattern', () => {
  it.each([
    ['a', '*.o', 'a/**/*.o'],
    ['a', '!*.o', '!a/**/*.o'],
    ['a', 'build/', 'a/**/build/'],
    ['a', '/x', 'a/x'],
    ['a/b', 'x/y', 'a/b/x/y'],
    ['a', '**/z', 'a/**/z'],
    ['', '*.o', '*.o'],
  ])('in %s, %s becomes %s', (dir, line, expected) => {
    expect(rebasePattern(dir, line)).toBe(expected);
  });
  it('drops comments and blank lines of nested files', () => {
    expect(rebasePattern('a', '# c')).toBeUndefined();
    expect(rebasePattern('a', '   ')).toBeUndefined();
  });
});
