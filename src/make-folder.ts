/**
 * Makes a folder and its missing parents, one level at a time. Node's own `mkdir(…, { recursive: true })` never settles for a
 * folder under one where nothing can be made (`/proc/…`): told the folder's parent is missing, it finds the parent there and
 * tries again, forever, on a thread of its pool. Here a folder that cannot be made once its parent is there is an error.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function makeFolder(folder: string, mode = 0o700): Promise<void> {
  try {
    await mkdir(folder, { mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // There already (a file there fails at the first write into it, with its own error).
    if (code === 'EEXIST') return;
    const parent = dirname(folder);
    if (code !== 'ENOENT' || parent === folder) throw err;
    await makeFolder(parent, mode);
    await mkdir(folder, { mode }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}
