/**
 * A tool's grant interrupted on its way to its first token: the identity provider failing while a code is redeemed or
 * an allowed device code is polled, and a replica killed with SIGKILL at that moment, the tool then going to the other
 * replica (both on one Redis). The grant is used up only by an answer ready to go, so the tool's retry gets its tokens,
 * as the failure's "try again" says. One replica runs as a process of its own (src/main.ts), to be killed; the other in
 * the test's process, where the device page's reading time and the poll interval pass by the clock.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import {
  allowedCode as allowedCodeAt,
  approveDevice,
  deviceAuthorization,
  poll,
  startLoopback,
  tokenRequest,
} from '../helpers/authorization-server.js';
import { installClock } from '../helpers/clock.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { login, logout } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { memoryLogger, storeReached } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

// Before the service starts: the device page's reading time and the poll interval pass by the clock.
const clock = installClock();
const TARGET = 'dev-gcp:my-team:my-app';
const GENERATOR = 'dev-gcp:nais:azure-token-generator';
const SECRET = 'test-secret-for-interrupted-grants';

let redis: TestRedis;
let emulator: Emulator;
let proxy: FaultProxy;
let env: Record<string, string>;
let inProcess: Service;
let loopback: Awaited<ReturnType<typeof startLoopback>>;
/** The in-process replica's log lines. */
let logs: string[];

/** An on-behalf-of request, the one that makes a tool's first token. */
const isOnBehalfOf = ({ path, body }: { path: string; body: string }) => path.endsWith('/token') && body.includes('jwt-bearer');

beforeAll(async () => {
  redis = await startRedis();
  const emulatorPort = await freePort();
  proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`);
  emulator = await startEmulator({ port: emulatorPort, publicUrl: proxy.url, logger: false });
  const port = await freePort();
  const clientId = emulator.registerClient({
    target: GENERATOR,
    secrets: [SECRET],
    redirectUris: [`http://localhost:${port}/oauth2/callback`],
  });
  env = {
    AZURE_APP_CLIENT_ID: clientId,
    AZURE_APP_CLIENT_SECRET: SECRET,
    AZURE_APP_WELL_KNOWN_URL: emulator.wellKnownUrl,
    REDIS_URL: redis.url,
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    IDP_RETRIES: '0',
  };
  const own = { ...env, PORT: String(port) };
  const memory = memoryLogger();
  logs = memory.logs;
  inProcess = await startService(loadConfig(own), own, { logger: memory.logger });
  await storeReached(inProcess.url);
  loopback = await startLoopback();
}, 60_000);

afterAll(async () => {
  loopback?.server.close();
  await inProcess?.close();
  await emulator?.close();
  await proxy?.close();
  await redis?.close();
});

/** The other replica, as a process of its own on the same Redis and key, once it is ready. */
async function replicaProcess(): Promise<{ url: string; kill(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  const ready = () =>
    fetch(`${url}/internal/isready`).then(
      (r) => r.status === 200,
      () => false,
    );
  await waitFor(ready, { what: 'the replica process to be ready', timeout: 30_000 });
  return {
    url,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A code the employee allowed on the in-process replica from the browser login `cookie`, and what the tool sends to redeem it. */
async function allowedCode(cookie?: string): Promise<Record<string, string>> {
  cookie ??= await login(inProcess.url);
  return allowedCodeAt(inProcess.url, cookie, { client: 'interrupted tool', redirectUri: loopback.redirectUri, scope: TARGET });
}

/** A device code the employee allowed on the in-process replica from the browser login `cookie`, not polled yet. */
async function allowedDevice(cookie?: string): Promise<string> {
  cookie ??= await login(inProcess.url);
  const started = await deviceAuthorization(inProcess.url);
  expect((await approveDevice(cookie, inProcess.url, started.user_code)).status).toBe(200);
  return started.device_code;
}

/** Sends `request` with its on-behalf-of call held at the identity provider, does `meanwhile` there, then lets the call go on. */
async function heldDuring<T>(request: () => Promise<T>, meanwhile: () => Promise<unknown>): Promise<T | undefined> {
  proxy.holdWhen = isOnBehalfOf;
  const sent = request().catch(() => undefined);
  try {
    await waitFor(() => proxy.held === 1, { what: 'the on-behalf-of call to reach the identity provider' });
    await meanwhile();
  } finally {
    proxy.holdWhen = undefined;
    proxy.release();
  }
  return sent;
}

/** As `heldDuring`, killing the replica meanwhile. */
async function killedDuring(request: () => Promise<unknown>, replica: { kill(): Promise<void> }): Promise<void> {
  await heldDuring(request, () => replica.kill());
}

/** `request` with the identity provider failing its on-behalf-of calls (HTTP 500), and only those. */
async function withOnBehalfOfFailing<T>(request: () => Promise<T>): Promise<T> {
  proxy.faultWhen = isOnBehalfOf;
  proxy.mode = 'error-500';
  try {
    return await request();
  } finally {
    proxy.mode = 'pass';
    proxy.faultWhen = undefined;
  }
}

const errorOf = async (res: Response) => ((await res.json()) as { error?: string }).error;

/** How many tools the home page lists as having access as the employee of the browser login `cookie` (the tests' one employee). */
async function toolsListed(cookie: string): Promise<number> {
  const home = await (await fetch(`${inProcess.url}/`, { headers: { cookie, accept: 'text/html' } })).text();
  return home.split('(its own name for itself)').length - 1;
}

describe('a browser login logged out while a tool it allowed gets its first token', () => {
  it('ends that tool too, which the logout found not yet listed: its answer is refused, and it is not listed', async () => {
    const cookie = await login(inProcess.url);
    const elsewhere = await login(inProcess.url);
    const listed = await toolsListed(elsewhere);
    const redeem = await allowedCode(cookie);
    const answer = await heldDuring(
      () => tokenRequest(inProcess.url, redeem),
      () => logout(inProcess.url, cookie),
    );
    expect(answer?.status).toBe(400);
    expect(((await answer!.json()) as { error: string }).error).toBe('invalid_grant');
    expect(await toolsListed(elsewhere)).toBe(listed);
  }, 60_000);

  it('from another browser, everywhere: ends that tool too, though the login that allowed it lives on', async () => {
    const cookie = await login(inProcess.url);
    const other = await login(inProcess.url);
    const redeem = await allowedCode(cookie);
    const answer = await heldDuring(
      () => tokenRequest(inProcess.url, redeem),
      async () => expect((await logout(inProcess.url, other, { everywhere: true })).status).toBe(200),
    );
    expect(answer?.status).toBe(400);
    expect(await errorOf(answer!)).toBe('invalid_grant');
    expect(await toolsListed(cookie)).toBe(0);
  }, 60_000);
});

describe('a failed first answer', () => {
  it('leaves the tool its code: redeemed again once the identity provider is well, it gets tokens', async () => {
    const redeem = await allowedCode();
    const failed = await withOnBehalfOfFailing(() => tokenRequest(inProcess.url, redeem));
    expect(failed.status).toBe(502);
    expect(await errorOf(failed)).toBe('server_error');
    const again = await tokenRequest(inProcess.url, redeem);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { refresh_token?: string }).refresh_token).toBeTruthy();
    // Used up now: a third redemption is a replay.
    expect(await errorOf(await tokenRequest(inProcess.url, redeem))).toBe('invalid_grant');
  });

  it('leaves the tool its allowed device code: its next poll gets tokens', async () => {
    const deviceCode = await allowedDevice();
    expect((await withOnBehalfOfFailing(() => poll(inProcess.url, deviceCode))).status).toBe(502);
    clock.advance(5_000);
    const again = await poll(inProcess.url, deviceCode);
    expect(again.status).toBe(200);
    expect(again.body.refresh_token).toBeTruthy();
    clock.advance(5_000);
    expect((await poll(inProcess.url, deviceCode)).body.error).toBe('invalid_grant');
  });
});

describe('a replica killed while it makes a tool its first token', () => {
  it('leaves the code to the other replica, and the employee sees the tool once', async () => {
    const cookie = await login(inProcess.url);
    const listed = await toolsListed(cookie);
    const redeem = await allowedCode(cookie);
    const replica = await replicaProcess();
    await killedDuring(() => tokenRequest(replica.url, redeem), replica);
    const again = await tokenRequest(inProcess.url, redeem);
    expect(again.status).toBe(200);
    // The session the killed replica started never reached the tool: not listed as a tool with access.
    expect(await toolsListed(cookie)).toBe(listed + 1);
  }, 60_000);

  it('leaves the allowed device code to the poll at the other replica, and the employee sees the tool once', async () => {
    const cookie = await login(inProcess.url);
    const listed = await toolsListed(cookie);
    const deviceCode = await allowedDevice(cookie);
    const replica = await replicaProcess();
    await killedDuring(() => poll(replica.url, deviceCode), replica);
    // The poll the killed replica took counts: the next comes after the interval.
    clock.advance(6_000);
    const again = await poll(inProcess.url, deviceCode);
    expect(again.status).toBe(200);
    expect(await toolsListed(cookie)).toBe(listed + 1);
  }, 60_000);

  it('leaves a refresh token good at the other replica when killed in the middle of its refresh', async () => {
    const redeemed = await tokenRequest(inProcess.url, await allowedCode());
    const { refresh_token: refreshToken } = (await redeemed.json()) as { refresh_token: string };
    const replica = await replicaProcess();
    // A process just started has no token cached: the refresh asks the identity provider.
    const refresh = { grant_type: 'refresh_token', refresh_token: refreshToken };
    await killedDuring(() => tokenRequest(replica.url, refresh), replica);
    const again = await tokenRequest(inProcess.url, refresh);
    expect(again.status).toBe(200);
  }, 60_000);
});

describe('a tool ended while its refresh is under way', () => {
  /** A tool's refresh that asks the identity provider for a fresh token (not the one cached), as a tool may. */
  const freshRefresh = (base: string, refreshToken: string) =>
    fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { 'cache-control': 'no-cache' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });

  async function toolOf(cookie: string): Promise<string> {
    const redeemed = await tokenRequest(inProcess.url, await allowedCode(cookie));
    return ((await redeemed.json()) as { refresh_token: string }).refresh_token;
  }

  it('revoked at the other replica: the refresh is refused, with no token handed out after the revocation', async () => {
    const cookie = await login(inProcess.url);
    const refreshToken = await toolOf(cookie);
    const listed = await toolsListed(cookie);
    const replica = await replicaProcess();
    try {
      const answer = await heldDuring(
        () => freshRefresh(inProcess.url, refreshToken),
        async () => {
          const revoked = await fetch(`${replica.url}/oauth2/revoke`, {
            method: 'POST',
            body: new URLSearchParams({ token: refreshToken }),
          });
          expect(revoked.status).toBe(200);
        },
      );
      expect(answer?.status).toBe(400);
      expect(await errorOf(answer!)).toBe('invalid_grant');
      expect(await toolsListed(cookie)).toBe(listed - 1);
    } finally {
      await replica.kill();
    }
  }, 60_000);

  it('its login logged out: the refresh is refused, with no token handed out after the logout', async () => {
    const cookie = await login(inProcess.url);
    const refreshToken = await toolOf(cookie);
    const answer = await heldDuring(
      () => freshRefresh(inProcess.url, refreshToken),
      async () => expect((await logout(inProcess.url, cookie)).status).toBe(200),
    );
    expect(answer?.status).toBe(400);
    expect(await errorOf(answer!)).toBe('invalid_grant');
  }, 60_000);
});

describe('a tool that gave up waiting for its answer (its own timeout) and sends the same request again', () => {
  /** `request` given up (its connection closed) while its on-behalf-of call is held at the identity provider. */
  async function givenUp(request: (signal: AbortSignal) => Promise<Response>): Promise<void> {
    const controller = new AbortController();
    const sent = request(controller.signal);
    await heldDuring(
      () => sent,
      async () => {
        controller.abort();
        await sent.catch(() => undefined);
      },
    );
  }
  const post = (path: string, params: Record<string, string>, signal?: AbortSignal, headers: Record<string, string> = {}) =>
    fetch(`${inProcess.url}${path}`, { method: 'POST', headers, body: new URLSearchParams(params), ...(signal ? { signal } : {}) });

  /** The requests to the token endpoint counted with `status`. */
  const counted = async (status: number) => {
    const text = await (await fetch(`${inProcess.url}/internal/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => /^http_requests_total\{/.test(l) && l.includes('route="/oauth2/token"') && l.includes(`status="${status}"`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('gets tokens for its code; the request it gave up is logged and counted, though never answered', async () => {
    const redeem = await allowedCode();
    const before = await counted(499);
    const lines = logs.length;
    await givenUp((signal) => post('/oauth2/token', redeem, signal));
    await waitFor(async () => (await counted(499)) === before + 1);
    const said = logs.slice(lines).filter((line) => line.includes('stopped waiting'));
    expect(said.map((line) => JSON.parse(line) as { grant?: string })).toMatchObject([{ grant: 'authorization_code' }]);
    const again = await tokenRequest(inProcess.url, redeem);
    expect(again.status).toBe(200);
  });

  it('gets tokens for its allowed device code', async () => {
    const deviceCode = await allowedDevice();
    const polled = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'k6 in a container', device_code: deviceCode };
    await givenUp((signal) => post('/oauth2/token', polled, signal));
    clock.advance(6_000);
    expect((await poll(inProcess.url, deviceCode)).status).toBe(200);
  });

  it('refreshes with its refresh token, and keeps its session', async () => {
    const redeemed = await tokenRequest(inProcess.url, await allowedCode());
    const { refresh_token: refreshToken } = (await redeemed.json()) as { refresh_token: string };
    const refresh = { grant_type: 'refresh_token', refresh_token: refreshToken };
    // A fresh token, so that the refresh asks the identity provider.
    await givenUp((signal) => post('/oauth2/token', refresh, signal, { 'cache-control': 'no-cache' }));
    const again = await tokenRequest(inProcess.url, refresh);
    expect(again.status).toBe(200);
    const next = ((await again.json()) as { refresh_token: string }).refresh_token;
    expect((await tokenRequest(inProcess.url, { grant_type: 'refresh_token', refresh_token: next })).status).toBe(200);
  });
});
