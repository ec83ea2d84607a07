/**
 * What the command line makes of the generator's error answers as openid-client hands them over: a 4xx as an OAuth error
 * body it read, a 5xx as the bare Response. Each answer goes through openid-client itself (its custom fetch answers), so
 * that the test follows what the library really throws.
 */
import * as client from 'openid-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Context } from '../../src/cli/context.js';
import { CliError } from '../../src/cli/errors.js';
import { failureOf, plainText } from '../../src/cli/generator.js';
import { authorizationServer, renew, worthAskingAgain } from '../../src/cli/oauth.js';

const BASE = 'http://127.0.0.1:8080';
const ctx = { base: BASE } as Context;

/** The generator's OAuth error answer, as its one error path writes it: the correlation id in the body and the header. */
function generatorAnswer(status: number, body: Record<string, string>): Response {
  const correlation = 'c0ffee00-0000-4000-8000-000000000000';
  return new Response(JSON.stringify({ ...body, correlation_id: correlation }), {
    status,
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlation },
  });
}

/** The generator's token endpoint as openid-client sees it, answered by `answer`, which is given the request's abort signal. */
function tokenEndpoint(answer: (signal: AbortSignal) => Response | Promise<Response>, timeoutSeconds?: number): client.Configuration {
  const server = new client.Configuration({ issuer: BASE, token_endpoint: `${BASE}/oauth2/token` }, 'tool', undefined, client.None());
  client.allowInsecureRequests(server);
  if (timeoutSeconds !== undefined) server.timeout = timeoutSeconds;
  server[client.customFetch] = async (_url, options) => answer(options.signal!);
  return server;
}

/** An answer that never comes: the request waits until its timeout aborts it. */
const never = (signal: AbortSignal) =>
  new Promise<Response>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));

/** What openid-client throws for a refresh answered `answer`. */
function thrownFor(answer: (signal: AbortSignal) => Response | Promise<Response>, timeoutSeconds?: number): Promise<unknown> {
  return client.refreshTokenGrant(tokenEndpoint(answer, timeoutSeconds), 'refresh-token', { scope: 'dev-gcp:my-team:my-app' }).then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** What the command line says of a refresh answered `answer`. */
const renewalFailure = (answer: (signal: AbortSignal) => Response | Promise<Response>, timeoutSeconds?: number) =>
  renew(ctx, tokenEndpoint(answer, timeoutSeconds), 'refresh-token', 'dev-gcp:my-team:my-app').then(
    () => undefined,
    (err: unknown) => err as Error,
  );

const IDP_FAILED = {
  error: 'temporarily_unavailable',
  error_description: 'Entra ID did not answer as expected: try again in a moment.',
  reason: 'identity_provider_error',
};

describe("the command line and the generator's error answers", () => {
  it("gives the generator's own advice for its 5xx answers, not that --url is no token generator", async () => {
    const err = await renewalFailure(() => generatorAnswer(502, IDP_FAILED));
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toBe(IDP_FAILED.error_description);
  });

  it('still says --url is no token generator when a 5xx is not the generator’s', async () => {
    const err = await renewalFailure(
      () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    );
    expect((err as Error).message).toMatch(/is not a token generator \(it answered HTTP 502 to \/oauth2\/token\)/);
  });

  it.each([
    ['the identity provider failing (502)', true, () => generatorAnswer(502, IDP_FAILED)],
    [
      'the store away (503 without Retry-After)',
      true,
      () => generatorAnswer(503, { error: 'temporarily_unavailable', error_description: 'Busy.' }),
    ],
    ['an ingress between versions (a 502 page)', true, () => new Response('Bad gateway', { status: 502 })],
    [
      'the generator set up wrong',
      false,
      () => generatorAnswer(500, { error: 'server_error', error_description: 'Set up wrong.', reason: 'generator_misconfigured' }),
    ],
    ['a refusal (400 invalid_grant)', false, () => generatorAnswer(400, { error: 'invalid_grant', error_description: 'Log in again.' })],
  ])('after %s, is worth asking again: %s', async (_what, worth, answer) => {
    expect(await worthAskingAgain(await thrownFor(answer))).toBe(worth);
  });

  it('is worth asking again when nothing answers', async () => {
    const err = await thrownFor(() => {
      throw new TypeError('fetch failed');
    });
    expect(await worthAskingAgain(err)).toBe(true);
  });

  it('is worth asking again when the answer takes longer than the timeout, which says the generator cannot be reached', async () => {
    expect(await worthAskingAgain(await thrownFor(never, 0.2))).toBe(true);
    expect((await renewalFailure(never, 0.2))?.message).toMatch(/^cannot reach the generator at /);
  });

  it('shows the words of a 421 (a name the generator does not answer to) only when plain text, without format characters', () => {
    const advice = `Behind a proxy at that address, it needs PUBLIC_URL=${BASE} where it runs.`;
    const said = (contentType: string, text: string) =>
      failureOf(ctx, 421, null, undefined, '/api/public/m2m', plainText(contentType, text)).message;
    expect(said('text/plain; charset=utf-8', 'Answers only to its own name.\u202e reversed')).toBe(
      `the generator at ${BASE} does not answer to the name 127.0.0.1:8080 (HTTP 421): Answers only to its own name. reversed. ${advice}`,
    );
    // A page of something else in front of it (a CDN's) is not read out.
    expect(said('text/html', '<html><body>Misdirected</body></html>')).toBe(
      `the generator at ${BASE} does not answer to the name 127.0.0.1:8080 (HTTP 421). ${advice}`,
    );
  });

  it('does not wait for the body of a 5xx that stalls after its head', async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: () => undefined });
    const err = await thrownFor(() => new Response(stalled, { status: 502, headers: { 'content-type': 'application/json' } }));
    expect(await worthAskingAgain(err)).toBe(true);
  });
});

describe('a generator on this machine that calls itself by another of its loopback names', () => {
  afterEach(() => vi.unstubAllGlobals());

  /** The issuer that discovery from `base` settles on, when every address answers metadata naming `issuer`; or why not. */
  async function discoveredFrom(base: string, issuer: string): Promise<string> {
    const asked: string[] = [];
    vi.stubGlobal('fetch', (url: URL | string) => {
      asked.push(new URL(String(url)).origin);
      const metadata = { issuer, authorization_endpoint: `${issuer}/oauth2/authorize`, token_endpoint: `${issuer}/oauth2/token` };
      return Promise.resolve(Response.json(metadata));
    });
    const server = await authorizationServer({ base, useCache: true } as Context).catch((err: Error) => err);
    return server instanceof Error ? server.message : `${server.serverMetadata().issuer} (asked ${asked.join(', ')})`;
  }

  it('is that generator: its issuer, asked at its own address, whichever loopback name --url gives', async () => {
    expect(await discoveredFrom('http://127.0.0.1:8080', 'http://localhost:8080')).toBe(
      'http://localhost:8080 (asked http://127.0.0.1:8080, http://localhost:8080)',
    );
    expect(await discoveredFrom('http://[::1]:8080', 'http://localhost:8080')).toMatch(/^http:\/\/localhost:8080 /);
    expect(await discoveredFrom('http://localhost:8080', 'http://127.0.0.1:8080')).toMatch(/^http:\/\/127\.0\.0\.1:8080 /);
  });

  it('is refused as another issuer for any other difference: port, scheme, path or a name of another machine', async () => {
    for (const issuer of ['http://localhost:9090', 'https://localhost:8080', 'http://localhost:8080/other', 'http://gen.example:8080'])
      expect(await discoveredFrom('http://127.0.0.1:8080', issuer)).toBe(
        `the generator at http://127.0.0.1:8080 calls itself ${issuer}: use --url ${issuer}`,
      );
  });
});
