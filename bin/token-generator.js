#!/usr/bin/env node
// The command-line client, run through tsx so that it works from a clone and after a global install.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main();
