import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import {
  MemoryStore,
  randomKey,
  RedisStore,
  Sealer,
  SessionManager,
  StoreUnavailableError,
  type SessionData,
  type SessionStore,
  type StoreHealth,
} from '../../src/session/index.js';
import { LOCK_LEASE_MS } from '../../src/session/redis-store.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTcpHop } from '../helpers/tcp-hop.js';
import { memoryLogger } from '../helpers/stack.js';
import { sleep, waitFor } from '../helpers/wait-for.js';

const session = (overrides: Partial<SessionData> = {}): SessionData => ({
  user: { oid: 'oid-1', name: 'Kari', navIdent: 'Z990001' },
  accessToken: 'ACCESS-TOKEN-VALUE',
  accessTokenExpiresAt: Date.now() + 3_600_000,
  refreshToken: 'REFRESH-TOKEN-VALUE',
  idToken: 'ID-TOKEN-VALUE',
  createdAt: Date.now(),
  expiresAt: Date.now() + 60_000,
  ...overrides,
});

async function lockExclusion(a: SessionStore, b: SessionStore) {
  const order: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const first = a.withLock('s', async () => {
    order.push('first in');
    await held;
    order.push('first out');
  });
  await waitFor(() => order.includes('first in'), { what: 'the first holder to have the lock' });
  const refused = await b.withLock('s', async () => order.push('never'), { waitMs: 100 });
  expect(refused).toEqual({ acquired: false });
  const second = b.withLock('s', async () => order.push('second'), { waitMs: 5_000 });
  release();
  await Promise.all([first, second]);
  expect(order).toEqual(['first in', 'first out', 'second']);
}

/** Records expire, and of two takers of one record exactly one gets it. */
async function recordsOnce(a: SessionStore, b: SessionStore) {
  await a.setRecord('device:1', 'pending', 60_000);
  expect(await b.getRecord('device:1')).toBe('pending');
  const taken = await Promise.all([a.takeRecord('device:1'), b.takeRecord('device:1')]);
  expect(taken.filter(Boolean)).toHaveLength(1);
  expect(await a.getRecord('device:1')).toBeUndefined();
  await a.setRecord('device:short', 'x', 200);
  await waitFor(async () => (await b.getRecord('device:short')) === undefined, { what: 'the 200 ms record to expire' });
  expect(await b.takeRecord('device:short')).toBe(false);
}

/** A record swaps only from the value it has, and of two swaps from one value exactly one is made. */
async function recordsSwapOnce(a: SessionStore, b: SessionStore) {
  await a.setRecord('generation:1', 'first', 60_000);
  expect(await b.swapRecord('generation:1', 'other', 'never', 60_000)).toBe(false);
  expect(await a.getRecord('generation:1')).toBe('first');
  const swapped = await Promise.all([
    a.swapRecord('generation:1', 'first', 'by-a', 60_000),
    b.swapRecord('generation:1', 'first', 'by-b', 60_000),
  ]);
  expect(swapped.filter(Boolean)).toHaveLength(1);
  expect(await b.getRecord('generation:1')).toBe(swapped[0] ? 'by-a' : 'by-b');
  expect(await a.swapRecord('generation:absent', 'first', 'never', 60_000)).toBe(false);
  expect(await a.getRecord('generation:absent')).toBeUndefined();
  await a.setRecord('generation:short', 'first', 60_000);
  expect(await b.swapRecord('generation:short', 'first', 'second', 200)).toBe(true);
  await waitFor(async () => (await a.getRecord('generation:short')) === undefined, {
    what: 'the swapped record to expire with its new lifetime',
  });
}

/** An update replaces a session that exists and never brings back one that was deleted. */
async function updateOnlyExisting(a: SessionStore, b: SessionStore) {
  await a.set('live', session());
  expect(await b.update('live', session({ accessToken: 'RENEWED' }))).toBe(true);
  expect((await a.get('live'))?.accessToken).toBe('RENEWED');
  await a.delete('live');
  expect(await b.update('live', session({ accessToken: 'TOO-LATE' }))).toBe(false);
  expect(await a.get('live')).toBeUndefined();
  expect(await b.update('never-was', session())).toBe(false);
  expect(await a.get('never-was')).toBeUndefined();
}

describe('MemoryStore', () => {
  it('keeps, expires, deletes and bounds sessions', async () => {
    const store = new MemoryStore(2);
    await store.set('a', session());
    expect((await store.get('a'))?.accessToken).toBe('ACCESS-TOKEN-VALUE');
    await store.set('old', session({ expiresAt: Date.now() - 1 }));
    expect(await store.get('old')).toBeUndefined();
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    for (const id of ['x', 'y', 'z']) await store.set(id, session());
    expect(store.size).toBe(2);
    expect(await store.get('x')).toBeUndefined();
    await store.close();
  });

  it('lets one holder at a time have a session lock', async () => {
    const store = new MemoryStore();
    await lockExclusion(store, store);
    await store.close();
  });

  it('keeps short-lived records until they expire, each taken once', async () => {
    const store = new MemoryStore();
    await recordsOnce(store, store);
    await store.close();
  });

  it('swaps a record only from the value it has, once', async () => {
    const store = new MemoryStore();
    await recordsSwapOnce(store, store);
    await store.close();
  });

  it('updates only a session that still exists', async () => {
    const store = new MemoryStore();
    await updateOnlyExisting(store, store);
    await store.close();
  });
});

/**
 * `operation` refused while Redis hangs with the connection open: its command waits in Redis's socket, refused here by its
 * timeout and made once Redis runs again. Returns once the store reached Redis again.
 */
async function refusedWhileHung(redis: TestRedis, store: RedisStore, operation: () => Promise<unknown>): Promise<void> {
  await waitFor(() => store.health().reachable, { what: 'the store to connect' });
  redis.pause();
  try {
    await expect(operation()).rejects.toBeInstanceOf(StoreUnavailableError);
  } finally {
    redis.resume();
  }
  await waitFor(() => store.health().reachable, { what: 'the store to be reachable once Redis answers again' });
}

describe('RedisStore against a real redis-server', () => {
  let redis: TestRedis;
  const sealer = new Sealer(randomKey());
  const stores: RedisStore[] = [];
  const store = (options: { connectWaitMs?: number } = {}) => {
    const s = new RedisStore({ url: redis.url, sealer, commandTimeoutMs: 1_000, ...options });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis?.close();
  });

  it('keeps sessions that another replica reads, until their lifetime ends', async () => {
    const a = store();
    const b = store();
    await a.set('shared', session());
    expect(await b.get('shared')).toEqual(await a.get('shared'));
    await a.set('short', session({ expiresAt: Date.now() + 300 }));
    await waitFor(async () => (await b.get('short')) === undefined, { what: 'the 300 ms session to expire' });
    await b.delete('shared');
    expect(await a.get('shared')).toBeUndefined();
  });

  it('stores nothing readable: no token, no session id', async () => {
    const a = store();
    await a.set('the-session-id', session());
    const raw = new Redis(redis.url);
    const keys = await raw.keys('*');
    const values = await Promise.all(keys.map((k) => raw.get(k)));
    await raw.quit();
    const everything = keys.join(' ') + values.join(' ');
    expect(keys.length).toBeGreaterThan(0);
    for (const secret of ['ACCESS-TOKEN-VALUE', 'REFRESH-TOKEN-VALUE', 'ID-TOKEN-VALUE', 'the-session-id', 'Kari'])
      expect(everything).not.toContain(secret);
  });

  it('lets one replica at a time hold a session lock', async () => {
    await lockExclusion(store(), store());
  });

  it('shares short-lived records between replicas, sealed, each taken once', async () => {
    await recordsOnce(store(), store());
    const a = store();
    await a.setRecord('user-code:ABCD-EFGH', 'SECRET-DEVICE-RECORD', 60_000);
    const raw = new Redis(redis.url);
    const keys = await raw.keys('*');
    const values = await Promise.all(keys.map((k) => raw.get(k)));
    await raw.quit();
    const everything = keys.join(' ') + values.join(' ');
    for (const secret of ['ABCD-EFGH', 'SECRET-DEVICE-RECORD']) expect(everything).not.toContain(secret);
  });

  it('swaps a shared record only from the value it has, once across replicas', async () => {
    await recordsSwapOnce(store(), store());
  });

  it('updates only a session that still exists, whichever replica deleted it', async () => {
    await updateOnlyExisting(store(), store());
  });

  it('makes an update and a lock release that Redis missed once it is back, and an update never revives a deleted session', async () => {
    // Refused after a short wait for the connection: each refusal below waits it out.
    const a = store({ connectWaitMs: 200 });
    const b = store();
    await a.set('kept', session({ expiresAt: Date.now() + 600_000 }));
    await a.set('ended', session({ expiresAt: Date.now() + 600_000 }));
    let release: (() => void) | undefined;
    const held = a.withLock('kept', () => new Promise<void>((resolve) => (release = resolve)), { maxHoldMs: 60_000 });
    await waitFor(() => release, { what: 'the lock to be held' });
    // Another replica ends one session; the first does not know, and its update of it waits for Redis below. Ended
    // before the outage, so that it is ended before the update is made again whichever replica reconnects first.
    await b.delete('ended');
    await redis.stop();
    await expect(a.update('kept', session({ accessToken: 'RENEWED', expiresAt: Date.now() + 600_000 }))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(a.update('ended', session({ accessToken: 'RENEWED' }))).rejects.toBeInstanceOf(StoreUnavailableError);
    release!();
    await held;
    await redis.restart();
    await waitFor(() => b.health().reachable, { what: 'the second replica to reconnect' });
    await waitFor(() => a.health().reachable, { what: 'the first replica to reconnect' });
    // What it missed goes out before the write that makes it reachable again (the updates, then the lock
    // release): all of it is in Redis by now.
    expect((await b.get('kept'))?.accessToken).toBe('RENEWED');
    expect(await b.get('ended')).toBeUndefined();
    expect(await b.client.exists(b.lockKey('kept'))).toBe(0);
  });

  it('is unreachable from the moment Redis ends the connection, before the client has noticed it closed', async () => {
    const a = store();
    await waitFor(() => a.health().reachable, { what: 'the store to connect' });
    const { stream } = a.client;
    // Commands fail from here on, while the client's status still says ready.
    const atEnd = new Promise<boolean>((resolve) => stream.once('end', () => resolve(a.health().reachable)));
    const raw = new Redis(redis.url);
    await raw.client('KILL', 'ADDR', `127.0.0.1:${stream.localPort}`);
    raw.disconnect();
    expect(await atEnd).toBe(false);
    await waitFor(() => a.health().reachable, { what: 'the store to reconnect' });
  });

  it('is unreachable while Redis hangs with the connection open, and reachable again once it answers', async () => {
    const a = store();
    await a.set('before-hang', session({ expiresAt: Date.now() + 600_000 }));
    // Nothing closes the connection: only the command's timeout says Redis does not answer.
    let hung: StoreHealth | undefined;
    await refusedWhileHung(redis, a, () => a.get('before-hang').finally(() => (hung = a.health())));
    expect(hung).toMatchObject({ reachable: false, problem: expect.stringMatching(/cannot be reached: Command timed out/) });
    expect((await a.get('before-hang'))?.accessToken).toBe('ACCESS-TOKEN-VALUE');
  });

  it('refuses at once, unsent, what follows a command timed out while Redis hangs, and makes the update refused once back', async () => {
    const a = store();
    await a.set('hung-update', session({ expiresAt: Date.now() + 600_000 }));
    await waitFor(() => a.health().reachable, { what: 'the store to connect' });
    // Commands of the store's other than its checks of whether Redis is back (writes of the key `alive`).
    const sent = () => a.client.commandQueue.toArray().filter((item) => !String(item.command.args[0]).endsWith(':alive')).length;
    redis.pause();
    try {
      // The first waits for its timeout (1 s here).
      await expect(a.get('hung-update')).rejects.toBeInstanceOf(StoreUnavailableError);
      const before = sent();
      const started = performance.now();
      await expect(a.update('hung-update', session({ accessToken: 'RENEWED', expiresAt: Date.now() + 600_000 }))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(a.setRecord('device:hung', 'pending', 60_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(a.consumeOnce('code:hung', 60_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(a.withLock('hung-update', async () => 'never')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(sent()).toBe(before);
    } finally {
      redis.resume();
    }
    await waitFor(() => a.health().reachable, { what: 'the store to be reachable once Redis answers again' });
    expect((await a.get('hung-update'))?.accessToken).toBe('RENEWED');
    expect(await a.consumeOnce('code:hung', 60_000)).toBe(true);
    expect(await a.withLock('hung-update', async () => 'renewed', { waitMs: 0 })).toEqual({ acquired: true, value: 'renewed' });
  });

  it('makes an update refused while what Redis missed is being made, once back', async () => {
    const a = store();
    await a.set('refused-in-replay', session({ expiresAt: Date.now() + 600_000 }));
    // Redis answers again; while the verification makes what it missed, an update comes, refused as Redis is not yet taken as back.
    const replay = (a as unknown as { replayDeferred(): Promise<void> }).replayDeferred.bind(a);
    let late: unknown;
    vi.spyOn(a as unknown as { replayDeferred(): Promise<void> }, 'replayDeferred').mockImplementationOnce(async () => {
      const replaying = replay();
      late = await a
        .update('refused-in-replay', session({ accessToken: 'LATE', expiresAt: Date.now() + 600_000 }))
        .catch((err: unknown) => err);
      await replaying;
    });
    await refusedWhileHung(redis, a, () => a.get('refused-in-replay'));
    expect(late).toBeInstanceOf(StoreUnavailableError);
    await waitFor(async () => (await a.get('refused-in-replay'))?.accessToken === 'LATE', { what: 'the refused update to be made' });
  });

  it('leaves a key whose consumption was refused unused once Redis is back, though Redis took the command late', async () => {
    const a = store();
    await refusedWhileHung(redis, a, () => a.consumeOnce('code:late', 60_000));
    // The caller heard "unavailable, try again": the retry takes the key, once.
    expect(await a.consumeOnce('code:late', 60_000)).toBe(true);
    expect(await a.consumeOnce('code:late', 60_000)).toBe(false);
  });

  it('keeps a record whose taking was refused once Redis is back, though Redis took the command late', async () => {
    const a = store();
    await a.setRecord('device:late', 'allowed', 60_000);
    await refusedWhileHung(redis, a, () => a.takeRecord('device:late'));
    expect(await a.getRecord('device:late')).toBe('allowed');
    expect(await a.takeRecord('device:late')).toBe(true);
    expect(await a.takeRecord('device:late')).toBe(false);
    // Nothing of it is left behind, neither the record nor the copy its taking kept aside.
    await waitFor(async () => (await a.client.keys('*taken:*')).length === 0, { what: 'the copy kept aside to go' });
  });

  it('leaves a record whose swap was refused as it was once Redis is back, though Redis took the command late', async () => {
    const a = store();
    await a.setRecord('generation:late', 'first', 60_000);
    await waitFor(() => a.health().reachable, { what: 'the store to connect' });
    // Redis hangs once the value is read, before the swap itself reaches it.
    const send = a.client.eval.bind(a.client);
    vi.spyOn(a.client, 'eval').mockImplementationOnce((...args: Parameters<typeof send>) => {
      redis.pause();
      return send(...args);
    });
    try {
      await expect(a.swapRecord('generation:late', 'first', 'second', 60_000)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      redis.resume();
    }
    await waitFor(() => a.health().reachable, { what: 'the store to be reachable once Redis answers again' });
    expect(await a.getRecord('generation:late')).toBe('first');
    expect(await a.swapRecord('generation:late', 'first', 'second', 60_000)).toBe(true);
    expect(await a.swapRecord('generation:late', 'first', 'third', 60_000)).toBe(false);
    expect(await a.getRecord('generation:late')).toBe('second');
  });

  it('holds no lock whose taking was refused once Redis is back, though Redis took the command late', async () => {
    const a = store();
    await refusedWhileHung(redis, a, () => a.withLock('late', async () => 'never', { maxHoldMs: 60_000 }));
    expect(await store().withLock('late', async () => 'renewed', { waitMs: 0 })).toEqual({ acquired: true, value: 'renewed' });
  });

  it('releases a held lock whose release Redis missed, though a second taking of it was refused meanwhile', async () => {
    const s = new RedisStore({ url: redis.url, sealer, commandTimeoutMs: 1_000, connectWaitMs: 200 });
    stores.push(s);
    await waitFor(() => s.health().reachable, { what: 'the store to connect' });
    // Redis stops while the lock is held: its release is refused, and so is the next request's taking of the lock.
    await s.withLock('held', () => redis.stop(), { maxHoldMs: 60_000 });
    await expect(s.withLock('held', async () => 'never', { waitMs: 0 })).rejects.toBeInstanceOf(StoreUnavailableError);
    await redis.restart();
    const raw = new Redis(redis.url);
    try {
      // Forgotten, the release would leave the lock for the rest of its lease, holding off every replica's renewal of the
      // session: it is made before the store is reachable again, well within the lease.
      await waitFor(() => s.health().reachable, { what: 'the store to be reachable again' });
      expect(await raw.exists(s.lockKey('held'))).toBe(0);
    } finally {
      raw.disconnect();
    }
  });

  it('keeps a held lock to a short lease, extended while its holder works, and gone once the work ends', async () => {
    const lease = 1_000;
    const a = new RedisStore({ url: redis.url, sealer, commandTimeoutMs: 200, connectWaitMs: 200, lockLeaseMs: lease });
    stores.push(a);
    const b = store();
    const raw = new Redis(redis.url);
    const evals = async () => Number(/cmdstat_eval:calls=(\d+)/.exec(await raw.info('commandstats'))?.[1] ?? 0);
    const key = a.lockKey('leased');
    let finish: (() => void) | undefined;
    const held = a.withLock('leased', () => new Promise<void>((resolve) => (finish = resolve)), { maxHoldMs: 60_000 });
    try {
      await waitFor(() => finish, { what: 'the lock to be held' });
      // Ten extensions seen (its lifetime going up again), a tick apart: the work outlived two leases.
      let extensions = 0;
      for (let last = lease; extensions < 10;) {
        const ttl = await raw.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(lease);
        if (ttl > last) extensions++;
        last = ttl;
        expect(await b.withLock('leased', async () => 'never', { waitMs: 0 })).toEqual({ acquired: false });
        await sleep(50);
      }
      finish!();
      expect(await held).toEqual({ acquired: true, value: undefined });
      expect(await raw.exists(key)).toBe(0);
      // Nothing extends it any more: no script runs in the next two leases (only the lock's run here; the other stores idle).
      const after = await evals();
      await sleep(2 * lease);
      expect(await evals()).toBe(after);
    } finally {
      finish?.();
      raw.disconnect();
    }
  });

  it("lets another replica take a lock whose holder was killed once its lease ran out, not the holder's longest hold", async () => {
    const raw = new Redis(redis.url);
    // The holder's lease is shorter than LOCK_LEASE_MS, which would be waited out here: the default lease a killed
    // replica leaves is the one test/e2e/session-lock-replica-killed.test.ts sees.
    const holderLease = 1_500;
    const holder = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/lock-holder.ts', redis.url, 'killed', String(holderLease)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    try {
      let output = '';
      holder.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => output.includes('held'), { what: 'the other process to hold the lock' });
      const key = store().lockKey('killed');
      // Killed once it extended its lease (the lock's lifetime went up again): mid-hold, as a replica killed mid-renewal.
      const first = await raw.pttl(key);
      expect(first).toBeLessThanOrEqual(LOCK_LEASE_MS);
      await waitFor(async () => (await raw.pttl(key)) > first, { what: 'the holder to extend its lease' });
      holder.kill('SIGKILL');
      await exited;
      expect(await raw.pttl(key)).toBeLessThanOrEqual(LOCK_LEASE_MS);
      const taken = await store().withLock('killed', async () => raw.pttl(key), { maxHoldMs: 60_000, waitMs: 60_000 });
      expect(taken.acquired).toBe(true);
      expect(taken.acquired && taken.value).toBeLessThanOrEqual(LOCK_LEASE_MS);
    } finally {
      holder.kill('SIGKILL');
      raw.disconnect();
    }
  }, 30_000);

  it('keeps working while its lease cannot be extended (Redis hangs), says so once, and lets go once Redis is back', async () => {
    const { logger, logs } = memoryLogger();
    const a = new RedisStore({ url: redis.url, sealer, commandTimeoutMs: 300, connectWaitMs: 200, lockLeaseMs: 600, logger });
    stores.push(a);
    await waitFor(() => a.health().reachable, { what: 'the store to connect' });
    const done = await a.withLock(
      'hung',
      async () => {
        redis.pause();
        try {
          // Several extensions tried, each timed out: the work goes on regardless.
          await sleep(1_500);
        } finally {
          redis.resume();
        }
        return 'done';
      },
      { maxHoldMs: 60_000 },
    );
    expect(done).toEqual({ acquired: true, value: 'done' });
    const warnings = logs.filter((line) => line.includes("session lock's lease could not be extended"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 'warn', reason: expect.stringMatching(/Command timed out/) });
    await waitFor(() => a.health().reachable, { what: 'the store to be reachable again' });
    await waitFor(async () => (await a.client.exists(a.lockKey('hung'))) === 0, { what: 'the lock to be released' });
  });

  it("never extends a lock another replica took once its holder's lease ran out, though the holder's extensions arrive late", async () => {
    // The holder reaches Redis through a hop that holds what it sends (a network path that stalls) until the other
    // replica took the lock; its extensions, timed out by then, arrive after that and find another holder's token.
    const hop = await startTcpHop({ port: redis.port });
    const holderLease = 1_500;
    const a = new RedisStore({
      url: `redis://127.0.0.1:${hop.port}`,
      sealer,
      commandTimeoutMs: 300,
      connectWaitMs: 300,
      lockLeaseMs: holderLease,
    });
    const b = new RedisStore({ url: redis.url, sealer, commandTimeoutMs: 1_000, lockLeaseMs: 20_000 });
    stores.push(a, b);
    const raw = new Redis(redis.url);
    const key = a.lockKey('taken-over');
    let finishA: (() => void) | undefined;
    let finishB: (() => void) | undefined;
    try {
      await waitFor(() => a.health().reachable, { what: 'the holder to connect' });
      const heldByA = a.withLock('taken-over', () => new Promise<void>((resolve) => (finishA = resolve)), { maxHoldMs: 60_000 });
      await waitFor(() => finishA, { what: 'the first holder to have the lock' });
      hop.hold();
      const heldByB = b.withLock('taken-over', () => new Promise<void>((resolve) => (finishB = resolve)), {
        maxHoldMs: 60_000,
        waitMs: 10_000,
      });
      await waitFor(() => finishB, { what: "the other replica to take the lock once the first holder's lease ran out" });
      const token = await raw.get(key);
      expect(hop.held()).toBeGreaterThan(0);
      hop.release();
      // Every command the holder sent while held has its answer: its late extensions have run.
      await waitFor(() => hop.held() === 0 && a.client.commandQueue.length === 0, { what: "the holder's late extensions to run" });
      expect(await raw.get(key)).toBe(token);
      // Still the other replica's own lease: the holder's would have cut it to its own.
      expect(await raw.pttl(key)).toBeGreaterThan(holderLease);
      finishA!();
      expect(await heldByA).toEqual({ acquired: true, value: undefined });
      // Its release leaves the other replica's lock too.
      expect(await raw.get(key)).toBe(token);
      finishB!();
      expect(await heldByB).toEqual({ acquired: true, value: undefined });
    } finally {
      hop.release();
      finishA?.();
      finishB?.();
      raw.disconnect();
      await hop.close();
    }
  });

  it('lets go of a lock whose work never ends once its longest hold and a lease passed, so that another replica takes it', async () => {
    const { logger, logs } = memoryLogger();
    const lease = 900;
    const maxHoldMs = 1_000;
    const a = new RedisStore({ url: redis.url, sealer, commandTimeoutMs: 200, connectWaitMs: 200, lockLeaseMs: lease, logger });
    stores.push(a);
    let started = false;
    // Never settles: a holder stuck in its work.
    void a.withLock('stuck', () => new Promise<never>(() => (started = true)), { maxHoldMs });
    await waitFor(() => started, { what: 'the stuck holder to have the lock' });
    const taken = await store().withLock('stuck', async () => 'renewed', { waitMs: maxHoldMs + 2 * lease });
    expect(taken).toEqual({ acquired: true, value: 'renewed' });
    expect(logs.some((line) => line.includes('held for its longest hold'))).toBe(true);
  });

  it('keeps a lock through one extension that Redis never ran, failing only after its command timeout', async () => {
    // The old timing lost it: an extension every third of the lease, one at a time, so that one failing after a command
    // timeout of more than two thirds of the lease held off the next until the lease had run out.
    const lease = 3_000;
    const commandTimeoutMs = 2_100;
    const a = new RedisStore({ url: redis.url, sealer, commandTimeoutMs, connectWaitMs: 100, lockLeaseMs: lease });
    stores.push(a);
    await waitFor(() => a.health().reachable, { what: 'the store to connect' });
    let finish: (() => void) | undefined;
    const held = a.withLock('one-lost', () => new Promise<void>((resolve) => (finish = resolve)), { maxHoldMs: 60_000 });
    await waitFor(() => finish, { what: 'the lock to be held' });
    // Its first extension never reaches Redis: no answer, then the client's timeout (as a command lost with its connection).
    let lost = false;
    vi.spyOn(a.client, 'eval').mockImplementationOnce(() => {
      lost = true;
      return new Promise((_, reject) => setTimeout(() => reject(new Error('Command timed out')), commandTimeoutMs));
    });
    try {
      // For a lease and more, while the work runs, another replica finds the lock held.
      expect(await store().withLock('one-lost', async () => 'never', { waitMs: lease + 1_000 })).toEqual({ acquired: false });
      expect(lost).toBe(true);
    } finally {
      finish?.();
    }
    expect(await held).toEqual({ acquired: true, value: undefined });
  });

  it('sends what a refusal must undo once while Redis hangs, not again with each check of whether it is back', async () => {
    const s = new RedisStore({ url: redis.url, sealer, commandTimeoutMs: 300 });
    stores.push(s);
    await waitFor(() => s.health().reachable, { what: 'the store to connect' });
    const queued = (name: string) =>
      (s as unknown as { client: Redis }).client.commandQueue.toArray().filter((item) => item.command.name === name).length;
    redis.pause();
    try {
      const refusals = 50;
      const codes = Array.from({ length: refusals }, (_, i) => `hung-${i}`);
      const answers = await Promise.allSettled(codes.map((code) => s.consumeOnce(code, 60_000)));
      expect(answers.every((answer) => answer.status === 'rejected')).toBe(true);
      // Several checks of whether Redis is back (each a write that waits in the queue), then the undos counted.
      const before = queued('set');
      await waitFor(() => queued('set') >= before + 4, { what: 'the store to check four times' });
      expect(queued('eval')).toBeLessThanOrEqual(refusals);
    } finally {
      redis.resume();
    }
    await waitFor(() => s.health().reachable, { what: 'the store to be reachable once Redis answers again' });
    expect(await s.consumeOnce('hung-0', 60_000)).toBe(true);
  });

  it('fails fast while Redis is stopped, recovers by itself, and keeps what was written before', async () => {
    // Refused after a short wait for the connection: each refusal below waits it out.
    const a = store({ connectWaitMs: 200 });
    await a.set('before-outage', session({ expiresAt: Date.now() + 600_000 }));
    await redis.stop();
    // Refused while Redis is still stopped: a store that queued commands until Redis is back would hang here.
    await expect(a.get('before-outage')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(a.set('during', session())).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(a.health().reachable).toBe(false);
    // Requests at once while the connection is being made again: they wait on one listener, not one each (past ten,
    // Node.js warns of a leak on standard error, in the middle of the JSON logs).
    const listeners = a.client.listenerCount('ready');
    const waiting = Array.from({ length: 20 }, () => a.get('before-outage').catch((err: unknown) => err));
    expect(a.client.listenerCount('ready')).toBe(listeners);
    for (const outcome of await Promise.all(waiting)) expect(outcome).toBeInstanceOf(StoreUnavailableError);
    await redis.restart();
    await waitFor(() => a.health().reachable, { what: 'the store to reconnect' });
    expect((await a.get('before-outage'))?.accessToken).toBe('ACCESS-TOKEN-VALUE');
  });
});

describe('RedisStore against a redis-server that reads its data back slowly after a restart', () => {
  // Each key read back takes 100 ms, and the server handles its clients between keys: it answers LOADING meanwhile.
  const SLOW_LOADING = ['--key-load-delay', '100000', '--loading-process-events-interval-bytes', '1024'];
  let redis: TestRedis;
  let store: RedisStore;

  beforeAll(async () => {
    redis = await startRedis({ args: SLOW_LOADING });
    store = new RedisStore({ url: redis.url, sealer: new Sealer(randomKey()), commandTimeoutMs: 1_000 });
  });

  afterAll(async () => {
    await store?.close();
    await redis?.close();
  });

  it('becomes reachable once the data is loaded, and makes the update it missed', async () => {
    await store.set('kept', session({ expiresAt: Date.now() + 600_000 }));
    // Forty keys in the snapshot the restart reads: about four seconds of LOADING, longer than the client's longest
    // pause between reconnection attempts (2 s), so the store connects while Redis still loads.
    const raw = new Redis(redis.url);
    await raw.mset(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`filler:${i}`, randomBytes(300).toString('base64')])));
    await raw.bgrewriteaof();
    await waitFor(
      async () => {
        const persistence = await raw.info('persistence');
        return persistence.includes('aof_rewrite_in_progress:0') && persistence.includes('aof_rewrite_scheduled:0');
      },
      { what: 'the snapshot to be written' },
    );
    raw.disconnect();
    await redis.stop();
    await expect(store.update('kept', session({ accessToken: 'RENEWED', expiresAt: Date.now() + 600_000 }))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    // Watched from before the restart: the restart's own wait ends only once Redis answers PING, after the loading, and a
    // store that verified its connection at that moment has nothing left to say about it.
    const sawLoading = waitFor(() => store.health().problem?.includes('LOADING'), {
      what: 'the store to say Redis is loading its data',
      timeout: 30_000,
    });
    await redis.restart();
    await sawLoading;
    await waitFor(() => store.health().reachable, { what: 'the store to be reachable after Redis loaded its data' });
    expect((await store.get('kept'))?.accessToken).toBe('RENEWED');
  });
});

describe('RedisStore against a redis-server out of memory', () => {
  // Every write refused (noeviction), while reads and PINGs are still answered: an instance at its memory limit.
  let redis: TestRedis;
  let store: RedisStore;
  let raw: Redis;

  beforeAll(async () => {
    redis = await startRedis({ args: ['--maxmemory', '3mb', '--maxmemory-policy', 'noeviction'] });
    store = new RedisStore({ url: redis.url, sealer: new Sealer(randomKey()), commandTimeoutMs: 1_000 });
    raw = new Redis(redis.url);
  });

  afterAll(async () => {
    raw?.disconnect();
    await store?.close();
    await redis?.close();
  });

  it('is unreachable, saying why, while Redis refuses writes, and reachable again once it takes them', async () => {
    await store.set('before', session({ expiresAt: Date.now() + 600_000 }));
    // Filled up to the last few bytes: large values first, then small ones, until Redis refuses even those.
    for (const size of [10_000, 10]) {
      for (let i = 0; ; i++) {
        const full = await raw.set(`filler:${size}:${i}`, 'x'.repeat(size)).then(
          () => false,
          () => true,
        );
        if (full) break;
      }
    }
    // Redis lets go of the refused command's buffers, which can bring it back under its limit for the next write (a CI run
    // saw the store's write taken): the limit goes below what it holds, so that every write is refused until it is raised.
    const used = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))?.[1]);
    await raw.config('SET', 'maxmemory', String(Math.floor(used / 2)));
    await expect(store.set('during', session())).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(store.health()).toMatchObject({
      reachable: false,
      problem: expect.stringMatching(/cannot be reached: OOM command not allowed/),
    });
    await raw.config('SET', 'maxmemory', '3mb');
    await raw.flushall();
    await waitFor(() => store.health().reachable, { what: 'the store to be reachable once Redis takes writes again' });
    await store.set('after', session());
    expect((await store.get('after'))?.accessToken).toBe('ACCESS-TOKEN-VALUE');
  });
});

describe('RedisStore when its Redis becomes a replica, as the old primary of a failover does', () => {
  let primary: TestRedis;
  let other: TestRedis;
  let store: RedisStore;
  let raw: Redis;

  beforeAll(async () => {
    [primary, other] = await Promise.all([startRedis(), startRedis()]);
    store = new RedisStore({ url: primary.url, sealer: new Sealer(randomKey()), commandTimeoutMs: 1_000 });
    raw = new Redis(primary.url);
  });

  afterAll(async () => {
    raw?.disconnect();
    await store?.close();
    await Promise.all([primary?.close(), other?.close()]);
  });

  const connectionsReceived = async () => Number(/total_connections_received:(\d+)/.exec(await raw.info('stats'))![1]);

  it('connects anew on READONLY, where a new connection finds the new primary, and takes writes once it has one', async () => {
    await store.set('before', session());
    const connections = await connectionsReceived();
    await raw.replicaof('127.0.0.1', String(other.port));
    await expect(store.set('during', session())).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(store.health()).toMatchObject({ reachable: false, problem: expect.stringMatching(/READONLY/) });
    // Kept on the one connection, the store would wait on it for as long as the old primary lives.
    await waitFor(async () => (await connectionsReceived()) > connections, { what: 'the store to connect anew' });
    await raw.replicaof('NO', 'ONE');
    await waitFor(() => store.health().reachable, { what: 'the store to be reachable once Redis takes writes again' });
    await store.set('after', session());
    expect((await store.get('after'))?.accessToken).toBe('ACCESS-TOKEN-VALUE');
  });
});

describe('SessionManager', () => {
  it('hands out sealed tickets and ends expired or tampered sessions', async () => {
    const store = new MemoryStore();
    // The manager's own clock, moved past the lifetime while the store still holds the session (it expires it by real time).
    let now = Date.now();
    const manager = new SessionManager({ store, sealer: new Sealer(randomKey()), maxLifetimeMs: 60_000, now: () => now });
    const { ticket, id } = await manager.create({ user: { oid: 'o' }, accessToken: 't', accessTokenExpiresAt: Date.now() + 1000 });
    expect(ticket).not.toContain(id);
    expect((await manager.load(ticket))?.id).toBe(id);
    // One character changed in the middle, where each carries six bits of the sealed bytes: the end's may carry padding.
    const middle = Math.floor(ticket.length / 2);
    const tampered = `${ticket.slice(0, middle)}${ticket[middle] === 'A' ? 'B' : 'A'}${ticket.slice(middle + 1)}`;
    expect(await manager.load(tampered)).toBeUndefined();
    expect(await manager.load(undefined)).toBeUndefined();
    now += 60_000;
    expect(await manager.load(ticket)).toBeUndefined();
    expect(await store.get(id)).toBeUndefined();
    await store.close();
  });
});
