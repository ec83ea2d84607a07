/**
 * The emulator's own package, packages/entra-emulator, built for publishing (its prepack): its command and its API
 * bundled by esbuild into dist/ (a file each: with code splitting, the command's dynamic import of pino lost its named
 * export), and the API's declarations into dist/types. What a start does not use stays out of the bundle and is the
 * package's only dependencies: the certificate library, the YAML parser, Fastify's schema compilers.
 *
 * The declarations are TypeScript's, written without a type check (`npm run typecheck` does that) and only for the
 * files the published declarations reach from src/index.ts, not for every file the emulator runs: emitting env.ts's
 * zod-inferred types alone took longer than everything else in `npm pack`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const packageDir = path.join(root, 'packages', 'entra-emulator');
const dist = path.join(packageDir, 'dist');
const { dependencies } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));

/** Writes the declarations of `entry` and of every file they import, under `outDir` as tsconfig.types.json lays them out. */
function writeDeclarations(configFile, entry) {
  const config = ts.getParsedCommandLineOfConfigFile(
    configFile,
    { noCheck: true },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram({ rootNames: [entry], options: config.options });
  const written = new Set();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop();
    if (written.has(file)) continue;
    written.add(file);
    const { diagnostics } = program.emit(
      program.getSourceFile(file),
      (name, text) => {
        // A declaration's relative imports ('./model.js') are the next sources ('./model.ts') to declare.
        for (const [, specifier] of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)\.js'/g)) {
          queue.push(path.resolve(path.dirname(file), `${specifier}.ts`));
        }
        mkdirSync(path.dirname(name), { recursive: true });
        writeFileSync(name, text);
      },
      undefined,
      true,
    );
    if (diagnostics.length > 0) throw new Error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost(config.options)));
  }
}

rmSync(dist, { recursive: true, force: true });
// esbuild bundles in its own process while the declarations are written in this one.
const bundled = build({
  absWorkingDir: packageDir,
  entryPoints: { command: 'src/main.ts', index: 'src/index.ts' },
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
try {
  writeDeclarations(path.join(packageDir, 'tsconfig.types.json'), path.join(packageDir, 'src', 'index.ts'));
} finally {
  await bundled;
}
writeFileSync(path.join(dist, 'index.d.ts'), "export * from './types/packages/entra-emulator/src/index.js';\n");
