/**
 * The emulator's own package, packages/entra-emulator, built from src/emulator (where its sources
 * stay): its command and its API bundled by esbuild into dist/ (a file each: with code splitting,
 * the command's dynamic import of pino lost its named export), and the API's
 * declarations by tsc into dist/types. What a start does not use stays out of the bundle and is the
 * package's only dependencies: the certificate library, the YAML parser, Fastify's schema compilers.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const packageDir = path.join(root, 'packages', 'entra-emulator');
const dist = path.join(packageDir, 'dist');
const { dependencies } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));

rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { command: 'src/emulator/main.ts', index: 'src/emulator/index.ts' },
  outdir: dist,
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: Object.keys(dependencies),
  // The CommonJS dependencies bundled into an ES module still call require() for Node's own modules.
  banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.types.json'], {
  cwd: packageDir,
  stdio: 'inherit',
});
writeFileSync(path.join(dist, 'index.d.ts'), "export * from './types/emulator/index.js';\n");
