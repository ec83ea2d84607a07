/**
 * A replica holding a session lock, as a process of its own that a test can kill: takes the lock on `id` in the Redis at
 * `url`, says "held" on standard output, and holds it until it is killed. With `lease` (ms), its lock's lease is that
 * rather than LOCK_LEASE_MS, with timeouts short enough for it: a test that waits the lease out waits less.
 * Run: node --import tsx test/helpers/lock-holder.ts <redis url> <id> [lease]
 */
import { randomKey, RedisStore, Sealer } from '../../src/session/index.js';

const [url, id, lease] = process.argv.slice(2);
if (!url || !id) throw new Error('usage: lock-holder.ts <redis url> <id> [lease]');
const store = new RedisStore({
  url,
  sealer: new Sealer(randomKey()),
  ...(lease ? { lockLeaseMs: Number(lease), commandTimeoutMs: 300, connectWaitMs: 200 } : {}),
});
// As a renewal does, for as long as its longest refresh at most; this one never ends: the process is killed first.
const held = await store.withLock(id, () => new Promise<never>(() => process.stdout.write('held\n')), { maxHoldMs: 60_000, waitMs: 0 });
if (!held.acquired) throw new Error(`the lock on ${id} is held already`);
