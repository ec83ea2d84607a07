/**
 * The generator's package (the repository's root) as another project installs it: its `token-generator`
 * command runs the JavaScript bundled at pack time, with neither tsx nor esbuild in the project.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');

let project: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'generator-package-'));
  // prepack runs `npm run build`, which bundles the command line.
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: REPO, maxBuffer: 10_000_000 });
  const tarball = stdout.trim().split('\n').pop()!;
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `./${tarball}`], { cwd: project });
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
});
