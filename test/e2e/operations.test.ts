import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, logout } from '../helpers/http-login.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: { RATE_LIMIT_MAX: '40', RATE_LIMIT_WINDOW_SECONDS: '60' },
    emulator: { unauthorizedTargets: ['dev-gcp:locked:api'] },
  });
});

afterAll(async () => {
  await stack?.close();
});

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${stack.url}/internal/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').pop());
  }
  return total;
}

const m2m = (aud: string) => fetch(`${stack.url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud }) });

describe('metrics at /internal/metrics', () => {
  it('count requests by route and status', async () => {
    const before = await metric('http_requests_total', { route: '/api/public/m2m', method: 'POST', status: '400' });
    await m2m('not an audience');
    expect(await metric('http_requests_total', { route: '/api/public/m2m', method: 'POST', status: '400' })).toBe(before + 1);
  });

  it('count token requests by grant and outcome, with the AADSTS code, and time them', async () => {
    const ok = await metric('idp_token_requests_total', { grant: 'client_credentials', outcome: 'success' });
    const refused = await metric('idp_token_requests_total', { grant: 'client_credentials', outcome: 'rejected', aadsts: '501051' });
    const timed = await metric('idp_token_request_duration_seconds_count', { grant: 'client_credentials' });
    await m2m('dev-gcp:metrics:fresh-app');
    await m2m('dev-gcp:locked:api');
    expect(await metric('idp_token_requests_total', { grant: 'client_credentials', outcome: 'success' })).toBe(ok + 1);
    expect(await metric('idp_token_requests_total', { grant: 'client_credentials', outcome: 'rejected', aadsts: '501051' })).toBe(
      refused + 1,
    );
    expect(await metric('idp_token_request_duration_seconds_count', { grant: 'client_credentials' })).toBe(timed + 2);
  });

  it('count cache hits and misses', async () => {
    const misses = await metric('token_cache_lookups_total', { cache: 'app', result: 'miss' });
    const hits = await metric('token_cache_lookups_total', { cache: 'app', result: 'hit' });
    await m2m('dev-gcp:metrics:cached');
    await m2m('dev-gcp:metrics:cached');
    expect(await metric('token_cache_lookups_total', { cache: 'app', result: 'miss' })).toBe(misses + 1);
    expect(await metric('token_cache_lookups_total', { cache: 'app', result: 'hit' })).toBe(hits + 1);
  });

  it('count logins started and completed, sessions started and ended', async () => {
    const started = await metric('logins_total', { event: 'started' });
    const completed = await metric('logins_total', { event: 'completed' });
    const sessions = await metric('sessions_total', { event: 'started' });
    const ended = await metric('sessions_total', { event: 'ended' });
    const cookie = await login(stack.url);
    expect(await metric('logins_total', { event: 'started' })).toBe(started + 1);
    expect(await metric('logins_total', { event: 'completed' })).toBe(completed + 1);
    expect(await metric('sessions_total', { event: 'started' })).toBe(sessions + 1);
    const obo = await metric('token_cache_lookups_total', { cache: 'employee', result: 'miss' });
    await fetch(`${stack.url}/api/obo?aud=dev-gcp:a:b`, { headers: { cookie } });
    expect(await metric('token_cache_lookups_total', { cache: 'employee', result: 'miss' })).toBe(obo + 1);
    expect(await metric('idp_token_requests_total', { grant: 'on_behalf_of', outcome: 'success' })).toBeGreaterThanOrEqual(1);
    await logout(stack.url, cookie);
    expect(await metric('sessions_total', { event: 'ended' })).toBe(ended + 1);
  });

  it('count in sessions_total the sessions kept in the store, and say that the headless route’s one-token sessions are not', async () => {
    const text = await (await fetch(`${stack.url}/internal/metrics`)).text();
    expect(text).toContain(
      '# HELP sessions_total Events of the sessions kept in the session store (an employee’s login in a browser, a tool’s): ' +
        'started, refreshed, ended. The headless route’s one-token sessions are never stored and not counted.',
    );
    const events = async () => Promise.all(['started', 'refreshed', 'ended'].map((event) => metric('sessions_total', { event })));
    const before = await events();
    const headless = await fetch(`${stack.url}/api/public/obo`, {
      method: 'POST',
      body: new URLSearchParams({ aud: 'dev-gcp:metrics:headless', NAVident: 'Z990001' }),
    });
    expect(headless.status).toBe(200);
    expect(await events()).toEqual(before);
  });

  it('count failed logins', async () => {
    const failed = await metric('logins_total', { event: 'failed' });
    await fetch(`${stack.url}/oauth2/callback?code=x&state=y`);
    expect(await metric('logins_total', { event: 'failed' })).toBe(failed + 1);
  });
});

describe('headers', () => {
  it('HTML pages carry a strict Content-Security-Policy and no referrer', async () => {
    const res = await fetch(`${stack.url}/oauth2/logged-out`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).not.toMatch(/<script>|<style>|style="/);
  });

  it('every response, token, 404 or HTML error page, carries the fixed headers and its correlation id', async () => {
    const responses = [
      await m2m('dev-gcp:headers:app'),
      await fetch(`${stack.url}/no/such/path`),
      await fetch(`${stack.url}/api/obo?aud=bad`, { headers: { accept: 'text/html', 'x-correlation-id': 'caller-chosen-1' } }),
    ];
    for (const res of responses) {
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-correlation-id')).toMatch(/^[A-Za-z0-9._:-]+$/);
    }
    expect(responses[2]!.headers.get('x-correlation-id')).toBe('caller-chosen-1');
    expect(await responses[2]!.text()).toContain('caller-chosen-1');
  });

  it('every response with a token or session data says no-store', async () => {
    for (const res of [await m2m('dev-gcp:headers:app'), await fetch(`${stack.url}/oauth2/session`)]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });
});

describe('the request log', () => {
  it('writes one line a request: successes at debug, failures at info, with the URL redacted', async () => {
    const ok = await m2m('dev-gcp:logged:app');
    const bad = await fetch(`${stack.url}/api/public/m2m?code=secret-code-value`, {
      method: 'POST',
      body: new URLSearchParams({ aud: 'no good' }),
    });
    const lines = stack.logs.map(
      (l) => JSON.parse(l) as { level: string; msg: string; reqId?: string; req?: { url: string }; res?: { statusCode: number } },
    );
    const okLines = lines.filter((l) => l.reqId === ok.headers.get('x-correlation-id') && l.msg === 'request completed');
    const badLines = lines.filter((l) => l.reqId === bad.headers.get('x-correlation-id') && l.msg === 'request completed');
    expect(okLines).toHaveLength(1);
    expect(okLines[0]).toMatchObject({ level: 'debug', res: { statusCode: 200 } });
    expect(badLines).toHaveLength(1);
    expect(badLines[0]).toMatchObject({ level: 'info', res: { statusCode: 400 } });
    expect(badLines[0]!.req!.url).toBe('/api/public/m2m?code=%5Bredacted%5D');
  });
});

describe('limits', () => {
  it('rate-limits the public endpoint per client address with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 45; i++) {
      const res = await m2m('dev-gcp:rate:app');
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toContain(429);
    expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited?.text()).toMatch(/Too many requests from your address/);
    // Health checks are not limited.
    expect((await fetch(`${stack.url}/internal/isalive`)).status).toBe(200);
  });
});

describe('the OpenAPI description', () => {
  it('is served, and describes exactly the routes that exist', async () => {
    const served = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, object> };
    expect(served.openapi).toBe('3.1.0');
    const documented = Object.entries(served.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const existing = stack.generator.routes.map((r) => `${r.method} ${r.url}`);
    expect(new Set(documented)).toEqual(new Set(existing));
  });
});
