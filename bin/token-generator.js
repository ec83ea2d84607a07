#!/usr/bin/env node
// The command-line client, as prebuilt JavaScript (scripts/build-command-line.js). Installed, it runs
// the bundle the package was built with. From a clone it runs the bundle in node_modules/.cache,
// building it first when there is none or when a source it was built from (or package-lock.json)
// changed since; the check is a stat of each source, well under a millisecond.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function builtFromClone() {
  const cache = path.join(root, 'node_modules', '.cache', 'token-generator');
  const manifestFile = path.join(cache, 'manifest.json');
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    return { cache, manifestFile };
  }
  const newer = (file) => statSync(path.join(root, file), { throwIfNoEntry: false })?.mtimeMs ?? Infinity;
  const stale = [...manifest.inputs, 'package-lock.json'].some((file) => newer(file) > manifest.builtAt);
  return stale ? { cache, manifestFile } : { entry: path.join(cache, manifest.folder, 'main.js') };
}

/** A new build in a folder of its own, then the manifest that names it, replaced at once: two first calls at the same time both work. */
async function build({ cache, manifestFile }) {
  const { buildCommandLine } = await import('../scripts/build-command-line.js');
  const builtAt = Date.now();
  const folder = `${builtAt}-${process.pid}`;
  const inputs = await buildCommandLine(path.join(cache, folder));
  const temporary = `${manifestFile}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ builtAt, folder, inputs }));
  renameSync(temporary, manifestFile);
  // Earlier builds go once no command can still be running from them (a login waits at most its --timeout).
  for (const earlier of readdirSync(cache)) {
    const time = Number(earlier.split('-')[0]);
    if (earlier !== folder && time < builtAt - 3_600_000) rmSync(path.join(cache, earlier), { recursive: true, force: true });
  }
  return path.join(cache, folder, 'main.js');
}

let entry;
if (root.split(path.sep).includes('node_modules')) entry = path.join(root, 'dist', 'command', 'token-generator', 'main.js');
else {
  const found = builtFromClone();
  entry = found.entry ?? (await build(found));
}
const { main } = await import(pathToFileURL(entry).href);
await main();
