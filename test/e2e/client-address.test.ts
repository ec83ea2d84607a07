import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedHops, trustProxyOption } from '../../src/generator/http/client-address.js';

/** A Fastify server trusting `hops` proxies, answering the request's address as request.ip makes it. */
async function server(hops: number) {
  const app = Fastify(trustProxyOption(hops));
  app.get('/', async (request) => ({ fastify: request.ip }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

describe('the trust-proxy rule', () => {
  const servers = new Map<number, Awaited<ReturnType<typeof server>>>();
  beforeAll(async () => {
    for (const hops of [0, 1, 2]) servers.set(hops, await server(hops));
  });
  afterAll(async () => {
    for (const { app } of servers.values()) await app.close();
  });

  const addresses = async (hops: number, forwardedFor?: string) => {
    const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
    const response = await fetch(servers.get(hops)!.url, { headers });
    return (await response.json()) as { fastify: string };
  };

  it('trusts exactly the nearest hops', () => {
    expect([0, 1, 2, 3].map((hop) => trustedHops(2, ['10.0.0.0/8'])('10.0.0.1', hop))).toEqual([true, true, false, false]);
    expect(trustedHops(0)('127.0.0.1', 0)).toBe(false);
  });

  it('gives no trustProxy option at all without proxies', () => {
    expect(trustProxyOption(0)).toEqual({});
    expect(typeof trustProxyOption(1).trustProxy).toBe('function');
  });

  it('takes, with no proxy trusted, the socket address and ignores a forged X-Forwarded-For', async () => {
    expect(await addresses(0, '203.0.113.9')).toEqual({ fastify: '127.0.0.1' });
  });

  it('takes, behind one proxy, the address that proxy added, whatever the client put before it', async () => {
    expect(await addresses(1, '203.0.113.9, 198.51.100.7')).toEqual({ fastify: '198.51.100.7' });
    expect(await addresses(1)).toEqual({ fastify: '127.0.0.1' });
  });

  it('takes, behind two proxies, the address the farther one saw', async () => {
    // The nearer proxy's address is in the trusted ranges (loopback, by default).
    expect(await addresses(2, '192.0.2.1, 203.0.113.9, 127.0.0.2')).toEqual({ fastify: '203.0.113.9' });
    // Fewer addresses than trusted hops: the first one given.
    expect(await addresses(2, '198.51.100.7')).toEqual({ fastify: '198.51.100.7' });
  });
});

describe('X-Forwarded-For only from a trusted proxy', () => {
  it('takes a spoofed X-Forwarded-For from a client connecting directly as nothing: its socket address is the client', async () => {
    // The proxies are at 10.0.0.0/8; this test's client connects from 127.0.0.1, past them.
    const app = Fastify(trustProxyOption(1, ['10.0.0.0/8']));
    app.get('/', async (request) => ({ fastify: request.ip }));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const spoofed = await fetch(url, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(await spoofed.json()).toEqual({ fastify: '127.0.0.1' });
    } finally {
      await app.close();
    }
  });

  it('trusts a hop only when its address is in the ranges', () => {
    const trust = trustedHops(2, ['10.0.0.0/8', 'fc00::/7']);
    expect(trust('10.1.2.3', 0)).toBe(true);
    expect(trust('::ffff:10.1.2.3', 0)).toBe(true);
    expect(trust('fd00::1', 1)).toBe(true);
    expect(trust('203.0.113.9', 0)).toBe(false);
    expect(trust('10.1.2.3', 2)).toBe(false);
  });
});
