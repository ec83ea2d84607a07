import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

const started: Stack[] = [];
const servers: TestRedis[] = [];

afterAll(async () => {
  for (const stack of started) await stack.close();
  for (const redis of servers) await redis.close();
});

async function stackWith(redisUrl: string): Promise<Stack> {
  const stack = await startStack({ env: { REDIS_URL: redisUrl } });
  started.push(stack);
  return stack;
}

async function readiness(stack: Stack): Promise<{ status: number; text: string }> {
  const res = await fetch(`${stack.url}/internal/isready`);
  return { status: res.status, text: await res.text() };
}

/** Readiness once the store had its first chance to connect (and to fail: with the reason `failure` when given). */
async function settledReadiness(stack: Stack, wanted: number, failure = /cannot be reached/): Promise<{ status: number; text: string }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await readiness(stack);
    if ((answer.status === wanted && (wanted === 200 || failure.test(answer.text))) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function health(stack: Stack) {
  return (await (await fetch(`${stack.url}/internal/health`)).json()) as {
    session_store: { reachable: boolean; reached_once: boolean; problem: string | null };
  };
}

const storeUp = async (stack: Stack) => /session_store_up (\d)/.exec(await (await fetch(`${stack.url}/internal/metrics`)).text())?.[1];

describe('the session store at start-up', () => {
  it('unreachable: not ready, with a message naming REDIS_URL, in the readiness answer and once at error in the log', async () => {
    const stack = await stackWith(`redis://127.0.0.1:${await freePort()}`);
    const ready = await settledReadiness(stack, 503);
    expect(ready.status).toBe(503);
    expect(ready.text).toMatch(/^not ready: REDIS_URL: the session store \(Redis at 127\.0\.0\.1:\d+\) cannot be reached: .*ECONNREFUSED/);
    const errors = stack.logs.filter((line) => line.includes('"level":"error"') && line.includes('REDIS_URL'));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatch(/check REDIS_URL/);
    // App tokens need no store.
    expect((await fetch(`${stack.url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:a:b' }) })).status).toBe(
      200,
    );
    expect(await storeUp(stack)).toBe('0');
  });

  it('with wrong credentials: not ready, naming REDIS_URL and the refusal, never the password', async () => {
    const redis = await startRedis({ password: 'the-right-password' });
    servers.push(redis);
    const stack = await stackWith(`redis://:not-the-password@127.0.0.1:${redis.port}`);
    // Connected but not yet refused, it is not ready either ("not connected yet").
    const ready = await settledReadiness(stack, 503, /WRONGPASS/);
    expect(ready.status).toBe(503);
    expect(ready.text).toMatch(/REDIS_URL: .*cannot be reached: WRONGPASS/);
    expect(ready.text).not.toContain('not-the-password');
    expect(stack.logs.join('\n')).not.toContain('not-the-password');
    expect((await health(stack)).session_store).toMatchObject({ reachable: false, reached_once: false });
  });
});

describe('the session store going away later', () => {
  it('leaves the replica ready, and says so in its health detail and metrics until it is back: stopped, or hung', async () => {
    const redis = await startRedis();
    servers.push(redis);
    const stack = await stackWith(redis.url);
    expect((await settledReadiness(stack, 200)).status).toBe(200);
    expect(await storeUp(stack)).toBe('1');
    await redis.stop();
    await waitFor(async () => !(await health(stack)).session_store.reachable, { what: 'the store to be seen unreachable' });
    const during = await readiness(stack);
    expect(during.status).toBe(200);
    expect(during.text).toMatch(/^ready \(sessions unavailable: REDIS_URL: /);
    const detail = (await health(stack)).session_store;
    expect(detail).toMatchObject({ reachable: false, reached_once: true });
    expect(detail.problem).toMatch(/^REDIS_URL: the session store \(Redis at 127\.0\.0\.1:\d+\) cannot be reached/);
    expect(await storeUp(stack)).toBe('0');
    await redis.restart();
    await waitFor(async () => (await health(stack)).session_store.reachable, { what: 'the store to be reached again' });
    expect(await readiness(stack)).toEqual({ status: 200, text: 'ready' });
    expect(await storeUp(stack)).toBe('1');
    // Hung, nothing closes the connection, and no request of anyone's waits on Redis: the readiness probes alone find out.
    redis.pause();
    try {
      const hung = await waitFor(
        async () => {
          const answer = await readiness(stack);
          return /^ready \(sessions unavailable: /.test(answer.text) ? answer : undefined;
        },
        { what: 'readiness to say that sessions are unavailable while Redis hangs' },
      );
      expect(hung.status).toBe(200);
      expect(hung.text).toMatch(/REDIS_URL: the session store \(Redis at 127\.0\.0\.1:\d+\) cannot be reached: Command timed out\)$/);
      expect((await health(stack)).session_store).toMatchObject({ reachable: false, reached_once: true });
      expect(await storeUp(stack)).toBe('0');
    } finally {
      redis.resume();
    }
    await waitFor(async () => (await readiness(stack)).text === 'ready', { what: 'readiness to be plain again once Redis answers' });
    expect(await storeUp(stack)).toBe('1');
  }, 40_000);
});
