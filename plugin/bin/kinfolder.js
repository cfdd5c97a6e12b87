#!/usr/bin/env node
// The sidecar's entry point: runs the TypeScript sources through tsx (no build step).
require('tsx/cjs');
// tsx turns on Node's source maps, and Node then keeps every loaded module's map in memory
// (~7-10 MB of a sidecar's 200 MB budget, and their parsing at start). Stack traces in the
// log then name the file and function but not the line (tsx's output is a few long lines);
// KINFOLDER_SOURCE_MAPS=1 keeps the maps for debugging.
if (process.env.KINFOLDER_SOURCE_MAPS !== '1') process.setSourceMapsEnabled(false);
require('../src/main.ts');
