/**
 * A button or link the guides name in bold within a sentence ("press **Token on your behalf**", "**Copy token**")
 * is one the pages have: its label is the text of an element or a `label` in the pages' sources. A guide that
 * names a button by what it does rather than by its label sends its reader looking for one that is not there.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { guideFiles } from './guides.js';

/** Bold words in a sentence that stress a word and name no control. */
const EMPHASIS = ['on behalf of you', 'as an application', 'trygdeetaten.no', 'web'];

/** The sources of every page: the generator's, the command line's loopback pages and the emulator's. */
async function pageSources(): Promise<string> {
  const texts: string[] = [];
  for (const root of ['src', 'packages/entra-emulator/src']) {
    for (const name of await readdir(root, { recursive: true })) {
      if (name.endsWith('.ts')) texts.push(await readFile(join(root, name), 'utf8'));
    }
  }
  return texts.join('\n');
}

/** Bold phrases within a line of prose; those that open a line or a list item are headings of their paragraph. */
async function boldInSentences(): Promise<{ file: string; label: string }[]> {
  const found: { file: string; label: string }[] = [];
  for (const file of await guideFiles()) {
    const text = (await readFile(file, 'utf8')).replace(/```[\s\S]*?```/g, '');
    for (const match of text.matchAll(/\*\*([^*]+?)\*\*/g)) {
      const lineStart = text.lastIndexOf('\n', match.index) + 1;
      if (/^\s*(?:-\s*)?$/.test(text.slice(lineStart, match.index))) continue;
      found.push({ file, label: match[1]!.replace(/\s+/g, ' ') });
    }
  }
  return found;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

it('names in bold only buttons and links that the pages have, by their labels', async () => {
  const sources = await pageSources();
  const labels = (await boldInSentences()).filter(({ label }) => !EMPHASIS.includes(label));
  expect(labels.length).toBeGreaterThan(10);
  for (const { file, label } of labels) {
    // The text of an element (`>Log out</button>`, a template line that ends in one) or a `label: 'Try again'`.
    expect(sources, `${file}: **${label}**`).toMatch(new RegExp(`[>'\`]${escape(label)}(?:</|')`));
  }
});
