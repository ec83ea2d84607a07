import type { Logger } from 'pino';
import type { SessionStoreConfig } from '../config.js';
import type { Sealer } from './crypto.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { SessionStore } from './store.js';

export { Sealer, parseKey, randomKey, randomToken } from './crypto.js';
export { MemoryStore } from './memory-store.js';
export { RedisStore } from './redis-store.js';
export { SessionManager } from './session-manager.js';
export {
  StoreUnavailableError,
  type SessionData,
  type SessionStore,
  type SessionEmployee,
  type LockResult,
  type StoreHealth,
} from './store.js';

/** Redis (or Valkey) when one is configured, else memory. */
export function createStore(options: { store?: SessionStoreConfig; sealer: Sealer; logger?: Logger }): SessionStore {
  if (options.store) {
    return new RedisStore({ ...options.store, sealer: options.sealer, ...(options.logger ? { logger: options.logger } : {}) });
  }
  return new MemoryStore();
}
