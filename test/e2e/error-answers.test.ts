/**
 * The generator's answers written outside its error handler are the one error path's renderers'
 * output for their problem code: the 421 of an unknown name (before Fastify), a script's 401 without
 * a login, and the error a tool hears at its redirect URI. The generator runs on the fake provider:
 * none of these reaches an identity provider.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PROBLEM_CODES } from '../../src/generator/core/problem.js';
import { buildApp, UNKNOWN_HOST, type Generator } from '../../src/generator/http/app.js';
import { jsonBody, oauthRedirectQuery, textBody } from '../../src/generator/http/errors.js';
import { FakeProvider } from '../../src/generator/idp/fake.js';

let generator: Generator;

beforeAll(async () => {
  generator = await buildApp({ config: loadConfig({}).generator, provider: new FakeProvider(), logger: pino({ level: 'silent' }) });
  await generator.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(() => generator.app.close());

describe('answers outside the error handler', () => {
  it('an unknown name gets the generator’s answer with its code’s status and text', async () => {
    const { port } = generator.app.server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: `rebind.example:${port}` } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(UNKNOWN_HOST.code).toBe('unknown_host');
    expect(answer).toEqual({ status: PROBLEM_CODES.unknown_host.status, text: textBody(UNKNOWN_HOST) });
  });

  it('a script without a login gets the JSON body of login_required, with where to log in', async () => {
    const res = await generator.app.inject({
      url: '/api/obo?aud=dev-gcp:my-team:my-app',
      headers: { accept: 'application/json', 'x-correlation-id': 'cid-login' },
    });
    expect(res.statusCode).toBe(PROBLEM_CODES.login_required.status);
    const body = res.json<{ error_description: string; login_url: string }>();
    expect(body.login_url).toMatch(/\/oauth2\/login\?redirect=/);
    expect(body).toEqual({
      ...jsonBody({ code: 'login_required', message: body.error_description }, 'cid-login'),
      login_url: body.login_url,
    });
  });

  it('a tool’s faulty authorization request hears the OAuth body at its redirect URI', async () => {
    const query = new URLSearchParams({ redirect_uri: 'http://127.0.0.1:1234/cb', response_type: 'token', state: 's' });
    const res = await generator.app.inject({ url: `/oauth2/authorize?${query}`, headers: { 'x-correlation-id': 'cid-authorize' } });
    expect(res.statusCode).toBe(303);
    const location = new URL(res.headers.location as string);
    const { state, iss, ...error } = Object.fromEntries(location.searchParams);
    expect({ state, iss: typeof iss }).toEqual({ state: 's', iss: 'string' });
    expect(error).toEqual(
      oauthRedirectQuery({ code: 'unsupported_response_type', message: 'Only response_type=code is supported.' }, 'cid-authorize'),
    );
  });
});
