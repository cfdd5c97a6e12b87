/**
 * Preload (NODE_OPTIONS=--require <this>) that writes a V8 CPU profile of the process's main
 * thread to $KINFOLDER_BENCH_CPU_PROF_DIR when it exits: Node 20 refuses --cpu-prof in
 * NODE_OPTIONS, and the host launches the sidecar with no flags of ours.
 */
'use strict';
const dir = process.env.KINFOLDER_BENCH_CPU_PROF_DIR;
const { isMainThread } = require('node:worker_threads');
if (dir && isMainThread) {
  const fs = require('node:fs');
  const path = require('node:path');
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // The in-thread session answers synchronously, so this works in 'exit' too.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `sidecar-${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
