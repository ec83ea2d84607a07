/**
 * A lock between the processes of one user on one file: a file made only if none is there, holding its
 * process's id and a random value. A lock whose process is gone (or that is older than any change takes)
 * is removed, by one process at a time. After a wait the work goes ahead without the lock: what it guards
 * (the command line's token file, the emulator's kept logins) is a convenience, and nothing must hang on it.
 */
import { randomUUID } from 'node:crypto';
import { lstat, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder } from './make-folder.js';

export interface LockTimes {
  /** How long to wait for another process's lock before going ahead without. */
  waitMs: number;
  /** Past this age a lock counts as left behind, whatever its process. */
  staleMs: number;
}

const TIMES: LockTimes = { waitMs: 3_000, staleMs: 10_000 };
/** Removing an abandoned lock takes a moment; a guard older than this was left by a process that died doing it. */
const GUARD_STALE_MS = 2_000;

/** Runs `work` while holding the lock at `lockPath`. */
export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, times: LockTimes = TIMES): Promise<T> {
  const unlock = await lock(lockPath, times);
  try {
    return await work();
  } finally {
    await unlock();
  }
}

async function lock(lockPath: string, times: LockTimes): Promise<() => Promise<void>> {
  await makeFolder(dirname(lockPath));
  const mine = `${process.pid} ${randomUUID()}`;
  const giveUpAt = Date.now() + times.waitMs;
  for (;;) {
    try {
      await writeFile(lockPath, mine, { flag: 'wx', mode: 0o600 });
      return () => release(lockPath, mine);
    } catch (err) {
      // Not a lock held by another (a folder that cannot be written, say): nothing to wait for.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return async () => {};
    }
    const free = await takeOverAbandoned(lockPath, times.staleMs);
    // Checked after a takeover too: a lock path that stays where none can be made (a folder, say) is not tried forever.
    if (Date.now() > giveUpAt) return async () => {};
    if (!free) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Removes the lock if it is still this process's: one taken over meanwhile is the other process's now. */
async function release(lockPath: string, mine: string): Promise<void> {
  if ((await readFile(lockPath, 'utf8').catch(() => undefined)) === mine) await rm(lockPath, { force: true });
}

/**
 * What holds the lock path: nothing, a lock with its content and age, or something that cannot be read as one (a folder,
 * another user's file, a symbolic link to nothing, which blocks the lock as a file does though nothing can be read through
 * it). Content and age come from one open file: read apart, they could be of a lock removed and of the one made after it,
 * and a live lock would pass for one left behind long ago.
 */
type Holder = { content: string; ageMs: number } | 'none' | 'unreadable';

async function holderOf(lockPath: string): Promise<Holder> {
  let file: FileHandle;
  try {
    file = await open(lockPath, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return 'unreadable';
    return (await lstat(lockPath).then(
      () => true,
      () => false,
    ))
      ? 'unreadable'
      : 'none';
  }
  try {
    const [content, made] = await Promise.all([file.readFile('utf8'), file.stat()]);
    return { content, ageMs: Date.now() - made.mtimeMs };
  } catch {
    return 'unreadable';
  } finally {
    await file.close();
  }
}

/**
 * Whether the lock at `lockPath` is gone or was removed as abandoned: then it is worth trying for at once.
 * Removing it is itself guarded (a second lock file, for the moment it takes), so that of several processes
 * finding one abandoned lock only one removes it, and none removes the lock another made after it.
 */
async function takeOverAbandoned(lockPath: string, staleMs: number): Promise<boolean> {
  const found = await holderOf(lockPath);
  if (found === 'none') return true;
  // Another user's lock, or not a lock at all: nothing this process may remove.
  if (found === 'unreadable' || !abandoned(found.content, found.ageMs, staleMs)) return false;
  const guard = `${lockPath}.takeover`;
  try {
    await writeFile(guard, '', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    // Another process is removing it; a guard left by one that died is removed in turn.
    const guarding = await holderOf(guard);
    if (typeof guarding === 'object' && guarding.ageMs > GUARD_STALE_MS) await rm(guard, { force: true });
    return false;
  }
  try {
    const still = await holderOf(lockPath);
    if (typeof still === 'object' && still.content === found.content) await rm(lockPath, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
  return true;
}

/** A lock is abandoned when its process is gone, or it is older than `staleMs`; an empty one is being written. */
function abandoned(holder: string, ageMs: number, staleMs: number): boolean {
  if (ageMs > staleMs) return true;
  if (holder === '') return false;
  const pid = Number(holder.split(' ', 1)[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  return !processRunning(pid);
}

/** Whether a process with this id is there (another user's too). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process is there, another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
