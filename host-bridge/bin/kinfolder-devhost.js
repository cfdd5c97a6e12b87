#!/usr/bin/env node
'use strict';
// Runs the TypeScript CLI directly through tsx: no build step for the devhost.
require('tsx/cjs');
require('../src/devhost/cli.ts').main(process.argv);
