/**
 * Limits per address against a client with an IPv6 block: a host or a home gets a /64 and picks addresses in it at will, so
 * each new address would start its limits afresh. Counted by the /64, the block's requests are one client's; another block,
 * and IPv4 clients, count apart. Reached through a proxy on loopback (TRUST_PROXY_HOPS=1), as on NAIS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { TRUST_PROXY_HOPS: '1', RATE_LIMIT_MAX: '4', RATE_LIMIT_LOGIN_MAX: '3' } });
});

afterAll(async () => {
  await stack?.close();
});

const appToken = (from: string) =>
  fetch(`${stack.url}/api/public/m2m`, {
    method: 'POST',
    headers: { 'x-forwarded-for': from },
    body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app' }),
  }).then((res) => res.status);

const loginStart = (from: string) =>
  fetch(`${stack.url}/oauth2/login`, { headers: { 'x-forwarded-for': from }, redirect: 'manual' }).then((res) => res.status);

describe('a client that changes its IPv6 address within its /64', () => {
  it('is counted as one by the public endpoints’ limit', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push(await appToken(`2001:db8:1:2::${i.toString(16)}`));
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(await appToken('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(429);
    expect(await appToken('2001:db8:1:3::1')).toBe(200);
    expect(await appToken('198.51.100.7')).toBe(200);
  });

  it('is counted as one by the limit on logins started', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) statuses.push(await loginStart(`2001:db8:5:6:${i}::1`));
    expect(statuses).toEqual([302, 302, 302, 429]);
    expect(await loginStart('2001:db8:5:7::1')).toBe(302);
  });
});
