import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  componentProblem,
  LocalNames,
  localKey,
  localNameProblem,
  POSIX_TRAITS,
  probeFilesystem,
  type FsTraits,
} from '../../../plugin/src/scan/local-names';
import { makeTempDir, removeDir } from './helpers';

const WINDOWS: FsTraits = { caseInsensitive: true, normalizationInsensitive: false, windowsNames: true };
const MACOS: FsTraits = { caseInsensitive: true, normalizationInsensitive: true, windowsNames: false };

describe('componentProblem', () => {
  // [name, traits, expected code or null]
  const cases: Array<[string, FsTraits, string | null]> = [
    ['report.txt', WINDOWS, null],
    ['', POSIX_TRAITS, 'EMPTY_COMPONENT'],
    ['..', POSIX_TRAITS, 'DOT_COMPONENT'],
    ['a\u0000b', POSIX_TRAITS, 'NUL_CHARACTER'],
    ['x'.repeat(256), POSIX_TRAITS, 'NAME_TOO_LONG'],
    ['é'.repeat(128), POSIX_TRAITS, 'NAME_TOO_LONG'], // 256 bytes in UTF-8
    ['x'.repeat(255), POSIX_TRAITS, null],
    ['é'.repeat(128), WINDOWS, null], // 128 UTF-16 units: fine on NTFS
    ['x'.repeat(256), WINDOWS, 'NAME_TOO_LONG'],
    ['CON', WINDOWS, 'WINDOWS_RESERVED_NAME'],
    ['con.txt', WINDOWS, 'WINDOWS_RESERVED_NAME'],
    ['lpt9', WINDOWS, 'WINDOWS_RESERVED_NAME'],
    ['COM¹', WINDOWS, 'WINDOWS_RESERVED_NAME'],
    ['console.txt', WINDOWS, null],
    ['CON', POSIX_TRAITS, null],
    ['a:b', WINDOWS, 'WINDOWS_FORBIDDEN_CHARACTER'],
    ['what?', WINDOWS, 'WINDOWS_FORBIDDEN_CHARACTER'],
    ['tab\there', WINDOWS, 'WINDOWS_FORBIDDEN_CHARACTER'],
    ['a:b', POSIX_TRAITS, null],
    ['trailing.', WINDOWS, 'WINDOWS_TRAILING_DOT_OR_SPACE'],
    ['trailing ', WINDOWS, 'WINDOWS_TRAILING_DOT_OR_SPACE'],
    ['.hidden', WINDOWS, null],
  ];
  it.each(cases)('%j on %j → %s', (name, traits, code) => {
    expect(componentProblem(name, traits)?.code ?? null).toBe(code);
  });
});

describe('LocalNames', () => {
  it('on a case-insensitive filesystem, reports paths that differ only by case, at any depth', () => {
    expect(localNameProblem('readme.md', WINDOWS, ['README.md'])).toMatchObject({ code: 'CASE_COLLISION', collidesWith: 'README.md' });
    expect(localNameProblem('docs/b.txt', WINDOWS, ['Docs/a.txt'])).toMatchObject({ code: 'CASE_COLLISION', component: 'docs', collidesWith: 'Docs' });
    expect(localNameProblem('README.md', WINDOWS, ['README.md'])).toBeUndefined();
    expect(localNameProblem('readme.md', POSIX_TRAITS, ['README.md'])).toBeUndefined();
  });

  it('on a normalisation-insensitive filesystem, reports NFC/NFD twins', () => {
    const nfc = 'caf\u00e9.txt';
    const nfd = 'cafe\u0301.txt';
    expect(localNameProblem(nfd, MACOS, [nfc])).toMatchObject({ code: 'NORMALIZATION_COLLISION', collidesWith: nfc });
    expect(localNameProblem('CAF\u00c9.txt', MACOS, [nfc])).toMatchObject({ code: 'CASE_COLLISION' });
    expect(localNameProblem(nfd, POSIX_TRAITS, [nfc])).toBeUndefined();
  });

  it('reports a bad component of a longer path', () => {
    expect(localNameProblem('ok/aux/file.txt', WINDOWS)).toMatchObject({ code: 'WINDOWS_RESERVED_NAME', component: 'aux' });
    expect(localNameProblem('a//b', POSIX_TRAITS)).toMatchObject({ code: 'EMPTY_COMPONENT' });
  });

  it('forgets a deleted path, so its case twin can take its place', () => {
    const names = new LocalNames(WINDOWS);
    names.add('File.txt');
    expect(names.problem('file.txt')?.code).toBe('CASE_COLLISION');
    names.delete('File.txt');
    expect(names.problem('file.txt')).toBeUndefined();
  });

  it('folds keys only as far as the filesystem does', () => {
    expect(localKey('A/É', POSIX_TRAITS)).toBe('A/É');
    expect(localKey('A/E\u0301', MACOS)).toBe('a/\u00e9');
  });
});

describe('probeFilesystem', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('finds the traits of the real filesystem by experiment and leaves nothing behind', async () => {
    const traits = await probeFilesystem(dir, { platform: 'linux' });
    // Cross-check with an independent experiment on the same directory.
    await fsp.writeFile(path.join(dir, 'Probe'), '');
    const folds = await fsp.lstat(path.join(dir, 'PROBE')).then(() => true, () => false);
    expect(traits.caseInsensitive).toBe(folds);
    expect(traits.windowsNames).toBe(false);
    expect(await fsp.readdir(path.join(dir, '.kinfolder', 'tmp'))).toEqual([]);
  });

  it('marks Windows naming rules on win32', async () => {
    expect((await probeFilesystem(dir, { platform: 'win32' })).windowsNames).toBe(true);
  });

  it('fails with PROBE_FAILED when it cannot write', async () => {
    await fsp.writeFile(path.join(dir, '.kinfolder'), 'a file where the directory should be');
    await expect(probeFilesystem(dir)).rejects.toMatchObject({ code: 'PROBE_FAILED' });
  });
});
