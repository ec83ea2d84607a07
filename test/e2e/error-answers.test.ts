/**
 * The generator's answers written outside its error handler are the one error path's renderers'
 * output for their problem code: the 408 of a late body and the 421 of an unknown name (both before
 * Fastify), a script's 401 without a login, and the error a tool hears at its redirect URI. The
 * generator runs on the fake provider: none of these reaches an identity provider.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PROBLEM_CODES } from '../../src/generator/core/problem.js';
import { buildApp, UNKNOWN_HOST, type Generator } from '../../src/generator/http/app.js';
import { BODY_TIMEOUT, bodyDeadline } from '../../src/generator/http/body-deadline.js';
import { jsonBody, oauthRedirectQuery, textBody } from '../../src/generator/http/errors.js';
import { FakeProvider } from '../../src/generator/idp/fake.js';
import { MemoryLimiter } from '../../src/generator/core/limits.js';
import { MemoryStore, randomKey, Sealer } from '../../src/session/index.js';

let generator: Generator;

beforeAll(async () => {
  generator = await buildApp({
    config: loadConfig({}).generator,
    provider: new FakeProvider(),
    logger: pino({ level: 'silent' }),
    storage: { sealer: new Sealer(randomKey()), store: new MemoryStore(), limiter: new MemoryLimiter() },
  });
  await generator.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(() => generator.app.close());

/** What a raw request with `head` gets back, once the server closes the connection. */
function raw(port: number, head: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', () => {});
  socket.write(head);
  return new Promise((resolve) => socket.once('close', () => resolve(received)));
}

const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('answers outside the error handler', () => {
  it('a body that comes too late gets its code’s status and text', async () => {
    // The generator's deadline is seconds long: the same listener with a short one, on a server of its own.
    const server: Server = createServer(bodyDeadline(40));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await raw(port, 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n');
      expect(BODY_TIMEOUT.code).toBe('body_timeout');
      expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${PROBLEM_CODES.body_timeout.status} `));
      expect(answer).toMatch(/\r\ncontent-type: text\/plain; charset=utf-8\r\n/i);
      expect(bodyOf(answer)).toBe(textBody(BODY_TIMEOUT));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('an unknown name gets the generator’s answer with its code’s status and text', async () => {
    const { port } = generator.app.server.address() as AddressInfo;
    const answer = await raw(port, `GET / HTTP/1.1\r\nHost: rebind.example:${port}\r\n\r\n`);
    expect(UNKNOWN_HOST.code).toBe('unknown_host');
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${PROBLEM_CODES.unknown_host.status} `));
    expect(bodyOf(answer)).toBe(textBody(UNKNOWN_HOST));
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

describe('a method the path does not answer', () => {
  const ask = (method: 'PUT' | 'DELETE' | 'POST' | 'PATCH' | 'OPTIONS', url: string, headers: Record<string, string> = {}, body?: string) =>
    generator.app.inject({ method, url, headers: { 'x-correlation-id': 'cid-method', ...headers }, ...(body ? { body } : {}) });
  const description = (method: string, path: string, allow: string) => `${method} is not answered at ${path}: use ${allow}.`;

  it('gets 405 with the methods the path answers in Allow, in the format its route answers in', async () => {
    const put = await ask('PUT', '/api/public/m2m?aud=dev-gcp:a:b');
    expect([put.statusCode, put.headers.allow, put.headers['content-type']]).toEqual([405, 'POST', 'text/plain; charset=utf-8']);
    expect(put.body).toBe(textBody({ code: 'method_not_allowed', message: description('PUT', '/api/public/m2m', 'POST') }, 'cid-method'));
    const json = await ask('PATCH', '/api/public/m2m', { accept: 'application/json' });
    expect([json.statusCode, json.headers.allow]).toEqual([405, 'POST']);
    expect(json.json()).toEqual(
      jsonBody({ code: 'method_not_allowed', message: description('PATCH', '/api/public/m2m', 'POST') }, 'cid-method'),
    );
    // A page of the employee's: HEAD is refused there, so only GET is allowed.
    const page = await ask('POST', '/api/obo?aud=dev-gcp:a:b', { accept: 'text/html' });
    expect([page.statusCode, page.headers.allow, page.headers['content-type']]).toEqual([405, 'GET', 'text/html; charset=utf-8']);
    expect(page.body).toContain('<h1>Method not allowed</h1>');
    expect((await ask('OPTIONS', '/oauth2/authorize')).headers.allow).toBe('GET, POST');
    // HEAD is answered where GET is and has no effects.
    expect((await ask('PUT', '/openapi.json')).headers.allow).toBe('GET, HEAD');
  });

  it('gets at every path of the app an Allow of exactly the methods the path answers', async () => {
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
    const paths = [...new Set(generator.routes.map((route) => route.url))];
    expect(paths).toEqual(expect.arrayContaining(['/oauth2/authorize', '/oauth2/device', '/api/public/m2m', '/oauth2/callback']));
    for (const path of paths) {
      const answers = [];
      for (const method of methods)
        answers.push({ method, res: await generator.app.inject({ method, url: path, headers: { accept: 'text/html' } }) });
      // Answered is anything but a 405, whatever the request lacked (a 400, a login, a refusal of a cross-site form).
      const answered = answers.filter(({ res }) => res.statusCode !== 405).map(({ method }) => method);
      expect([path, answered.length > 0]).toEqual([path, true]);
      for (const { method, res } of answers.filter(({ res }) => res.statusCode === 405)) {
        const allow = String(res.headers.allow).split(', ');
        expect([method, path, [...allow].sort()]).toEqual([method, path, [...answered].sort()]);
      }
    }
  });

  it('answers the OAuth 2.0 body on a tool’s endpoint', async () => {
    for (const path of ['/oauth2/token', '/oauth2/revoke', '/oauth2/device_authorization']) {
      const res = await ask('DELETE', path);
      expect([res.statusCode, res.headers.allow, res.headers['content-type']]).toEqual([405, 'POST', 'application/json; charset=utf-8']);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        reason: 'method_not_allowed',
        error_description: description('DELETE', path, 'POST'),
        correlation_id: 'cid-method',
      });
    }
    const head = await generator.app.inject({ method: 'HEAD', url: '/oauth2/token' });
    expect([head.statusCode, head.headers.allow]).toEqual([405, 'POST']);
  });

  it('is refused before its body is read', async () => {
    const res = await ask('PUT', '/api/public/m2m', { 'content-type': 'application/json' }, '{not json');
    expect([res.statusCode, res.headers.allow]).toEqual([405, 'POST']);
    const xml = await ask('PUT', '/api/public/m2m', { 'content-type': 'application/xml' }, '<aud/>');
    expect([xml.statusCode, xml.headers.allow]).toEqual([405, 'POST']);
  });

  it('leaves a path no method is answered at a 404', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await generator.app.inject({ method, url: '/no/such/path' });
      expect([res.statusCode, res.headers.allow]).toEqual([404, undefined]);
    }
  });
});
