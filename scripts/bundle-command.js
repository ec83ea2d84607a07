/**
 * The emulator's command as one file, dist/command/entra-emulator.js, which the installed
 * `entra-emulator` runs. Node.js 20 spent most of the command's start-up finding, reading and
 * compiling some 400 module files one by one; one minified file starts in about half the time
 * (BENCHMARKS.md). Left out, and loaded from the installed dependencies when first needed: what a
 * start does not use (the certificate library for a new signing key, the YAML parser for a
 * directory file or manifests, Fastify's schema compilers).
 */
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/emulator/main.js'],
  outfile: 'dist/command/entra-emulator.js',
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@peculiar/x509', 'reflect-metadata', 'yaml', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'],
  // The CommonJS dependencies bundled into an ES module still call require() for Node's own modules.
  banner: { js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
