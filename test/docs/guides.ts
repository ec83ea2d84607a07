/** The guides a user reads, for the tests that hold them to what the programs do. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The README, every guide under docs/, and the emulator package's own README (published with it). */
export async function guideFiles(): Promise<string[]> {
  const docs = (await readdir('docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name));
  return ['README.md', ...docs, 'packages/entra-emulator/README.md'];
}
