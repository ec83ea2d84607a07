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
/**
 * Tools listed per employee at most. Past it the oldest tool's access ends with its entry: a tool off the list would be
 * beyond the employee's reach, ended by no button and no logout, and so kept by whoever held it until its login expired.
 */
export const MAX_TOOL_ENTRIES = 50;

export class ToolAccess {
  constructor(
    private readonly store: SessionStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds the entry; the oldest past `MAX_TOOL_ENTRIES` are given to `end` first, and leave the list only once it ended them. */
  async add(employee: string, entry: ToolEntry, end: (entries: ToolEntry[]) => Promise<void>): Promise<void> {
    await this.change(employee, async (entries) => {
      const all = [...entries, entry];
      await end(all.slice(0, -MAX_TOOL_ENTRIES));
      return all.slice(-MAX_TOOL_ENTRIES);
    });
  }

  /** The employee's tools whose sessions have not expired, with when each was last used. */
  async list(employee: string): Promise<(ToolEntry & { lastUsed?: number })[]> {
    const entries = await this.entries(employee);
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

  /** The employee's tools whose sessions have not expired. */
  async entries(employee: string): Promise<ToolEntry[]> {
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

  private async change(employee: string, next: (entries: ToolEntry[]) => ToolEntry[] | Promise<ToolEntry[]>): Promise<void> {
    const key = this.key(employee);
    const result = await this.store.withLock(
      key,
      async () => {
        const entries = await next(await this.entries(employee));
        const last = Math.max(0, ...entries.map((entry) => entry.expiresAt));
        if (entries.length === 0) await this.store.takeRecord(key);
        else await this.store.setRecord(key, JSON.stringify(entries), Math.max(1, last - this.now()));
      },
      LOCK,
    );
    if (!result.acquired) throw new StoreUnavailableError('the list of tools with access is busy');
  }
}
