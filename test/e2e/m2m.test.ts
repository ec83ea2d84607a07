import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { DRAIN_MAX_BYTES } from '../../src/generator/http/body-drain.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let emulator: NonNullable<Stack['emulator']>;
let keys: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  stack = await startStack({
    emulator: { unauthorizedTargets: ['dev-gcp:locked:api'], missingTargets: ['dev-gcp:ghost:api'] },
  });
  emulator = stack.emulator!;
  keys = createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`));
});

afterAll(async () => {
  await stack?.close();
});

const m2m = (init: RequestInit & { query?: string } = {}) =>
  fetch(`${stack.url}/api/public/m2m${init.query ?? ''}`, { method: 'POST', ...init });

async function expectAppToken(token: string, target: string) {
  const { payload, protectedHeader } = await jwtVerify(token, keys, {
    issuer: emulator.issuer,
    audience: emulator.clientIdFor(target),
    algorithms: ['RS256'],
  });
  expect(protectedHeader.kid).toBeTruthy();
  expect(payload.roles).toEqual(['access_as_application']);
  expect(payload.idtyp).toBe('app');
  expect(payload.azp).toBe(stack.identity.clientId);
  expect(payload.ver).toBe('2.0');
  expect(payload.tid).toBe(emulator.tenantId);
  expect(payload.oid).toBe(payload.sub);
  return payload;
}

describe('POST /api/public/m2m', () => {
  it('takes aud from a form body, as curl -d sends it, and answers the bare token', async () => {
    const res = await m2m({ body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const token = await res.text();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await expectAppToken(token, 'dev-gcp:my-team:my-app');
  });

  it('takes aud from the query string', async () => {
    const res = await m2m({ query: '?aud=dev-gcp:team-q:app' });
    expect(res.status).toBe(200);
    await expectAppToken(await res.text(), 'dev-gcp:team-q:app');
  });

  it('takes aud from a multipart form, also when the query carries the same value', async () => {
    const form = new FormData();
    form.set('aud', 'dev-gcp:team-mp:app');
    const res = await m2m({ query: '?aud=dev-gcp:team-mp:app', body: form });
    expect(res.status).toBe(200);
    await expectAppToken(await res.text(), 'dev-gcp:team-mp:app');
  });

  it('refuses multipart forms it cannot take, each with its reason', async () => {
    const multipart = (parts: string[], boundary = 'xyz') =>
      m2m({ headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: `${parts.join('')}--${boundary}--\r\n` });
    const field = (name: string, value: string) => `--xyz\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const twice = await multipart([field('aud', 'dev-gcp:a:b'), field('aud', 'dev-gcp:a:c')]);
    expect(twice.status).toBe(400);
    expect(await twice.text()).toMatch(/more than once/);
    const file = await multipart([
      '--xyz\r\nContent-Disposition: form-data; name="aud"; filename="aud.txt"\r\nContent-Type: text/plain\r\n\r\ndev-gcp:a:b\r\n',
    ]);
    expect(file.status).toBe(413);
    const manyParts = await multipart(Array.from({ length: 25 }, (_, i) => field(`f${i}`, 'x')));
    expect(manyParts.status).toBe(413);
    const longField = await multipart([field('aud', 'x'.repeat(5000))]);
    expect(longField.status).toBe(413);
    // Within the part and field limits, but over the body limit (64 KB by default) in all.
    const bigBody = await multipart(Array.from({ length: 19 }, (_, i) => field(`f${i}`, 'x'.repeat(4000))));
    expect(bigBody.status).toBe(413);
    const noBoundary = await m2m({ headers: { 'content-type': 'multipart/form-data' }, body: field('aud', 'dev-gcp:a:b') });
    expect(noBoundary.status).toBe(400);
    expect(await noBoundary.text()).toMatch(/multipart body cannot be read/);
    // Other fields are allowed next to aud.
    const extra = await multipart([field('note', 'hello'), field('aud', 'dev-gcp:team-mp2:app')]);
    expect(extra.status).toBe(200);
    await expectAppToken(await extra.text(), 'dev-gcp:team-mp2:app');
  });

  it('takes aud from a JSON body', async () => {
    const res = await m2m({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aud: 'dev-gcp.team-json.app' }) });
    expect(res.status).toBe(200);
    await expectAppToken(await res.text(), 'dev-gcp:team-json:app');
  });

  it('accepts the scope form of the audience', async () => {
    const res = await m2m({ body: new URLSearchParams({ aud: 'api://dev-gcp.team-scope.app/.default' }) });
    expect(res.status).toBe(200);
    await expectAppToken(await res.text(), 'dev-gcp:team-scope:app');
  });

  it('reads an audience typed in upper case as the lower-case NAIS name', async () => {
    const res = await m2m({ body: new URLSearchParams({ aud: 'Dev-GCP:Team-Upper:App' }) });
    expect(res.status).toBe(200);
    await expectAppToken(await res.text(), 'dev-gcp:team-upper:app');
  });

  it('refuses a query and a body that disagree', async () => {
    const res = await m2m({ query: '?aud=dev-gcp:a:b', body: new URLSearchParams({ aud: 'dev-gcp:a:c' }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/\(dev-gcp:a:b\) and the one in the body \(dev-gcp:a:c\) name different apps/);
    // Each is read before they are compared: an audience that is no audience is said as such.
    const invalid = await m2m({ query: '?aud=dev-gcp:a', body: new URLSearchParams({ aud: 'dev-gcp:a:b' }) });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toMatch(/Invalid audience "dev-gcp:a": it has 2 parts/);
  });

  it('takes a query and a body that name one app in two spellings', async () => {
    const res = await m2m({
      query: '?aud=Dev-GCP:team-two:app',
      body: new URLSearchParams({ aud: 'api://dev-gcp.team-two.app/.default' }),
    });
    expect(res.status).toBe(200);
    await expectAppToken(await res.text(), 'dev-gcp:team-two:app');
  });

  it('answers the JSON token response when the client explicitly prefers JSON', async () => {
    const res = await m2m({ headers: { accept: 'application/json' }, body: new URLSearchParams({ aud: 'dev-gcp:my-team:json-app' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBeGreaterThan(3000);
    await expectAppToken(body.access_token as string, 'dev-gcp:my-team:json-app');
  });

  it('answers the bare token to a wildcard Accept', async () => {
    const res = await m2m({ headers: { accept: '*/*' }, body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app' }) });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('refuses a missing audience and a malformed one with a one-line reason that shows the expected form', async () => {
    for (const body of [new URLSearchParams(), new URLSearchParams({ aud: 'dev-gcp:my team:app' })]) {
      const res = await m2m({ body });
      expect(res.status).toBe(400);
      const [first] = (await res.text()).split('\n');
      expect(first).toContain('dev-gcp:my-team:my-app');
    }
  });

  it('refuses an unsupported content type, a plain-text body and a huge body clearly', async () => {
    const xml = await m2m({ headers: { 'content-type': 'application/xml' }, body: '<aud/>' });
    expect(xml.status).toBe(415);
    expect(await xml.text()).toMatch(/application\/x-www-form-urlencoded/);
    const text = await m2m({ headers: { 'content-type': 'text/plain' }, body: 'dev-gcp:a:b' });
    expect(text.status).toBe(415);
    const huge = await m2m({ body: new URLSearchParams({ aud: 'x'.repeat(200_000) }) });
    expect(huge.status).toBe(413);
    const multipart = await m2m({
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="aud"\r\n\r\ndev-gcp:a:b',
    });
    expect(multipart.status).toBe(400);
    expect(await multipart.text()).toMatch(/multipart body cannot be read/);
    const broken = await m2m({ headers: { 'content-type': 'application/json' }, body: '{"aud":' });
    expect(broken.status).toBe(400);
    expect(await broken.text()).not.toMatch(/at .*\.js|Error:/);
  });

  it('answers a 5 MB body with a 413 that Node fetch, curl and Python requests each read', async () => {
    const url = `${stack.url}/api/public/m2m`;
    const type = 'application/x-www-form-urlencoded';
    const body = Buffer.alloc(5 * 1024 * 1024, 'a');
    const dir = await mkdtemp(join(tmpdir(), 'big-body-'));
    try {
      const file = join(dir, 'body');
      await writeFile(file, body);
      const run = promisify(execFile);
      const fromFetch = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
      const fromCurl = await run('curl', ['-sS', '-w', '\\n%{http_code}', '-H', `content-type: ${type}`, '--data-binary', `@${file}`, url]);
      const python = [
        'import requests, sys',
        `r = requests.post(sys.argv[1], data=open(sys.argv[2], 'rb'), headers={'content-type': '${type}'})`,
        'print(r.text)',
        'print(r.status_code)',
      ].join('\n');
      const fromPython = await run('python3', ['-c', python, url, file]);
      expect(fromFetch.status).toBe(413);
      expect(await fromFetch.text()).toMatch(/request body is too large/);
      for (const { stdout } of [fromCurl, fromPython]) expect(stdout.trim()).toMatch(/request body is too large[\s\S]*\n413$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('stops reading a refused body past its bound and closes the connection', async () => {
    const port = Number(new URL(stack.url).port);
    const declared = 8 * DRAIN_MAX_BYTES;
    const sent = await new Promise<number>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let written = 0;
      const chunk = Buffer.alloc(256 * 1024, 'a');
      const pump = () => {
        while (written < declared && !socket.destroyed) {
          written += chunk.length;
          if (!socket.write(chunk)) return socket.once('drain', pump);
        }
      };
      socket.on('connect', () => {
        socket.write(
          'POST /api/public/m2m HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
            `Content-Length: ${declared}\r\n\r\n`,
        );
        pump();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(written));
      socket.resume();
    });
    expect(sent).toBeLessThan(declared);
  }, 60_000);

  it('answers GET with 405 and the right curl line', async () => {
    const res = await fetch(`${stack.url}/api/public/m2m?aud=dev-gcp:a:b`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.text()).toContain(`curl -s -X POST "${stack.config.publicUrl}/api/public/m2m" -d "aud=dev-gcp:my-team:my-app"`);
  });
});

describe('advice for the identity provider refusals', () => {
  it('shows the access policy to add when the target has not authorized the generator (AADSTS501051)', async () => {
    const res = await m2m({ body: new URLSearchParams({ aud: 'dev-gcp:locked:api' }) });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain('dev-gcp:locked:api has not authorized this token generator');
    expect(text).toContain(
      [
        'spec:',
        '  accessPolicy:',
        '    inbound:',
        '      rules:',
        '        - application: azure-token-generator',
        '          namespace: nais',
        '          cluster: dev-gcp',
      ].join('\n'),
    );
    expect(text).toContain('AADSTS501051');

    const json = await m2m({ headers: { accept: 'application/json' }, body: new URLSearchParams({ aud: 'dev-gcp:locked:api' }) });
    const body = (await json.json()) as Record<string, unknown>;
    expect(body.error).toBe('not_authorized_by_target');
    expect(body.aadsts).toBe(501051);
    expect(body.details).toContain('application: azure-token-generator');
    // From the code's rule: a script learns that asking again will not help until the target's policy changes.
    expect(body.retry).toBe(false);
    expect(body.advice).toEqual(expect.stringMatching(/\w/));
  });

  it('says the app does not exist or has no Entra ID when the tenant does not know it (AADSTS500011)', async () => {
    const res = await m2m({ body: new URLSearchParams({ aud: 'dev-gcp:ghost:api' }) });
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).toMatch(/does not exist in the tenant, or does not have Entra ID enabled/);
    expect(text).toContain('AADSTS500011');
  });
});

describe('caching and coalescing', () => {
  it('serves the cached token with what is left of its lifetime', async () => {
    const ask = async () =>
      (await (await m2m({ headers: { accept: 'application/json' }, body: new URLSearchParams({ aud: 'dev-gcp:cache:app' }) })).json()) as {
        access_token: string;
        expires_in: number;
      };
    const first = await ask();
    const before = emulator.stats.tokenRequests;
    const second = await ask();
    expect(emulator.stats.tokenRequests).toBe(before);
    expect(second.access_token).toBe(first.access_token);
    const exp = decodeJwt(first.access_token).exp!;
    expect(Math.abs(exp - Math.floor(Date.now() / 1000) - second.expires_in)).toBeLessThanOrEqual(2);
  });

  it('makes exactly one token request for 100 concurrent requests for one cold audience', async () => {
    const before = emulator.stats.tokenRequests;
    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        m2m({ body: new URLSearchParams({ aud: 'dev-gcp:cold:app' }) }).then(async (r) => [r.status, await r.text()] as const),
      ),
    );
    expect(emulator.stats.tokenRequests - before).toBe(1);
    expect(new Set(responses.map(([status]) => status))).toEqual(new Set([200]));
    expect(new Set(responses.map(([, token]) => token)).size).toBe(1);
  });

  it('never caches errors', async () => {
    const before = emulator.stats.tokenRequests;
    await m2m({ body: new URLSearchParams({ aud: 'dev-gcp:locked:api' }) });
    await m2m({ body: new URLSearchParams({ aud: 'dev-gcp:locked:api' }) });
    expect(emulator.stats.tokenRequests - before).toBe(2);
  });

  it('skips the cache when the client sends Cache-Control: no-cache', async () => {
    await m2m({ body: new URLSearchParams({ aud: 'dev-gcp:fresh:app' }) });
    const before = emulator.stats.tokenRequests;
    await m2m({ headers: { 'cache-control': 'no-cache' }, body: new URLSearchParams({ aud: 'dev-gcp:fresh:app' }) });
    expect(emulator.stats.tokenRequests - before).toBe(1);
  });
});

describe('health', () => {
  it('is alive and ready once discovery and keys are loaded', async () => {
    expect((await fetch(`${stack.url}/internal/isalive`)).status).toBe(200);
    expect((await fetch(`${stack.url}/internal/isready`)).status).toBe(200);
  });

  it('returns the correlation id it was given', async () => {
    const res = await fetch(`${stack.url}/internal/isalive`, { headers: { 'x-correlation-id': 'abc-123' } });
    expect(res.headers.get('x-correlation-id')).toBe('abc-123');
  });
});
