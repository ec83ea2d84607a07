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
