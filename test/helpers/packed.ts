/** A package as another project gets it: `npm pack` in `packageDir` (its prepack builds it), installed into a new, empty project. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The new project's folder, with the package installed from its tarball. */
export async function installedFromTarball(packageDir: string, prefix: string): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), prefix));
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: packageDir, maxBuffer: 10_000_000 });
  const tarball = stdout.trim().split('\n').pop()!;
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `./${tarball}`], { cwd: project });
  return project;
}
