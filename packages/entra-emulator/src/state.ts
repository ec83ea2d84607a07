/**
 * What the emulator keeps between starts when it has a state folder: the tenant id, its signing
 * keys, every app's key pair, the local CA, and the refresh tokens, sign-in sessions and device codes
 * handed out (kept-state.ts). Files only the user may read, written whole (a new file renamed over the
 * old) so that a crash never leaves half a key.
 */
import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { processRunning } from '../../../src/file-lock.js';
import { makeFolder } from '../../../src/make-folder.js';

/** The state folder `npm start` and `entra-emulator` use when EMULATOR_STATE_DIR is not set. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME?.trim() || join(homedir(), '.local', 'state');
  return join(base, 'entra-emulator');
}

export class StateFolder {
  private constructor(readonly path: string) {}

  static async open(path: string): Promise<StateFolder> {
    const folder = resolve(path);
    try {
      await makeFolder(folder);
      await chmod(folder, 0o700);
    } catch (err) {
      throw new Error(`EMULATOR_STATE_DIR: cannot use ${folder} as the state folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        cause: err,
      });
    }
    await removeAbandonedWrites(folder);
    return new StateFolder(folder);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** The file's JSON as the schema reads it; undefined when there is no file yet. A file that does not fit stops the start. */
  async read<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let parsed;
    try {
      parsed = schema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) throw new Error(`${this.file(name)} is not a state file this emulator can read: move it away to start afresh`);
    return parsed.data;
  }

  async write(name: string, value: unknown, mode = 0o600): Promise<void> {
    await this.writeText(name, `${JSON.stringify(value, null, 2)}\n`, mode);
  }

  /** Returns the file's stamp as written (see `stamp`). */
  async writeText(name: string, text: string, mode = 0o600): Promise<string> {
    // Named apart from every other write, this process's too (two emulators in one process, the same millisecond).
    const temporary = this.file(`.${name}.${process.pid}.${randomUUID()}.tmp`);
    try {
      await writeFile(temporary, text, { mode });
      await chmod(temporary, mode);
      // Taken before the rename, which keeps the file's inode and time: after it, another process may have written.
      const written = stampOf(await stat(temporary));
      await rename(temporary, this.file(name));
      return written;
    } catch (err) {
      // A full disk, say: no half-written copy is left until the next start.
      await rm(temporary, { force: true });
      throw err;
    }
  }

  /**
   * What tells one write of the file from another (every write is a new file renamed over the old, so a new inode), or
   * undefined when there is none: a writer that finds its own stamp knows the file holds what it wrote.
   */
  async stamp(name: string): Promise<string | undefined> {
    return stat(this.file(name)).then(stampOf, () => undefined);
  }
}

const stampOf = (file: Stats) => `${file.ino}:${file.size}:${file.mtimeMs}`;

/** Removes the new files of writes whose process was killed before it renamed them: they hold what the old file holds. */
async function removeAbandonedWrites(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => []);
  for (const name of names) {
    const pid = Number(/^\..+\.(\d+)\.[0-9a-f-]+\.tmp$/.exec(name)?.[1]);
    if (pid && !processRunning(pid)) await rm(join(folder, name), { force: true });
  }
}
