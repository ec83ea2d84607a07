/**
 * docs/configuration.md names every variable that the generator and the emulator it starts read, and none they
 * do not, with the defaults src/config.ts gives them; docs/command-line.md names the command line's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { COMMAND_PORT } from '../../packages/entra-emulator/src/command-port.js';
import { VARIABLES as EMULATOR } from '../../packages/entra-emulator/src/env.js';
import { DEFAULT_SIGN_IN_RATE_LIMIT } from '../../packages/entra-emulator/src/login/routes.js';
import { accessTokenLifetime } from '../../packages/entra-emulator/src/options.js';
import { VARIABLES as COMMAND_LINE } from '../../src/cli/env.js';
import { VARIABLES as GENERATOR } from '../../src/config.js';
import { VARIABLES as ENTRA } from '../../src/generator/idp/entra/variables.js';

/** Read outside the programs' shapes: main.ts leaves the banner out in production. */
const READ_DIRECTLY = ['NODE_ENV'];

/** Each row of the guide's tables: the variables its first column names, and the whole row. */
const rows = readFileSync('docs/configuration.md', 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => ({ names: [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!), line }));
const documented = rows.flatMap((row) => row.names);

describe('docs/configuration.md', () => {
  it('has a row for every variable the generator, Entra ID and the emulator read, and for no other', () => {
    const read = [...Object.keys(GENERATOR), ...Object.keys(ENTRA), ...Object.keys(EMULATOR), ...READ_DIRECTLY];
    expect(documented.filter((name) => !read.includes(name))).toEqual([]);
    expect(read.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('gives the generator’s defaults as src/config.ts has them', () => {
    const defaults = Object.entries(z.object(GENERATOR).parse({})).filter(([, value]) => ['number', 'string'].includes(typeof value));
    expect(defaults.length).toBeGreaterThan(20);
    for (const [name, value] of defaults) {
      const row = rows.find((candidate) => candidate.names.includes(name))!;
      expect(row.line, name).toContain(`\`${String(value)}\``);
    }
  });

  it('gives the emulator\u2019s defaults as its code has them', () => {
    const defaults = {
      EMULATOR_PORT: COMMAND_PORT,
      EMULATOR_TOKEN_LIFETIME_SECONDS: accessTokenLifetime({}),
      EMULATOR_SIGN_IN_RATE_LIMIT: DEFAULT_SIGN_IN_RATE_LIMIT,
    };
    for (const [name, value] of Object.entries(defaults)) {
      const row = rows.find((candidate) => candidate.names.includes(name))!;
      expect(row.line.split('|')[2], name).toContain(`\`${value}\``);
    }
  });
});

it('docs/command-line.md names every variable the command line reads', () => {
  const guide = readFileSync('docs/command-line.md', 'utf8');
  for (const name of Object.keys(COMMAND_LINE)) expect(guide, name).toMatch(new RegExp(`\`\\$?${name}\\b`));
});
