/**
 * Sessions as the HTTP layer uses them: a random id, handed to the browser only inside a sealed
 * ticket, and the data behind it in a store until the session's maximum lifetime.
 */
import type { Sealer } from './crypto.js';
import { randomToken } from './crypto.js';
import type { SessionData, SessionStore } from './store.js';

const TICKET = 'session-ticket';

export class SessionManager {
  readonly store: SessionStore;
  private readonly sealer: Sealer;
  private readonly maxLifetimeMs: number;
  private readonly now: () => number;

  constructor(options: { store: SessionStore; sealer: Sealer; maxLifetimeMs: number; now?: () => number }) {
    this.store = options.store;
    this.sealer = options.sealer;
    this.maxLifetimeMs = options.maxLifetimeMs;
    this.now = options.now ?? Date.now;
  }

  async create(data: Omit<SessionData, 'createdAt' | 'expiresAt'>): Promise<{ ticket: string; id: string; data: SessionData }> {
    const session = this.build(data);
    await this.store.set(session.id, session.data);
    return { ticket: this.sealer.seal(session.id, TICKET), ...session };
  }

  /** A new session with its id and lifetime, not stored (yet). */
  build(data: Omit<SessionData, 'createdAt' | 'expiresAt'>): { id: string; data: SessionData } {
    const now = this.now();
    return { id: randomToken(32), data: { ...data, createdAt: now, expiresAt: now + this.maxLifetimeMs } };
  }

  /** The session id inside a ticket, or undefined for anything that is not a ticket of this service. */
  idOf(ticket: string): string | undefined {
    return this.sealer.open(ticket, TICKET);
  }

  async load(ticket: string | undefined): Promise<{ id: string; data: SessionData } | undefined> {
    if (!ticket) return undefined;
    const id = this.idOf(ticket);
    if (!id) return undefined;
    const data = await this.store.get(id);
    if (!data) return undefined;
    if (data.expiresAt <= this.now()) {
      await this.store.delete(id);
      return undefined;
    }
    return { id, data };
  }

  /** False when the session no longer exists: it was ended meanwhile, and stays ended. */
  async update(id: string, data: SessionData): Promise<boolean> {
    return this.store.update(id, data);
  }

  async destroy(id: string): Promise<void> {
    await this.store.delete(id);
  }
}
