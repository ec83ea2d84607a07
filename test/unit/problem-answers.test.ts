/**
 * One error path: every problem code renders in each format from its rule in problem.ts, and the
 * answers written outside Fastify's error handler (a login's 401, the OAuth redirect's error, the
 * 408 of a late body, the 421 of an unknown name) are those renderers' output, not words of their own.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PROBLEM_CODES, type CodeRule, type Problem, type ProblemCode } from '../../src/generator/core/problem.js';
import { buildApp, UNKNOWN_HOST, type Generator } from '../../src/generator/http/app.js';
import { BODY_TIMEOUT, bodyDeadline } from '../../src/generator/http/body-deadline.js';
import {
  fixedAnswer,
  jsonBody,
  oauthBody,
  oauthRedirectQuery,
  oauthStatus,
  problemPage,
  textBody,
} from '../../src/generator/http/errors.js';
import { FakeProvider } from '../../src/generator/idp/fake.js';

const CODES = Object.keys(PROBLEM_CODES) as ProblemCode[];
const problemOf = (code: ProblemCode): Problem => ({ code, message: `Refused as ${code}: the caller’s "fault".` });

describe('every problem code', () => {
  it.each(CODES)('%s renders as text, JSON, an HTML page, an OAuth body and an OAuth redirect', (code) => {
    const rule: CodeRule = PROBLEM_CODES[code];
    const p = problemOf(code);
    expect(textBody(p, 'c-1')).toBe(`${p.message}\ncorrelation id: c-1\n`);
    expect(jsonBody(p, 'c-1')).toEqual({ error: code, error_description: p.message, correlation_id: 'c-1' });
    const oauth = oauthBody(p, 'c-1');
    expect(oauth).toMatchObject({
      error: rule.oauth,
      error_description: `Refused as ${code}: the caller's 'fault'.`,
      correlation_id: 'c-1',
    });
    expect(oauth.reason).toBe(rule.oauth === code ? undefined : code);
    expect(oauthStatus(p)).toBe(rule.oauthStatus ?? rule.status);
    expect(oauthRedirectQuery(p, 'c-1')).toEqual(oauth);
    const page = problemPage(p, { returnTo: '/', loginDomain: 'trygdeetaten.no', correlationId: 'c-1' });
    expect(page).toMatch(/<title>[^<]+<\/title>/);
    expect(page).toMatch(/<h1>[A-Z][^<]+<\/h1>/);
    expect(page).toContain('Refused as');
    expect(page).toContain('c-1');
    // The tenant is named once: by the message where the rule says it does, else by the page's note.
    expect(page.includes('class="tenant-note"')).toBe(!rule.namesTenant);
  });

  it('carry an identity provider code into the redirect form as the OAuth body has it', () => {
    const p: Problem = { code: 'identity_provider_refused', message: 'No.', aadsts: 50058 };
    expect(oauthRedirectQuery(p, 'c-2')).toMatchObject({
      error: 'server_error',
      reason: 'identity_provider_refused',
      error_codes: '50058',
    });
  });

  it('keep a fixed answer to the rule’s status, as text without a correlation id', () => {
    const answer = fixedAnswer(problemOf('unknown_host'));
    expect(answer.status).toBe(421);
    expect(answer.body).toBe(textBody(problemOf('unknown_host')));
    expect(answer.body).not.toContain('correlation id');
    expect(answer.headers).toMatchObject({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  });
});

let server: Server | undefined;
let generator: Generator;

beforeAll(async () => {
  generator = await buildApp({ config: loadConfig({}).generator, provider: new FakeProvider(), logger: pino({ level: 'silent' }) });
  await generator.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(() => generator.app.close());

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

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
    server = createServer(bodyDeadline(40));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const answer = await raw(port, 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n');
    expect(BODY_TIMEOUT.code).toBe('body_timeout');
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${PROBLEM_CODES.body_timeout.status} `));
    expect(answer).toMatch(/\r\ncontent-type: text\/plain; charset=utf-8\r\n/i);
    expect(bodyOf(answer)).toBe(textBody(BODY_TIMEOUT));
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
