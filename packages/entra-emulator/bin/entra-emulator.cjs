#!/usr/bin/env node
// The Entra ID emulator's command. Installed, it runs this package's bundled JavaScript (dist/command.js);
// in the repository (a workspace, not under node_modules once symlinks are resolved) its sources in src/
// through tsx, so that there is nothing to build first and no stale build to run.
'use strict';
const { availableParallelism } = require('node:os');
const { sep } = require('node:path');

// The emulator signs on libuv's thread pool, and one thread per core (at least two) issues more tokens a second than Node's four on
// two cores (BENCHMARKS.md). libuv reads UV_THREADPOOL_SIZE when the pool first runs, and Node's ES module loader runs it before an
// ES module's first line: this file is CommonJS so that the size is set before anything uses the pool, in this process.
if (!process.env.UV_THREADPOOL_SIZE?.trim()) process.env.UV_THREADPOOL_SIZE = String(Math.max(2, availableParallelism()));

if (__dirname.includes(`${sep}node_modules${sep}`)) {
  import('../dist/command.js');
} else {
  import('tsx/esm/api').then(({ register }) => {
    register();
    return import('../src/main.ts');
  });
}
