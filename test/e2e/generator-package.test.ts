/**
 * The generator's package (the repository's root) as another project installs it: its `token-generator`
 * command runs the JavaScript bundled at pack time, with neither tsx nor esbuild in the project.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedFromTarball } from '../helpers/packed.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');

let project: string;

beforeAll(async () => {
  // prepack runs `npm run build`, which bundles the command line.
  project = await installedFromTarball(REPO, 'generator-package-');
}, 600_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the generator package, installed from its tarball', () => {
  it('runs `npx token-generator` from the bundled JavaScript, without tsx or esbuild (development dependencies)', async () => {
    const installed = await readdir(join(project, 'node_modules'));
    expect(installed).not.toContain('tsx');
    expect(installed).not.toContain('esbuild');
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect((await run('npx', ['token-generator', '--version'], { cwd: project })).stdout).toBe(`token-generator ${version}\n`);
    const { stdout } = await run('npx', ['token-generator', '--help'], { cwd: project });
    expect(stdout).toContain('Usage: token-generator <command>');
    const bundle = join(project, 'node_modules', 'entra-token-generator', 'dist', 'command', 'token-generator');
    expect(await readdir(bundle)).toContain('main.js');
  }, 60_000);

  it('holds the generator as JavaScript without declarations: the package exports no module to import', async () => {
    const dist = await readdir(join(project, 'node_modules', 'entra-token-generator', 'dist'), { recursive: true });
    expect(dist).toContain('main.js');
    expect(dist.filter((file) => file.endsWith('.d.ts'))).toEqual([]);
  });
});
