/**
 * Two replicas as processes of their own, sharing one Redis: the one renewing an employee's session is killed (SIGKILL,
 * as an out-of-memory kill or a drained node does) while its refresh is held at the identity provider. The lock it leaves
 * is a lease of a few seconds, not the longest refresh; the other replica renews the session and answers with a token.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { LOCK_LEASE_MS } from '../../src/session/redis-store.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { login } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

const SECRET = 'test-secret-for-a-killed-replica';
/** Short, so that the employee token runs out by real time: the replicas' clocks are their own. */
const LIFETIME_SECONDS = 3;

let redis: TestRedis;
let raw: Redis;
let emulator: Emulator;
let proxy: FaultProxy;
const replicas: Replica[] = [];

interface Replica {
  url: string;
  output: () => string;
  kill(): Promise<void>;
}

/** A replica (src/main.ts) on `port`, against the emulator through the proxy and the shared Redis, once it is ready. */
async function startReplica(port: number, shared: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      ...shared,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AZURE_APP_CLIENT_ID: emulator.clientIdFor('dev-gcp:nais:azure-token-generator'),
      AZURE_APP_CLIENT_SECRET: SECRET,
      AZURE_APP_WELL_KNOWN_URL: emulator.wellKnownUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://localhost:${port}`;
  const replica = {
    url,
    output: () => output,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
  replicas.push(replica);
  const ready = () =>
    fetch(`${url}/internal/isready`).then(
      (r) => r.status === 200,
      () => false,
    );
  await waitFor(ready, { what: `the replica on ${port} to be ready`, timeout: 30_000 });
  return replica;
}

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
  const emulatorPort = await freePort();
  proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, await freePort());
  emulator = await startEmulator({ port: emulatorPort, publicUrl: proxy.url, accessTokenLifetimeSeconds: LIFETIME_SECONDS });
  const ports = [await freePort(), await freePort()];
  emulator.registerClient({
    target: 'dev-gcp:nais:azure-token-generator',
    secrets: [SECRET],
    redirectUris: ports.map((port) => `http://localhost:${port}/oauth2/callback`),
  });
  const shared = { REDIS_URL: redis.url, SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  await Promise.all(ports.map((port) => startReplica(port, shared)));
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.kill()));
  raw?.disconnect();
  await proxy?.close();
  await emulator?.close();
  await redis?.close();
});

const isRefresh = ({ path, body }: { path: string; body: string }) => path.endsWith('/token') && body.includes('grant_type=refresh_token');

const obo = (url: string, cookie: string) =>
  fetch(`${url}/api/obo?aud=dev-gcp:team:app`, { headers: { cookie, accept: 'application/json' } });

async function tokenExpiry(url: string, cookie: string): Promise<number> {
  const session = (await (await fetch(`${url}/oauth2/session`, { headers: { cookie } })).json()) as { access_token_expires_at: string };
  return Date.parse(session.access_token_expires_at);
}

describe('a replica killed while it renews a session', () => {
  it('leaves a lock that lasts a lease, and the other replica renews the session and answers with a token', async () => {
    const [renewing, other] = replicas as [Replica, Replica];
    const cookie = await login(renewing.url);
    const expiresAt = await tokenExpiry(other.url, cookie);
    // Run out: a request waits for the renewal rather than going on with the token it has.
    await waitFor(() => Date.now() > expiresAt + 200, { what: 'the employee token to run out', timeout: 3 * LIFETIME_SECONDS * 1000 });
    proxy.holdWhen = isRefresh;
    const waiting = obo(renewing.url, cookie).catch(() => undefined);
    await waitFor(() => proxy.held === 1, { what: 'the renewal to reach the identity provider' });
    const [lock] = await raw.keys('*lock:*');
    expect(lock).toBeDefined();
    expect(await raw.pttl(lock!)).toBeLessThanOrEqual(LOCK_LEASE_MS);
    await renewing.kill();
    await waiting;
    // The held renewal is never forwarded: the refresh token it carries stays unused, as a killed replica's would be.
    proxy.holdWhen = undefined;
    const refreshes = emulator.stats.byGrant.refresh_token ?? 0;

    const answer = await obo(other.url, cookie);
    expect(answer.status, other.output()).toBe(200);
    expect(((await answer.json()) as { access_token: string }).access_token.split('.')).toHaveLength(3);
    expect(emulator.stats.byGrant.refresh_token).toBe(refreshes + 1);
    expect(await tokenExpiry(other.url, cookie)).toBeGreaterThan(expiresAt);
  }, 60_000);
});
