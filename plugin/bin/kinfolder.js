#!/usr/bin/env node
// The sidecar's entry point: runs the TypeScript sources through tsx (no build step).
require('tsx/cjs');
require('../src/main.ts');
