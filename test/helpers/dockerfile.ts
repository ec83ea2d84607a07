/**
 * The Dockerfile replayed without a container engine: each stage a fresh folder standing for its root
 * file system, its COPY lines from a clean export of the committed tree (`git archive HEAD`) or from an
 * earlier stage's folder, its RUN lines run there with its ENV and nothing of the test's own environment.
 * What the image would hold, the last stage's folder holds; a file the build needs that no COPY brings
 * fails here as it fails in `docker build`. An instruction the replay does not know fails too, rather
 * than being skipped.
 *
 * As docker does, a RUN whose inputs were seen before is not run again: its stage's folder is taken
 * from the layer kept then (a tarball in the system's temporary folder, under `dockerfile-replay-layers`).
 * A layer's key chains the base (the host's Node.js and npm stand for the image's), every instruction
 * so far, the content of every file a COPY brought and the RUN's environment; so `npm ci` is replayed
 * whenever package.json or package-lock.json changes, and the build whenever a source does. Delete the
 * folder for a replay from scratch.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LAYERS = join(tmpdir(), 'dockerfile-replay-layers');
/** Layers kept, the most recently used: about two replays' worth (the build stage's is half a gigabyte). */
const KEPT_LAYERS = 6;

export interface Stage {
  name?: string;
  /** The base image of `FROM`. */
  from: string;
  /** The folder that stands for the stage's `/`. */
  root: string;
  /** WORKDIR, as a path inside the image. */
  workdir: string;
  env: Record<string, string>;
  user?: string;
  /** CMD, in its exec form. */
  cmd?: string[];
  /** What the stage's folder holds so far, as a key (see above). */
  layer: string;
}

/** Instructions with their arguments, comments and line continuations resolved. */
export function instructions(dockerfile: string): { keyword: string; args: string }[] {
  return dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** Where a path inside a stage's image is in its folder. */
export function inStage(stage: Stage, path: string): string {
  return join(stage.root, posix.resolve(stage.workdir, path));
}

/** The variables a process of the image sees: those of its base image the host has too (PATH, HOME for npm's cache), and ENV. */
function baseEnv(): Record<string, string> {
  const kept = ['PATH', 'HOME', 'LANG', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
  const env = Object.fromEntries(kept.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]!]));
  if (env.PATH !== undefined) env.PATH = basePath(env.PATH);
  return env;
}

/**
 * The host's PATH as the base image's, without what npm puts in front of it to run this project's scripts
 * (node_modules/.bin folders, its node-gyp): a RUN finds the stage's own tools only, not the host project's, and a
 * replay keys its layers alike whether `npm test`, `npx vitest` or CI started it, so that each reuses the last one's.
 */
function basePath(path: string): string {
  const own = (dir: string) => dir.endsWith('/node_modules/.bin') || dir.includes('/@npmcli/run-script/');
  return [...new Set(path.split(':').filter((dir) => dir !== '' && !own(dir)))].join(':');
}

export function stageEnv(stage: Stage): Record<string, string> {
  return { ...baseEnv(), ...stage.env };
}

function chained(key: string, ...parts: string[]): string {
  const hash = createHash('sha256').update(key);
  for (const part of parts) hash.update('\0').update(part);
  return hash.digest('hex');
}

/** A file's or a folder's content and modes, as a hash. */
async function contentHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  const info = await stat(path);
  if (!info.isDirectory())
    return hash
      .update(String(info.mode))
      .update(await readFile(path))
      .digest('hex');
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  for (const file of files.sort()) {
    hash
      .update(relative(path, file))
      .update(String((await stat(file)).mode))
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex');
}

/** A stage whose folder is still to be unpacked from a kept layer, with the changes made to it since. */
const unpacked = new WeakMap<Stage, { layer: string; changes: (() => Promise<void>)[] }>();

/**
 * Changes a stage's folder, at once or, while it is still to be unpacked, once it is: two RUNs both kept
 * (npm ci, then the build) unpack only the second's layer, not both.
 */
async function change(stage: Stage, effect: () => Promise<void>): Promise<void> {
  const waiting = unpacked.get(stage);
  if (waiting) waiting.changes.push(effect);
  else await effect();
}

/** The stage's folder as it stands: its kept layer unpacked, then the changes since. */
async function unpack(stage: Stage): Promise<void> {
  const waiting = unpacked.get(stage);
  if (!waiting) return;
  unpacked.delete(stage);
  await rm(stage.root, { recursive: true, force: true });
  await mkdir(stage.root, { recursive: true });
  await run('tar', ['-xf', waiting.layer, '-C', stage.root]);
  for (const effect of waiting.changes) await effect();
}

/**
 * Unpacks of a stage still to be unpacked only the paths a COPY --from reads (the build's dist/, not its
 * half a gigabyte of node_modules), when nothing changed it after its layer; otherwise all of it.
 */
async function unpackFor(stage: Stage, paths: string[]): Promise<void> {
  const waiting = unpacked.get(stage);
  if (!waiting) return;
  if (waiting.changes.length > 0) return unpack(stage);
  await run('tar', ['-xf', waiting.layer, '-C', stage.root, ...paths.map((path) => `.${posix.resolve('/', path)}`)]);
}

async function copy(stage: Stage, args: string, context: string, stages: Stage[]): Promise<void> {
  const words = args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const fromFlag = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  const unknown = flags.filter((flag) => !flag.startsWith('--from='));
  if (unknown.length > 0) throw new Error(`the replay does not know COPY ${unknown.join(' ')}`);
  const from = fromFlag === undefined ? undefined : stages.find((s) => s.name === fromFlag);
  if (fromFlag !== undefined && !from) throw new Error(`COPY --from=${fromFlag}: no earlier stage of that name`);
  const dest = paths.pop()!;
  const target = inStage(stage, dest);
  const sources = from ? [from.layer] : await Promise.all(paths.map((source) => contentHash(join(context, posix.normalize(source)))));
  stage.layer = chained(stage.layer, 'COPY', args, ...sources);
  const intoFolder = dest.endsWith('/') || paths.length > 1;
  await change(stage, async () => {
    if (from) await unpackFor(from, paths);
    for (const source of paths) {
      // From the context, paths are relative to it; from a stage, to its root.
      const path = from ? join(from.root, posix.resolve('/', source)) : join(context, posix.normalize(source));
      const isFolder = (await stat(path)).isDirectory();
      const to = isFolder || !intoFolder ? target : join(target, basename(path));
      await mkdir(isFolder ? to : join(to, '..'), { recursive: true });
      // Links (node_modules/.bin) stay relative, as in the image, rather than pointing into the other stage's folder.
      await cp(path, to, { recursive: true, verbatimSymlinks: true });
    }
  });
}

/** RUN, or the layer kept from the last time it ran with the same inputs. */
async function runOrReuse(stage: Stage, command: string): Promise<void> {
  stage.layer = chained(stage.layer, 'RUN', command, stage.workdir, JSON.stringify(stageEnv(stage)));
  const layer = join(LAYERS, `${stage.layer}.tar`);
  if (await stat(layer).catch(() => undefined)) {
    unpacked.set(stage, { layer, changes: [] });
    const now = new Date();
    await utimes(layer, now, now);
    return;
  }
  await unpack(stage);
  await runIn(stage, command);
  await keep(stage.root, layer);
}

/** Keeps a stage's folder as a layer, written under another name first so that a replay running beside this one reads a whole one. */
async function keep(root: string, layer: string): Promise<void> {
  await mkdir(LAYERS, { recursive: true });
  const partial = `${layer}.${process.pid}`;
  await run('tar', ['-cf', partial, '-C', root, '.']);
  await rename(partial, layer);
  const kept = await Promise.all(
    (await readdir(LAYERS))
      .filter((name) => name.endsWith('.tar'))
      .map(async (name) => ({ name, used: (await stat(join(LAYERS, name))).mtimeMs })),
  );
  kept.sort((a, b) => b.used - a.used);
  await Promise.all(kept.slice(KEPT_LAYERS).map(({ name }) => rm(join(LAYERS, name), { force: true })));
}

async function runIn(stage: Stage, command: string): Promise<void> {
  const cwd = inStage(stage, '.');
  await mkdir(cwd, { recursive: true });
  const child = spawn('sh', ['-c', command], { cwd, env: stageEnv(stage), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`RUN ${command} failed (exit ${code}) in stage ${stage.name ?? '(last)'}:\n${output.slice(-4000)}`);
}

async function workdir(stage: Stage, path: string): Promise<void> {
  stage.workdir = posix.resolve(stage.workdir, path);
  stage.layer = chained(stage.layer, 'WORKDIR', path);
  const folder = inStage(stage, '.');
  await change(stage, async () => {
    await mkdir(folder, { recursive: true });
  });
}

function env(stage: Stage, args: string): void {
  const pairs = /^[A-Za-z_][A-Za-z0-9_]*=/.test(args) ? args.split(/\s+/).map((pair) => pair.split(/=(.*)/s)) : [args.split(/\s+(.*)/s)];
  for (const [name, value] of pairs) stage.env[name!] = (value ?? '').replace(/^"(.*)"$/, '$1');
}

/** Exports the committed tree of the repository at `repo` into `into`. */
export async function exportCommitted(repo: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await run('sh', ['-c', 'git -C "$1" archive --format=tar HEAD | tar -x -C "$2"', 'export', repo, into]);
}

/**
 * Replays `context`'s Dockerfile into folders under `into`, one a stage; returns the stages, the last one
 * last (the image; an earlier stage's folder may hold only what a later one copied from it).
 */
export async function replayDockerfile(context: string, into: string): Promise<Stage[]> {
  const stages: Stage[] = [];
  const npm = (await run('npm', ['--version'])).stdout.trim();
  for (const { keyword, args } of instructions(await readFile(join(context, 'Dockerfile'), 'utf8'))) {
    if (keyword === 'FROM') {
      const [from, as, name] = args.split(/\s+/);
      const root = join(into, `stage-${stages.length}`);
      await mkdir(root, { recursive: true });
      const earlier = stages.find((s) => s.name === from);
      if (earlier) {
        await unpack(earlier);
        await cp(earlier.root, root, { recursive: true, verbatimSymlinks: true });
      }
      stages.push({
        from: from!,
        root,
        workdir: earlier?.workdir ?? '/',
        env: { ...earlier?.env },
        ...(as?.toUpperCase() === 'AS' && name ? { name } : {}),
        layer: earlier?.layer ?? chained('', 'FROM', from!, process.version, npm),
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before FROM`);
    switch (keyword) {
      case 'WORKDIR':
        await workdir(stage, args);
        break;
      case 'COPY':
        await copy(stage, args, context, stages);
        break;
      case 'RUN':
        await runOrReuse(stage, args);
        break;
      case 'ENV':
        env(stage, args);
        stage.layer = chained(stage.layer, 'ENV', args);
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'CMD':
        stage.cmd = JSON.parse(args) as string[];
        break;
      case 'EXPOSE':
        break;
      default:
        throw new Error(`the replay does not know ${keyword}`);
    }
  }
  // The image is the last stage: its folder whole. An earlier one may hold only what a later one copied from it.
  await unpack(stages.at(-1)!);
  return stages;
}
