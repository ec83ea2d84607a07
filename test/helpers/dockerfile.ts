/**
 * The Dockerfile replayed without a container engine: each stage a fresh folder standing for its root
 * file system, its COPY lines from a clean export of the committed tree (`git archive HEAD`) or from an
 * earlier stage's folder, its RUN lines run there with its ENV and nothing of the test's own environment.
 * What the image would hold, the last stage's folder holds; a file the build needs that no COPY brings
 * fails here as it fails in `docker build`. An instruction the replay does not know fails too, rather
 * than being skipped.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

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
  return Object.fromEntries(kept.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]!]));
}

export function stageEnv(stage: Stage): Record<string, string> {
  return { ...baseEnv(), ...stage.env };
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
  const intoFolder = dest.endsWith('/') || paths.length > 1;
  for (const source of paths) {
    // From the context, paths are relative to it; from a stage, to its root.
    const path = from ? join(from.root, posix.resolve('/', source)) : join(context, posix.normalize(source));
    const isFolder = (await stat(path)).isDirectory();
    const to = isFolder || !intoFolder ? target : join(target, basename(path));
    await mkdir(isFolder ? to : join(to, '..'), { recursive: true });
    // Links (node_modules/.bin) stay relative, as in the image, rather than pointing into the other stage's folder.
    await cp(path, to, { recursive: true, verbatimSymlinks: true });
  }
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

function env(stage: Stage, args: string): void {
  const pairs = /^[A-Za-z_][A-Za-z0-9_]*=/.test(args) ? args.split(/\s+/).map((pair) => pair.split(/=(.*)/s)) : [args.split(/\s+(.*)/s)];
  for (const [name, value] of pairs) stage.env[name!] = (value ?? '').replace(/^"(.*)"$/, '$1');
}

/** Exports the committed tree of the repository at `repo` into `into`. */
export async function exportCommitted(repo: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await run('sh', ['-c', 'git -C "$1" archive --format=tar HEAD | tar -x -C "$2"', 'export', repo, into]);
}

/** Replays `context`'s Dockerfile into folders under `into`, one a stage; returns the stages, the last one last. */
export async function replayDockerfile(context: string, into: string): Promise<Stage[]> {
  const stages: Stage[] = [];
  for (const { keyword, args } of instructions(await readFile(join(context, 'Dockerfile'), 'utf8'))) {
    if (keyword === 'FROM') {
      const [from, as, name] = args.split(/\s+/);
      const root = join(into, `stage-${stages.length}`);
      await mkdir(root, { recursive: true });
      const earlier = stages.find((s) => s.name === from);
      if (earlier) await cp(earlier.root, root, { recursive: true, verbatimSymlinks: true });
      stages.push({
        from: from!,
        root,
        workdir: earlier?.workdir ?? '/',
        env: { ...earlier?.env },
        ...(as?.toUpperCase() === 'AS' && name ? { name } : {}),
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before FROM`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        await mkdir(inStage(stage, '.'), { recursive: true });
        break;
      case 'COPY':
        await copy(stage, args, context, stages);
        break;
      case 'RUN':
        await runIn(stage, args);
        break;
      case 'ENV':
        env(stage, args);
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
  return stages;
}
