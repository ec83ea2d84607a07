/**
 * The command line as prebuilt JavaScript: src/cli bundled by esbuild into an entry and one chunk per
 * command (a command's libraries load only when it runs), with the version from package.json.
 * `npm run build` writes it to dist/command/token-generator/ for the package; from a clone,
 * bin/token-generator.js builds it on first use into node_modules/.cache (and again when a source
 * it was built from changes), so that no call compiles TypeScript.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Builds into `outdir`; resolves with the project's files it was built from (relative to the root). */
export async function buildCommandLine(outdir) {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    metafile: true,
    chunkNames: 'chunks/[name]-[hash]',
    define: { __CLI_VERSION__: JSON.stringify(version) },
    legalComments: 'eof',
    logLevel: 'warning',
  });
  return Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCommandLine(process.argv[2] ?? 'dist/command/token-generator');
