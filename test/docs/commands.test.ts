/**
 * Every command that a fenced block of the guides (guides.ts) shows names a real command and real flags:
 * `token-generator` and `entra-emulator` are checked against their own --help, `npm run` against
 * package.json's scripts, so that the guides cannot drift from what the programs do.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { guideFiles } from './guides.js';

const run = promisify(execFile);
const PROGRAMS = {
  'token-generator': ['bin/token-generator.js'],
  'entra-emulator': ['packages/entra-emulator/bin/entra-emulator.cjs'],
} as const;
type Program = keyof typeof PROGRAMS;

interface Use {
  file: string;
  line: string;
  program: Program | 'npm run';
  words: string[];
}

/** The shell lines of every fenced block (sh, bash, shell, or none) of the guides. */
async function shellLines(): Promise<{ file: string; line: string }[]> {
  const lines: { file: string; line: string }[] = [];
  for (const file of await guideFiles()) {
    for (const block of (await readFile(file, 'utf8')).matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
      if (!['', 'sh', 'bash', 'shell'].includes(block[1]!)) continue;
      for (const line of block[2]!.split('\n')) lines.push({ file, line: line.replace(/\s#\s.*$/, '').trim() });
    }
  }
  return lines;
}

/** Each call of one of the programs (or of `npm run`) in a line, with the words that follow it up to a pipe, `;`, `&&` or `)`. */
function usesIn(file: string, line: string): Use[] {
  const uses: Use[] = [];
  for (const match of line.matchAll(/(?:^|[\s($])(?:npx\s+)?(token-generator|entra-emulator|npm run)\s+([^|;&)>]*)/g)) {
    const words = match[2]!.trim().split(/\s+/).filter(Boolean);
    uses.push({ file, line, program: match[1] as Use['program'], words });
  }
  return uses;
}

const help = new Map<string, string>();
async function helpOf(program: Program, command?: string): Promise<string> {
  const key = `${program} ${command ?? ''}`;
  if (!help.has(key)) {
    const args = [...PROGRAMS[program], ...(command ? [command] : []), '--help'];
    help.set(key, (await run(process.execPath, args, { env: { ...process.env, LOG_LEVEL: 'silent' } })).stdout);
  }
  return help.get(key)!;
}

let uses: Use[];

beforeAll(async () => {
  uses = (await shellLines()).flatMap(({ file, line }) => usesIn(file, line));
});

describe('the commands in the guides', () => {
  it('finds commands of both programs to check', () => {
    expect(uses.filter((use) => use.program === 'token-generator').length).toBeGreaterThan(5);
    expect(uses.filter((use) => use.program === 'entra-emulator').length).toBeGreaterThan(3);
  });

  it('names only commands and flags that token-generator --help and its commands\u2019 --help list', async () => {
    const main = await helpOf('token-generator');
    const commands = [...main.matchAll(/^ {2}([a-z][\w-]*)\b/gm)].map((match) => match[1]!);
    for (const use of uses.filter((u) => u.program === 'token-generator')) {
      const [command, ...rest] = use.words;
      if (!command || command.startsWith('-')) {
        for (const flag of use.words.filter((word) => word.startsWith('--'))) expect(main, `${use.file}: ${use.line}`).toContain(flag);
        continue;
      }
      expect(commands, `${use.file}: ${use.line}`).toContain(command);
      const own = await helpOf('token-generator', command);
      for (const flag of rest.filter((word) => word.startsWith('--') && word !== '--')) {
        const name = flag.split('=')[0]!;
        expect(`${own}\n${main}`, `${use.file}: ${use.line}`).toContain(name);
      }
    }
  }, 120_000);

  it('names only commands and flags that entra-emulator --help lists', async () => {
    const text = await helpOf('entra-emulator');
    for (const use of uses.filter((u) => u.program === 'entra-emulator')) {
      const [first] = use.words;
      if (first && !first.startsWith('-')) expect(text, `${use.file}: ${use.line}`).toContain(`entra-emulator ${first}`);
      for (const flag of use.words.filter((word) => word.startsWith('--')))
        expect(text, `${use.file}: ${use.line}`).toContain(flag.split('=')[0]!);
    }
  }, 60_000);

  it('runs only npm scripts that package.json has', async () => {
    const { scripts } = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    for (const use of uses.filter((u) => u.program === 'npm run'))
      expect(Object.keys(scripts), `${use.file}: ${use.line}`).toContain(use.words[0]);
  });
});
