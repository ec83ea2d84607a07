/**
 * DNS rebinding: a web page whose name re-resolves to 127.0.0.1 sends its own name as Host. The
 * generator, the emulator and the emulator's Texas routes refuse it (421) before reading anything,
 * and answer their own names; the probes answer any name.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** A request to `url` with `host` as its Host header, as a rebound page's fetch would send it. */
function withHost(url: string, host: string, body?: string): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: body === undefined ? 'GET' : 'POST',
        headers: { host, ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const rebound = (url: string) => `rebind.attacker.example:${new URL(url).port}`;
const SECRETS = /eyJ|"d":|client_secret|AZURE_APP_CLIENT_SECRET|AZURE_APP_JWK|"keys"/;

describe('the generator', () => {
  it('refuses a rebinding Host on every route, the cached-token path included, with no token', async () => {
    const m2m = `${stack.url}/api/public/m2m`;
    // Cached first under the right name, so that the lane would have it ready.
    expect((await withHost(m2m, new URL(stack.url).host, 'aud=dev-gcp:my-team:my-app')).status).toBe(200);
    for (const [url, body] of [
      [m2m, 'aud=dev-gcp:my-team:my-app'],
      [`${stack.url}/api/public/obo`, 'aud=dev-gcp:my-team:my-app&user=Z990001'],
      [`${stack.url}/oauth2/token`, 'grant_type=client_credentials&scope=dev-gcp:my-team:my-app'],
      [`${stack.url}/`, undefined],
    ] as const) {
      const answer = await withHost(url, rebound(stack.url), body);
      expect(answer.status, url).toBe(421);
      expect(answer.text).not.toMatch(SECRETS);
    }
  });

  it('answers its own name and the loopback names at its port, and the probes under any name', async () => {
    const port = new URL(stack.url).port;
    for (const host of [new URL(stack.url).host, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`])
      expect((await withHost(`${stack.url}/`, host)).status, host).toBe(200);
    for (const host of [`localhost:${Number(port) + 1}`, 'localhost', `127.0.0.2:${port}`])
      expect((await withHost(`${stack.url}/`, host)).status, host).toBe(421);
    for (const path of ['/internal/isalive', '/internal/isready', '/internal/metrics'])
      expect((await withHost(`${stack.url}${path}`, '10.0.3.7:8080')).status, path).toBe(200);
  });
});

describe('the emulator', () => {
  it('refuses a rebinding Host on its keys, its NAIS environments, key rotation and its token endpoint', async () => {
    const emulator = stack.emulator!;
    const target = emulator.apps()[0]!.target;
    for (const [url, body] of [
      [`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`, undefined],
      [`${emulator.baseUrl}/apps/${target}/env`, undefined],
      [`${emulator.baseUrl}/signing-keys/rotate`, ''],
      [emulator.tokenEndpoint, `grant_type=client_credentials&client_id=${emulator.clientIdFor(target)}&scope=api://x/.default`],
    ] as const) {
      const answer = await withHost(url, rebound(emulator.baseUrl), body);
      expect(answer.status, url).toBe(421);
      expect(answer.text).not.toMatch(SECRETS);
    }
    expect((await withHost(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`, new URL(emulator.baseUrl).host)).status).toBe(
      200,
    );
  });

  it('refuses a rebinding Host on the Texas routes, which answer their own name', async () => {
    const emulator = stack.emulator!;
    const target = emulator.apps()[0]!.target;
    const env = await emulator.environment(target);
    const body = 'identity_provider=entra_id&target=api://dev-gcp.my-team.my-app/.default';
    const refused = await withHost(env.NAIS_TOKEN_ENDPOINT!, rebound(emulator.baseUrl), body);
    expect(refused.status).toBe(421);
    expect(refused.text).not.toMatch(SECRETS);
    const answered = await withHost(env.NAIS_TOKEN_ENDPOINT!, new URL(emulator.baseUrl).host, body);
    expect(answered.status).not.toBe(421);
  });
});
