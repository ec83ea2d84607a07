import type { Logger } from 'pino';
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

/** Redis when a URL is given, else memory. */
export function createStore(options: { redisUrl?: string; redisVariable?: string; sealer: Sealer; logger?: Logger }): SessionStore {
  if (options.redisUrl) {
    return new RedisStore({
      url: options.redisUrl,
      sealer: options.sealer,
      ...(options.redisVariable ? { variable: options.redisVariable } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  return new MemoryStore();
}
