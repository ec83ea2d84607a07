/**
 * Which tools have access as an employee: one record per employee in the session store, listing the
 * tool sessions they allowed, from which browser login, from where and since when; each tool's last
 * use in a record of its own, written on every refresh without the list's lock. The home page shows
 * the list; a logout ends the tools its browser login allowed, "log out everywhere" all of them.
 */
import { digest } from '../../../digest.js';
import { z } from 'zod';
import { StoreUnavailableError, type SessionStore } from '../../../session/index.js';

const Entry = z.object({
  /** Names the tool on pages and in forms; the tool session's id never leaves the store. */
  handle: z.string(),
  session: z.string(),
  /** The browser login that allowed it, hashed. */
  browser: z.string(),
  client: z.string(),
  target: z.string(),
  /** Where the tool asked from, in words: "this computer" or the device's address. */
  from: z.string(),
  since: z.number(),
  expiresAt: z.number(),
});
export type ToolEntry = z.infer<typeof Entry>;
const Entries = z.array(Entry);

const LOCK = { maxHoldMs: 5_000, waitMs: 5_000 };
/** Tools listed per employee at most; past it the oldest entry goes (its session still ends with its login). */
const MAX_ENTRIES = 50;

export class ToolAccess {
  constructor(
    private readonly store: SessionStore,
    private readonly now: () => number = Date.now,
  ) {}

  async add(employee: string, entry: ToolEntry): Promise<void> {
    await this.change(employee, (entries) => [...entries, entry].slice(-MAX_ENTRIES));
  }

  /** The employee's tools whose sessions have not expired, with when each was last used. */
  async list(employee: string): Promise<(ToolEntry & { lastUsed?: number })[]> {
    const entries = await this.read(employee);
    return Promise.all(
      entries.map(async (entry) => {
        const used = await this.store.getRecord(`tool-used:${entry.handle}`);
        return used ? { ...entry, lastUsed: Number(used) } : entry;
      }),
    );
  }

  /** Takes the entries `which` picks out of the list, and gives them. */
  async remove(employee: string, which: (entry: ToolEntry) => boolean): Promise<ToolEntry[]> {
    let removed: ToolEntry[] = [];
    await this.change(employee, (entries) => {
      removed = entries.filter(which);
      return entries.filter((entry) => !which(entry));
    });
    return removed;
  }

  async used(entry: { handle: string; expiresAt: number }): Promise<void> {
    await this.store.setRecord(`tool-used:${entry.handle}`, String(this.now()), Math.max(1, entry.expiresAt - this.now()));
  }

  private key(employee: string): string {
    return `tool-access:${digest(employee)}`;
  }

  private async read(employee: string): Promise<ToolEntry[]> {
    const stored = await this.store.getRecord(this.key(employee));
    let entries: ToolEntry[];
    try {
      entries = stored ? Entries.parse(JSON.parse(stored)) : [];
    } catch {
      entries = [];
    }
    const now = this.now();
    return entries.filter((entry) => entry.expiresAt > now);
  }

  private async change(employee: string, next: (entries: ToolEntry[]) => ToolEntry[]): Promise<void> {
    const key = this.key(employee);
    const result = await this.store.withLock(
      key,
      async () => {
        const entries = next(await this.read(employee));
        const last = Math.max(0, ...entries.map((entry) => entry.expiresAt));
        if (entries.length === 0) await this.store.takeRecord(key);
        else await this.store.setRecord(key, JSON.stringify(entries), Math.max(1, last - this.now()));
      },
      LOCK,
    );
    if (!result.acquired) throw new StoreUnavailableError('the list of tools with access is busy');
  }
}
