/**
 * A package as another project gets it: `npm pack` in `packageDir` (its prepack builds it), installed into a new, empty project on
 * this Node.js.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withFileLock } from '../../src/file-lock.js';

const run = promisify(execFile);

/**
 * Both packages' prepack builds write the emulator's dist/ (the root's build makes it first), so two test files packing at
 * once on two workers broke each other's build: one `npm pack` in this checkout at a time. A lock whose process died is
 * taken over at once; the times only bound a pack that hangs.
 */
const PACK_LOCK = fileURLToPath(new URL('../../node_modules/.cache/npm-pack.lock', import.meta.url));
const PACK_TIMES = { waitMs: 300_000, staleMs: 600_000 };

/** The new project's folder, with the package installed from its tarball. */
export async function installedFromTarball(packageDir: string, prefix: string): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), prefix));
  const { stdout } = await withFileLock(
    PACK_LOCK,
    () => run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: packageDir, maxBuffer: 10_000_000 }),
    PACK_TIMES,
  );
  const tarball = stdout.trim().split('\n').pop()!;
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  // --engine-strict: a dependency that declares a newer Node.js than this one fails the install, where npm would only warn.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--engine-strict', `./${tarball}`], {
    cwd: project,
  });
  return project;
}
