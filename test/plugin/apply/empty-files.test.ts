// The empty-file worker: files made exclusively with their mode and times, the stat answered; an existing name and a closed maker answered with errnos.
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmptyFiles, utimesSeconds } from '../../../plugin/src/apply';

describe('EmptyFiles', () => {
  let dir: string;
  let maker: EmptyFiles;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kf-empty-'));
    maker = new EmptyFiles();
  });
  afterEach(async () => {
    maker.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('makes many files at once, each with its mode and mtime, and answers their stats', async () => {
    const mtimeMs = 1_600_000_000_123;
    const files = Array.from({ length: 600 }, (_, i) => ({ path: path.join(dir, `f${i}`), mode: i % 2 === 0 ? 0o644 : 0o600, chmod: false, timeSec: utimesSeconds(mtimeMs + i) }));
    const results = await Promise.all(files.map((f) => maker.make(f)));
    for (const [i, r] of results.entries()) {
      const st = await fsp.lstat(files[i].path);
      expect(r).toEqual({ ok: true, ino: st.ino, mode: st.mode, size: 0, mtimeMs: st.mtimeMs });
      expect(st.isFile()).toBe(true);
      expect(st.mode & 0o777).toBe(files[i].mode);
      expect(Math.floor(st.mtimeMs)).toBe(mtimeMs + i);
    }
  });

  it('writes the bytes it is given, in order, before the times and the stat', async () => {
    const p = path.join(dir, 'small');
    const parts = [Buffer.from('first block, '), Buffer.from('second block')];
    const r = await maker.make({ path: p, mode: 0o640, chmod: false, timeSec: utimesSeconds(1_600_000_000_456), data: parts });
    expect(r).toMatchObject({ ok: true, size: 25 });
    expect(await fsp.readFile(p, 'utf8')).toBe('first block, second block');
    expect(Math.floor((await fsp.lstat(p)).mtimeMs)).toBe(1_600_000_000_456);
  });

  it('takes the bytes handed over (transferred, gone from here) and writes them', async () => {
    const p = path.join(dir, 'handed');
    const own = new Uint8Array(new ArrayBuffer(5000)).fill(7);
    const r = await maker.make({ path: p, mode: 0o644, chmod: false, timeSec: 1, data: [own] }, [own.buffer]);
    expect(r).toMatchObject({ ok: true, size: 5000 });
    expect(own.byteLength).toBe(0);
    expect((await fsp.readFile(p)).equals(Buffer.alloc(5000, 7))).toBe(true);
  });

  it('sets mode bits the umask would take when asked to', async () => {
    const p = path.join(dir, 'wide');
    const r = await maker.make({ path: p, mode: 0o777, chmod: true, timeSec: utimesSeconds(1_600_000_000_000) });
    expect(r.ok).toBe(true);
    expect((await fsp.lstat(p)).mode & 0o777).toBe(0o777);
  });

  it('leaves whatever stands at the name alone and answers EEXIST; a missing directory answers ENOENT', async () => {
    const p = path.join(dir, 'there');
    await fsp.writeFile(p, 'local bytes');
    expect(await maker.make({ path: p, mode: 0o644, chmod: false, timeSec: 1 })).toMatchObject({ ok: false, code: 'EEXIST', syscall: 'open' });
    expect(await fsp.readFile(p, 'utf8')).toBe('local bytes');
    expect(await maker.make({ path: path.join(dir, 'no', 'such'), mode: 0o644, chmod: false, timeSec: 1 })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('places a finished file at its name only where nothing stands; otherwise EEXIST and both stay as they were', async () => {
    const tmps = Array.from({ length: 40 }, (_, i) => path.join(dir, `tmp${i}`));
    for (const [i, t] of tmps.entries()) await fsp.writeFile(t, `content ${i}`);
    const taken = path.join(dir, 'final3');
    await fsp.writeFile(taken, 'local bytes');
    const results = await Promise.all(tmps.map((t, i) => maker.place(t, path.join(dir, `final${i}`))));
    for (const [i, r] of results.entries()) {
      if (i === 3) {
        expect(r).toMatchObject({ ok: false, code: 'EEXIST' });
        expect(await fsp.readFile(taken, 'utf8')).toBe('local bytes');
        expect(await fsp.readFile(tmps[3], 'utf8')).toBe('content 3');
      } else {
        expect(r).toEqual({ ok: true });
        expect(await fsp.readFile(path.join(dir, `final${i}`), 'utf8')).toBe(`content ${i}`);
        await expect(fsp.lstat(tmps[i])).rejects.toMatchObject({ code: 'ENOENT' });
      }
    }
    // A dangling symlink stands there too: not replaced.
    await fsp.symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    await fsp.writeFile(path.join(dir, 'tmpx'), 'x');
    expect(await maker.place(path.join(dir, 'tmpx'), path.join(dir, 'dangling'))).toMatchObject({ ok: false, code: 'EEXIST' });
    expect((await fsp.lstat(path.join(dir, 'dangling'))).isSymbolicLink()).toBe(true);
  });

  it('once closed, answers every request with an error and makes nothing', async () => {
    await maker.make({ path: path.join(dir, 'first'), mode: 0o644, chmod: false, timeSec: 1 });
    maker.close();
    const p = path.join(dir, 'after');
    expect(await maker.make({ path: p, mode: 0o644, chmod: false, timeSec: 1 })).toMatchObject({ ok: false, code: 'ECANCELED' });
    await expect(fsp.lstat(p)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
