/**
 * A client that connects directly, past the proxy, and writes its own X-Forwarded-For: with
 * TRUST_PROXY_HOPS=1 and the proxies elsewhere (TRUSTED_PROXIES), it is its socket's address, so it
 * neither resets its rate limit at will nor chooses the address the device page shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../helpers/http-login.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { TRUST_PROXY_HOPS: '1', TRUSTED_PROXIES: '10.0.0.0/8', RATE_LIMIT_MAX: '4' } });
});

afterAll(async () => {
  await stack?.close();
});

describe('a spoofed X-Forwarded-For from a direct connection', () => {
  it('does not choose the address the device page shows', async () => {
    const cookie = await login(stack.url);
    const res = await fetch(`${stack.url}/oauth2/device_authorization`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '198.51.100.23' },
      body: new URLSearchParams({ client_id: 'k6', scope: 'dev-gcp:my-team:my-app' }),
    });
    const { user_code } = (await res.json()) as { user_code: string };
    const page = await (await fetch(`${stack.url}/oauth2/device?user_code=${user_code}`, { headers: { cookie } })).text();
    expect(page).toContain('<code>127.0.0.1</code>');
    expect(page).not.toContain('198.51.100.23');
  });

  it('does not reset the per-address limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${stack.url}/api/public/m2m`, {
        method: 'POST',
        headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
        body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app' }),
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});
