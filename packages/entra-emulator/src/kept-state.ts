/**
 * What an emulator with a state folder hands out that outlives it, as with Entra ID, whose logins do not end when a
 * server restarts: the refresh tokens (the generator's logins, MSAL's silent renewals and the command line's sessions
 * renew with them), the browsers' sign-in sessions (no sign-in page again after `npm start` again) and the device codes
 * being polled (a device login under way goes on).
 *
 * Written shortly after each change, not only at the close (a stop by a signal, a closed terminal's too, writes the
 * rest), so that a process killed (`kill -9`, a crash) loses only what changed in its last second. A write takes the
 * file as it is, leaves out what expired, puts in this emulator's changes and writes it whole (a new file renamed over
 * the old: a kill mid-write leaves the old one), under the state folder's lock, so that another emulator on the folder
 * (`npm start`'s and an app's own on another port) keeps what it wrote and a sign-out or a redeemed device code stays
 * gone. Readable by the owner alone, as every file of the state folder. Sessions and device codes of another tenant (an
 * emulator started with another tenant id on the folder) stay in their files for it; its refresh tokens are taken too,
 * and refused as Entra refuses them.
 */
import { z } from 'zod';
import { withFileLock } from '../../../src/file-lock.js';
import type { DeviceAuthorization, RefreshGrant, SignOnSession } from './model.js';
import type { StateFolder } from './state.js';
import type { BoundedStore, StoreEntry, Stores } from './stores.js';

/**
 * The least time from a change to its write; a write also waits ten times as long as the last one took. A second: under a
 * load of logins (in the generator's process, with `npm start`) a write every quarter second took a few per cent of the time.
 */
const PAUSE_MS = 1_000;
const LOCK = 'kept-state.lock';

const employee = z.object({ navIdent: z.string(), name: z.string(), email: z.string(), groups: z.array(z.string()) });

/**
 * A refresh token as kept. A file of an earlier version kept no tenant: its tokens are taken as the tenant's that the
 * state folder named before this start (the emulator that ran on it last wrote them), so that an upgrade signs no one out.
 */
const refreshGrant = (tenantId: string) =>
  z.object({
    tenantId: z.string().default(tenantId),
    clientId: z.string(),
    scopes: z.array(z.string()),
    employee,
    sessionId: z.string(),
    publicClient: z.boolean(),
    spaUntil: z.number().optional(),
  }) satisfies z.ZodType<RefreshGrant, unknown>;

const SIGN_ON_SESSION = z.object({
  tenantId: z.string(),
  id: z.string(),
  sid: z.string(),
  employee,
  authTime: z.number().optional(),
  clients: z.array(z.string()).optional(),
}) satisfies z.ZodType<SignOnSession>;

const DEVICE_AUTHORIZATION = z.object({
  tenantId: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  userCode: z.string(),
  expiresAt: z.number(),
  intervalSeconds: z.number(),
  lastPolledAt: z.number().optional(),
  status: z.enum(['pending', 'approved', 'declined', 'redeemed']),
  employee: employee.optional(),
  sessionId: z.string().optional(),
}) satisfies z.ZodType<DeviceAuthorization>;

type Tenanted = { tenantId: string };

/** What the writer needs of a kept file, whatever its values. */
interface Written {
  readonly changed: boolean;
  watch(changed: () => void): void;
  write(): Promise<void>;
}

/** One store and its file. */
class KeptFile<V extends Tenanted> implements Written {
  /** The keys set, deleted or changed since the last write. */
  private changes = new Set<string>();
  /**
   * The file's entries as this emulator last wrote them, with the file's stamp then: while the file still has that stamp,
   * the next write starts from them rather than read, parse and check the whole file again (20,000 refresh tokens take
   * a few hundred milliseconds, in which the emulator answers nothing).
   */
  private written: { entries: Map<string, StoreEntry<V>>; stamp: string } | undefined;
  private readonly schema: z.ZodType<StoreEntry<V>[]>;

  constructor(
    private readonly state: StateFolder,
    private readonly name: string,
    private readonly store: BoundedStore<V>,
    value: z.ZodType<V>,
  ) {
    this.schema = z.array(z.object({ key: z.string().min(1), expiresAt: z.number(), value })) as z.ZodType<StoreEntry<V>[]>;
  }

  /** The file's entries; a file this emulator cannot read is taken as none (they are no key), and written over. */
  private read(): Promise<StoreEntry<V>[]> {
    return this.state.read(this.name, this.schema).then(
      (entries) => entries ?? [],
      () => [],
    );
  }

  /** The file's entries by key: as this emulator wrote them last, unless another wrote the file since. */
  private async current(): Promise<Map<string, StoreEntry<V>>> {
    if (this.written && this.written.stamp === (await this.state.stamp(this.name))) return this.written.entries;
    return new Map((await this.read()).map((entry) => [entry.key, entry]));
  }

  /** Takes back the entries `take` accepts, each until it expires; returns them. */
  async restore(take: (value: V) => boolean): Promise<StoreEntry<V>[]> {
    const entries = (await this.read()).filter((entry) => take(entry.value));
    this.store.restore(entries);
    return entries;
  }

  watch(changed: () => void): void {
    this.store.onChange = (key) => {
      this.changes.add(key);
      changed();
    };
  }

  get changed(): boolean {
    return this.changes.size > 0;
  }

  /** Puts the changes since the last write into the file, over what another emulator wrote there. Under the lock. */
  async write(): Promise<void> {
    if (!this.changed) return;
    const changes = this.changes;
    this.changes = new Set();
    try {
      const now = Date.now();
      const kept = await this.current();
      for (const [key, entry] of kept) if (entry.expiresAt <= now) kept.delete(key);
      for (const key of changes) {
        const entry = this.store.peek(key, now);
        if (entry) kept.set(key, entry);
        else kept.delete(key);
      }
      const entries = latest([...kept.values()], this.store.limits.maxEntries);
      this.written = undefined;
      // One line: the file is read by emulators, not people, and spaces would double the time it takes to write.
      const stamp = await this.state.writeText(this.name, JSON.stringify(entries));
      this.written = { entries: new Map(entries.map((entry) => [entry.key, entry])), stamp };
    } catch (err) {
      // Written with the next change, or at the close.
      for (const key of changes) this.changes.add(key);
      throw err;
    }
  }
}

/** At most `max` entries, those that expire last: several emulators' entries fill the file no more than the store. */
function latest<V>(entries: StoreEntry<V>[], max: number): StoreEntry<V>[] {
  return entries.length <= max ? entries : entries.sort((a, b) => b.expiresAt - a.expiresAt).slice(0, max);
}

export class KeptState {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private pauseMs = PAUSE_MS;
  private closed = false;

  private constructor(
    private readonly state: StateFolder,
    private readonly files: Written[],
    private readonly failed: (err: unknown) => void,
  ) {}

  /** Takes back what the state folder keeps for the tenant, then writes the stores' changes there as they come. */
  static async open(
    state: StateFolder,
    { tenantId, folderTenant }: { tenantId: string; folderTenant: string },
    stores: Stores,
    failed: (err: unknown) => void,
  ): Promise<KeptState> {
    const refreshTokens = new KeptFile(state, 'refresh-tokens.json', stores.refreshTokens, refreshGrant(folderTenant));
    const sessions = new KeptFile(state, 'sign-in-sessions.json', stores.signOnSessions, SIGN_ON_SESSION);
    const deviceCodes = new KeptFile(state, 'device-codes.json', stores.deviceCodes, DEVICE_AUTHORIZATION);
    const ours = (value: Tenanted) => value.tenantId === tenantId;
    const [, , devices] = await Promise.all([refreshTokens.restore(() => true), sessions.restore(ours), deviceCodes.restore(ours)]);
    for (const { key, value, expiresAt } of devices) stores.userCodes.set(value.userCode, key, expiresAt - Date.now());
    const kept = new KeptState(state, [refreshTokens, sessions, deviceCodes], failed);
    for (const file of kept.files) file.watch(() => kept.schedule());
    return kept;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.failed);
    }, this.pauseMs);
    this.timer.unref();
  }

  /** Writes what changed, after the write under way. */
  private flush(): Promise<void> {
    const next = this.writing.catch(() => undefined).then(() => this.writeChanges());
    this.writing = next;
    return next;
  }

  private async writeChanges(): Promise<void> {
    if (!this.files.some((file) => file.changed)) return;
    await withFileLock(this.state.file(LOCK), async () => {
      const started = performance.now();
      try {
        for (const file of this.files) await file.write();
      } finally {
        // A flood of logins spends at most a tenth of its time writing them.
        this.pauseMs = Math.max(PAUSE_MS, 10 * (performance.now() - started));
      }
    });
  }

  /** Writes the last changes: called once the server has closed, so that they are all in. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
