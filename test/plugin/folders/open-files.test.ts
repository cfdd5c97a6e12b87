// Files held open by other processes under a folder's root, read from /proc (Linux: the machines this runs on).
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openPathsUnder } from '../../../plugin/src/folders/open-files';

let dir = '';
let child: ChildProcess | undefined;
beforeEach(async () => {
  dir = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'kf-open-')));
});
afterEach(async () => {
  child?.kill();
  child = undefined;
  await fsp.rm(dir, { recursive: true, force: true });
});

/** A process that opens `files` and says so, then waits until killed. */
async function holder(files: string[]): Promise<void> {
  const script = `const fs=require('fs');for(const f of JSON.parse(process.argv[1]))fs.openSync(f,'r');console.log('open');setInterval(()=>{},1000);`;
  child = spawn(process.execPath, ['-e', script, JSON.stringify(files)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child!.stdout!.once('data', () => resolve());
    child!.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

test('names what another process holds open under each root, not the folder’s own .kinfolder files, nor other roots’ files', async () => {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  await fsp.mkdir(path.join(a, 'sub'), { recursive: true });
  await fsp.mkdir(path.join(a, '.kinfolder'), { recursive: true });
  await fsp.mkdir(b, { recursive: true });
  for (const f of [path.join(a, 'sub', 'report.txt'), path.join(a, '.kinfolder', 'state'), path.join(b, 'other.txt'), path.join(b, 'closed.txt')]) await fsp.writeFile(f, 'x');
  await holder([path.join(a, 'sub', 'report.txt'), path.join(a, '.kinfolder', 'state'), path.join(b, 'other.txt')]);
  const open = await openPathsUnder([a, b]);
  expect([...open.get(a)!]).toEqual(['sub/report.txt']);
  expect([...open.get(b)!]).toEqual(['other.txt']);
  // Aborted: stops with the signal's reason.
  const ctl = new AbortController();
  ctl.abort();
  await expect(openPathsUnder([a], ctl.signal)).rejects.toThrow();
});
