#!/usr/bin/env node
// The Entra ID emulator's command. Installed from the package it runs the compiled JavaScript;
// from a clone, the TypeScript sources through tsx, so that there is nothing to build first.
if (import.meta.url.includes('/node_modules/')) {
  await import('../dist/emulator/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/emulator/main.ts');
}
