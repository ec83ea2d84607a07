/**
 * Every relative link of the guides leads to a file of the repository, and a `#fragment` to a heading
 * of that file: a guide under docs/ that links `BENCHMARKS.md` sends its reader to docs/BENCHMARKS.md,
 * which does not exist.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { guideFiles } from './guides.js';

/** The fragment GitHub gives a heading: lower case, punctuation dropped, spaces as `-`. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

async function headingsOf(file: string): Promise<string[]> {
  return [...(await readFile(file, 'utf8')).matchAll(/^#+ (.+)$/gm)].map((match) => slug(match[1]!));
}

it('links only to files and headings that exist', async () => {
  let checked = 0;
  for (const file of await guideFiles()) {
    const text = (await readFile(file, 'utf8')).replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, fragment] = target!.split('#') as [string, string | undefined];
      const linked = path === '' ? file : join(dirname(file), path);
      expect(existsSync(linked), `${file}: ${target}`).toBe(true);
      if (fragment) expect(await headingsOf(linked), `${file}: ${target}`).toContain(fragment);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(20);
});
