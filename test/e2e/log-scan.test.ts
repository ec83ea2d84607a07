/**
 * Runs every flow the service has, with logs at the most verbose level, and then looks for any
 * token, code, secret, assertion or key in any log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { launchChromium } from '../helpers/browser.js';
import { login, logout, startLogin } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';

// Before the services start: the employee token's lifetime passes by the clock, not by waiting.
const clock = installClock();
let stack: Stack;
let secretStack: Service;
let secretEmulator: Emulator;
let browser: Browser;
const secretLogs: string[] = [];
/** Every secret value seen during the flows. */
const secrets = new Set<string>();
const CLIENT_SECRET = 'log-scan-client-secret-value-123';

function remember(value: string | undefined | null) {
  if (value && value.length >= 8) secrets.add(value);
}

function rememberJwts(text: string) {
  for (const match of text.matchAll(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g)) remember(match[0]);
}

beforeAll(async () => {
  stack = await startStack({
    logLevel: 'trace',
    emulator: { unauthorizedTargets: ['dev-gcp:locked:api'], missingTargets: ['dev-gcp:ghost:api'], accessTokenLifetimeSeconds: 3 },
  });
  const auth = stack.identity.auth;
  if (auth.method === 'private_key_jwt') for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi']) remember(auth.jwk[field] as string);
  // A second generator that authenticates with a client secret.
  secretEmulator = await startEmulator();
  const port = await freePort();
  secretEmulator.registerClient({
    target: 'dev-gcp:nais:azure-token-generator',
    secrets: [CLIENT_SECRET],
    redirectUris: [`http://localhost:${port}/oauth2/callback`],
  });
  const env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    AZURE_APP_CLIENT_ID: secretEmulator.clientIdFor('dev-gcp:nais:azure-token-generator'),
    AZURE_APP_CLIENT_SECRET: CLIENT_SECRET,
    AZURE_APP_WELL_KNOWN_URL: secretEmulator.wellKnownUrl,
    LOG_LEVEL: 'trace',
  };
  const { logger, logs } = memoryLogger('trace');
  secretStack = await startService(loadConfig(env), env, { logger });
  secretLogs.push(...logs);
  Object.defineProperty(secretLogs, 'source', { value: logs });
  remember(CLIENT_SECRET);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await secretStack?.close();
  await secretEmulator?.close();
  await stack?.close();
});

async function run(base: string, init: RequestInit & { path: string }) {
  const res = await fetch(`${base}${init.path}`, { redirect: 'manual', ...init });
  const text = await res.text();
  rememberJwts(text);
  for (const cookie of res.headers.getSetCookie()) remember(cookie.split(';')[0]!.split('=').slice(1).join('='));
  const location = res.headers.get('location');
  if (location) for (const [key, value] of new URL(location, base).searchParams) if (key === 'code') remember(value);
  return res;
}

describe('logs', () => {
  it('contain no token, code, secret, assertion or key after every flow', async () => {
    for (const base of [stack.url, secretStack.url]) {
      for (const aud of [
        'dev-gcp:a:b',
        'dev-gcp.a.c',
        'api://dev-gcp.a.d/.default',
        'dev-gcp:locked:api',
        'dev-gcp:ghost:api',
        'bad audience',
      ]) {
        await run(base, { path: '/api/public/m2m', method: 'POST', body: new URLSearchParams({ aud }) });
        await run(base, {
          path: '/api/public/m2m',
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify({ aud }),
        });
      }
      const form = new FormData();
      form.set('aud', 'dev-gcp:a:multipart');
      await run(base, { path: '/api/public/m2m', method: 'POST', body: form });
      // Secrets sent by a caller in headers must not be logged either.
      await run(base, {
        path: '/api/public/m2m?aud=dev-gcp:a:b',
        method: 'POST',
        headers: { authorization: `Bearer ${[...secrets][0]}`, cookie: `__Host-tg_session=${[...secrets][0]}` },
      });
    }

    // Login by HTTP, with the session cookie and codes remembered.
    const cookie = await login(stack.url);
    remember(cookie.split('=').slice(1).join('='));
    for (const path of ['/api/obo?aud=dev-gcp:a:b', '/api/obo?aud=dev-gcp:locked:api', '/api/m2m?aud=dev-gcp:a:b', '/oauth2/session']) {
      await run(stack.url, { path, headers: { cookie, accept: 'text/html' } });
      await run(stack.url, { path, headers: { cookie, accept: 'application/json' } });
    }
    // The user token lives three seconds: wait for a refresh.
    clock.advance(2_300);
    await run(stack.url, { path: '/api/obo?aud=dev-gcp:a:refreshed', headers: { cookie, accept: 'application/json' } });
    const session = await stack.generator.sessions.manager.load(decodeURIComponent(cookie.split('=').slice(1).join('=')));
    remember(session?.data.refreshToken);
    remember(session?.data.accessToken);
    remember(session?.data.idToken);
    remember(session?.id);

    // Failed callbacks.
    const pending = await startLogin(stack.url);
    remember(new URL(pending.callbackUrl).searchParams.get('code'));
    remember(new URL(pending.callbackUrl).searchParams.get('state'));
    remember(pending.loginCookie.split('=').slice(1).join('='));
    await run(stack.url, {
      path: new URL(pending.callbackUrl).pathname + new URL(pending.callbackUrl).search.replace('state=', 'state=x'),
      headers: { cookie: pending.loginCookie },
    });
    await run(stack.url, { path: `/oauth2/callback?code=${[...secrets][1]}&state=abc` });
    await run(stack.url, { path: '/oauth2/logout', headers: { cookie } });
    await logout(stack.url, cookie);

    // A real browser login on the generator that uses a client secret.
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${secretStack.url}/api/obo?aud=dev-gcp:team:app`);
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(`${secretStack.url}/api/obo?aud=dev-gcp:team:app`);
    rememberJwts((await page.locator('#access-token').textContent()) ?? '');

    const lines = [...stack.logs, ...((secretLogs as unknown as { source: string[] }).source ?? [])];
    expect(lines.length).toBeGreaterThan(100);
    expect(secrets.size).toBeGreaterThan(20);
    const leaks: string[] = [];
    for (const line of lines) {
      if (/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./.test(line)) leaks.push(`JWT in: ${line.slice(0, 200)}`);
      for (const secret of secrets) {
        if (line.includes(secret))
          leaks.push(`secret ${createHash('sha256').update(secret).digest('hex').slice(0, 8)} in: ${line.slice(0, 200)}`);
      }
      if (/-----BEGIN|"d":"/.test(line)) leaks.push(`key material in: ${line.slice(0, 200)}`);
    }
    expect(leaks).toEqual([]);
  }, 60_000);
});
