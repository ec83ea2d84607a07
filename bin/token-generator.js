#!/usr/bin/env node
// The command-line client. Installed from the package it runs the compiled JavaScript (tsx is a development
// dependency only); from a clone, the TypeScript sources through tsx, so that there is nothing to build first.
import { sep } from 'node:path';

if (import.meta.dirname.includes(`${sep}node_modules${sep}`)) {
  const { main } = await import('../dist/cli/main.js');
  await main();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  await main();
}
