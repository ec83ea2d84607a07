/**
 * The cached-token lane answers `POST /api/public/m2m` for a cached token before Fastify sees the
 * request. Its answers must be the route's answers, and every request it does not answer must
 * reach the route as it came: these tests compare the two paths and count which one answered.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { RATE_LIMIT_MAX: '1000' } });
});

afterAll(async () => {
  await stack?.close();
});

const lane = () => stack.generator.lane;
const form = (aud: string, headers: Record<string, string> = {}, query = '') =>
  fetch(`${stack.url}/api/public/m2m${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: `aud=${aud}`,
  });

/** Runs `send` and says whether the lane answered it. */
async function viaLane(send: () => Promise<Response>): Promise<{ res: Response; body: string; lane: boolean }> {
  const before = lane().answered;
  const res = await send();
  const body = await res.text();
  return { res, body, lane: lane().answered === before + 1 };
}

/** The headers a client sees, without those that differ between any two responses. */
function stableHeaders(res: Response): Record<string, string> {
  const headers = Object.fromEntries(res.headers);
  delete headers.date;
  delete headers['x-correlation-id'];
  return headers;
}

/** A request on a raw socket; resolves with what the server wrote until it closed or went quiet. */
function rawRequest(parts: string[], gapMs = 0): Promise<string> {
  const { port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (/\r\n\r\n/.test(received) && received.includes('eyJ')) socket.end();
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const part of parts) {
        socket.write(part);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
    setTimeout(() => socket.destroy(), 3_000);
  });
}

describe('the cached-token lane', () => {
  it('answers a cached token with the same status, headers and body as the route', async () => {
    const first = await viaLane(() => form('dev-gcp:lane:same'));
    expect(first.res.status).toBe(200);
    expect(first.lane).toBe(false); // a miss: the route asked the identity provider
    const fromLane = await viaLane(() => form('dev-gcp:lane:same'));
    expect(fromLane.lane).toBe(true);
    // A query string keeps the request out of the lane: the route answers from the same cache.
    const fromRoute = await viaLane(() => form('dev-gcp:lane:same', {}, '?from=route'));
    expect(fromRoute.lane).toBe(false);
    expect(fromLane.res.status).toBe(200);
    expect(fromLane.body).toBe(first.body);
    expect(fromRoute.body).toBe(first.body);
    expect(stableHeaders(fromLane.res)).toEqual(stableHeaders(fromRoute.res));
    expect(stableHeaders(fromLane.res)).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': expect.stringContaining("default-src 'none'"),
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    expect(fromLane.res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers JSON to a client that prefers it, as the route does, and keeps the caller’s correlation id', async () => {
    await form('dev-gcp:lane:json');
    const headers = { accept: 'application/json', 'x-correlation-id': 'lane-json-1' };
    const fromLane = await viaLane(() => form('dev-gcp:lane:json', headers));
    const fromRoute = await viaLane(() => form('dev-gcp:lane:json', headers, '?from=route'));
    expect([fromLane.lane, fromRoute.lane]).toEqual([true, false]);
    expect(stableHeaders(fromLane.res)).toEqual(stableHeaders(fromRoute.res));
    expect(fromLane.res.headers.get('x-correlation-id')).toBe('lane-json-1');
    const [a, b] = [JSON.parse(fromLane.body), JSON.parse(fromRoute.body)] as { access_token: string; expires_in: number }[];
    expect(Object.keys(a!).sort()).toEqual(Object.keys(b!).sort());
    expect(a!.access_token).toBe(b!.access_token);
    expect(Math.abs(a!.expires_in - b!.expires_in)).toBeLessThanOrEqual(1);
  });

  it('takes the content types curl, fetch and others send, and leaves every other request to the route', async () => {
    await form('dev-gcp:lane:shapes');
    const cases: { name: string; send: () => Promise<Response>; lane: boolean; status: number }[] = [
      { name: 'curl -d', send: () => form('dev-gcp:lane:shapes'), lane: true, status: 200 },
      {
        name: 'fetch with URLSearchParams',
        send: () => fetch(`${stack.url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:lane:shapes' }) }),
        lane: true,
        status: 200,
      },
      {
        name: 'a charset in capitals',
        send: () => form('dev-gcp:lane:shapes', { 'content-type': 'Application/X-WWW-Form-Urlencoded; Charset=UTF-8' }),
        lane: true,
        status: 200,
      },
      {
        name: 'another charset',
        send: () => form('dev-gcp:lane:shapes', { 'content-type': 'application/x-www-form-urlencoded; charset=latin1' }),
        lane: false,
        status: 200,
      },
      {
        name: 'JSON',
        send: () =>
          fetch(`${stack.url}/api/public/m2m`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"aud":"dev-gcp:lane:shapes"}',
          }),
        lane: false,
        status: 200,
      },
      {
        name: 'the query',
        send: () => fetch(`${stack.url}/api/public/m2m?aud=dev-gcp:lane:shapes`, { method: 'POST' }),
        lane: false,
        status: 200,
      },
      {
        name: 'Cache-Control: no-cache',
        send: () => form('dev-gcp:lane:shapes', { 'cache-control': 'no-cache' }),
        lane: false,
        status: 200,
      },
      { name: 'a body over 1 KB', send: () => form(`dev-gcp:lane:shapes&pad=${'p'.repeat(1100)}`), lane: false, status: 200 },
      { name: 'a malformed audience', send: () => form('dev-gcp:lane'), lane: false, status: 400 },
      { name: 'the audience twice', send: () => form('dev-gcp:lane:shapes&aud=dev-gcp:lane:other'), lane: false, status: 400 },
      {
        name: 'a trailing slash',
        send: () => fetch(`${stack.url}/api/public/m2m/`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:lane:shapes' }) }),
        lane: false,
        status: 404,
      },
    ];
    for (const c of cases) {
      const result = await viaLane(c.send);
      expect({ name: c.name, lane: result.lane, status: result.res.status }).toEqual({ name: c.name, lane: c.lane, status: c.status });
    }
  });

  it('hands the route the body it read: the route reads the audience, or the reason it is wrong', async () => {
    const malformed = await viaLane(() => form('not-an-audience'));
    expect(malformed.lane).toBe(false);
    expect(malformed.res.status).toBe(400);
    expect(malformed.body).toContain('Invalid audience "not-an-audience"');
    const twice = await viaLane(() => form('dev-gcp:a:b&aud=dev-gcp:a:c'));
    expect(twice.body).toContain('sent more than once');
    // A miss: the route gets the audience from the body the lane read, and asks for a token once.
    const start = stack.emulator!.stats.tokenRequests;
    const requests = () => stack.emulator!.stats.tokenRequests - start;
    const miss = await viaLane(() => form('dev-gcp:lane:miss'));
    expect([miss.lane, miss.res.status, requests()]).toEqual([false, 200, 1]);
    expect((await viaLane(() => form('dev-gcp:lane:miss'))).lane).toBe(true);
    expect(requests()).toBe(1);
  });

  it('answers many requests that arrive together, each with its own correlation id', async () => {
    await form('dev-gcp:lane:burst');
    const before = lane().answered;
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => form('dev-gcp:lane:burst', { 'x-correlation-id': `burst-${i}` })),
    );
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(responses.map((r) => r.headers.get('x-correlation-id'))).toEqual(Array.from({ length: 100 }, (_, i) => `burst-${i}`));
    expect(new Set(bodies).size).toBe(1);
    expect(lane().answered - before).toBe(100);

    // Twenty requests pipelined on one connection are read in one turn of the event loop, and
    // their answers written together at its end: every one must go out, in order.
    const { port } = new URL(stack.url);
    const body = 'aud=dev-gcp:lane:burst';
    const request = (i: number) =>
      `POST /api/public/m2m HTTP/1.1\r\nHost: ${new URL(stack.url).host}\r\nX-Correlation-Id: piped-${i}\r\nContent-Type: ` +
      `application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const pipelinedBefore = lane().answered;
    const received = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(Array.from({ length: 20 }, (_, i) => request(i)).join('')));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(text);
      }, 2_000);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.split(bodies[0]!).length === 21) {
          clearTimeout(timer);
          socket.destroy();
          resolve(text);
        }
      });
    });
    expect(received.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(20);
    expect([...received.matchAll(/x-correlation-id: (piped-\d+)/g)].map((m) => m[1])).toEqual(
      Array.from({ length: 20 }, (_, i) => `piped-${i}`),
    );
    expect(lane().answered - pipelinedBefore).toBe(20);
  });

  it('reads a body that arrives in pieces, and survives a client that leaves mid-body', async () => {
    await form('dev-gcp:lane:pieces');
    const body = 'aud=dev-gcp:lane:pieces';
    const head =
      `POST /api/public/m2m HTTP/1.1\r\nHost: ${new URL(stack.url).host}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ` +
      `${body.length}\r\nConnection: close\r\n\r\n`;
    const before = lane().answered;
    const answer = await rawRequest([head, body.slice(0, 8), body.slice(8)], 50);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toContain('cache-control: no-store');
    expect(lane().answered).toBe(before + 1);
    // Headers and half a body, then gone: nothing is answered, nothing breaks.
    const { port } = new URL(stack.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(head + body.slice(0, 5));
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    const after = await viaLane(() => form('dev-gcp:lane:pieces'));
    expect([after.res.status, after.lane]).toEqual([200, true]);
  });

  it('counts its answers in http_requests_total and the cache hits, like the route', async () => {
    const metric = async (pattern: RegExp) => Number(pattern.exec(await (await fetch(`${stack.url}/internal/metrics`)).text())?.[1] ?? 0);
    const answered = /http_requests_total\{route="\/api\/public\/m2m",method="POST",status="200"\} (\d+)/;
    const hits = /token_cache_lookups_total\{cache="app",result="hit"\} (\d+)/;
    await form('dev-gcp:lane:counted');
    const [answeredBefore, hitsBefore, laneBefore] = [await metric(answered), await metric(hits), lane().answered];
    for (let i = 0; i < 5; i++) await form('dev-gcp:lane:counted');
    expect(lane().answered - laneBefore).toBe(5);
    expect(await metric(answered)).toBe(answeredBefore + 5);
    expect(await metric(hits)).toBe(hitsBefore + 5);
  });

  it('writes the same request line as the route, at debug, without the token', async () => {
    await form('dev-gcp:lane:logged');
    const res = await form('dev-gcp:lane:logged', { 'x-correlation-id': 'lane-logged-1', 'user-agent': 'lane-test' });
    const token = await res.text();
    const lines = stack.logs.filter((l) => l.includes('lane-logged-1')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'debug',
      msg: 'request completed',
      reqId: 'lane-logged-1',
      req: { id: 'lane-logged-1', method: 'POST', url: '/api/public/m2m', userAgent: 'lane-test' },
      res: { statusCode: 200 },
    });
    expect(typeof lines[0]!.responseTime).toBe('number');
    expect(stack.logs.some((l) => l.includes(token))).toBe(false);
  });

  it('steps aside while the service shuts down, so that the route closes the connection', async () => {
    await form('dev-gcp:lane:closing');
    stack.generator.readiness.shuttingDown = true;
    try {
      const closing = await viaLane(() => form('dev-gcp:lane:closing'));
      expect(closing.lane).toBe(false);
      expect(closing.res.status).toBe(200);
      expect(closing.res.headers.get('connection')).toBe('close');
    } finally {
      stack.generator.readiness.shuttingDown = false;
    }
    // Headers before shutdown begins, the body after: the route answers, and closes the connection.
    const body = 'aud=dev-gcp:lane:closing';
    const head =
      `POST /api/public/m2m HTTP/1.1\r\nHost: ${new URL(stack.url).host}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ` +
      `${body.length}\r\n\r\n`;
    const before = lane().answered;
    const { port } = new URL(stack.url);
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(head);
        setTimeout(() => {
          stack.generator.readiness.shuttingDown = true;
          socket.write(body);
        }, 50);
      });
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      setTimeout(() => socket.destroy(), 2_000);
    });
    stack.generator.readiness.shuttingDown = false;
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(lane().answered).toBe(before);
  });
});

describe('the cached-token lane and a small BODY_LIMIT_BYTES', () => {
  let small: Stack;

  beforeAll(async () => {
    small = await startStack({ env: { BODY_LIMIT_BYTES: '100' } });
  });

  afterAll(async () => {
    await small?.close();
  });

  it('leaves a body over the limit to the route, which refuses it as too large', async () => {
    const send = (body: string) =>
      fetch(`${small.url}/api/public/m2m`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await send('aud=dev-gcp:lane:small')).status).toBe(200);
    const answered = small.generator.lane.answered;
    expect((await send('aud=dev-gcp:lane:small')).status).toBe(200);
    expect(small.generator.lane.answered).toBe(answered + 1);
    const tooLarge = await send(`aud=dev-gcp:lane:small&pad=${'p'.repeat(300)}`);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.text()).toContain('too large');
    expect(small.generator.lane.answered).toBe(answered + 1);
  });
});

describe('the cached-token lane and the rate limit', () => {
  let limited: Stack;

  beforeAll(async () => {
    limited = await startStack({ env: { RATE_LIMIT_MAX: '3', TRUST_PROXY_HOPS: '1' } });
  });

  afterAll(async () => {
    await limited?.close();
  });

  const from = (address: string, aud = 'dev-gcp:lane:limited') =>
    fetch(`${limited.url}/api/public/m2m`, { method: 'POST', headers: { 'x-forwarded-for': address }, body: new URLSearchParams({ aud }) });

  it('counts every request once, whichever path answers it, per forwarded address', async () => {
    const answered = limited.generator.lane.answered;
    // 1: a miss, read by the lane and answered by the route; 2 and 3: the lane; 4: over the limit.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await from('10.0.0.1')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(limited.generator.lane.answered - answered).toBe(2);
    const refused = await from('10.0.0.1');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('Too many requests from your address');
    // Another address behind the same proxy has a window of its own, served by the lane.
    expect((await from('10.0.0.2')).status).toBe(200);
    expect(limited.generator.lane.answered - answered).toBe(3);
  });
});
