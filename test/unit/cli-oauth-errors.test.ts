/**
 * What the command line makes of the generator's error answers as openid-client hands them over: a 4xx as an OAuth error
 * body it read, a 5xx as the bare Response. Each answer goes through openid-client itself (its custom fetch answers), so
 * that the test follows what the library really throws.
 */
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import type { Context } from '../../src/cli/context.js';
import { CliError } from '../../src/cli/errors.js';
import { renew, worthAskingAgain } from '../../src/cli/oauth.js';

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

/** What openid-client throws for a refresh answered `answer`. */
async function thrownFor(answer: () => Response): Promise<unknown> {
  const server = new client.Configuration({ issuer: BASE, token_endpoint: `${BASE}/oauth2/token` }, 'tool', undefined, client.None());
  client.allowInsecureRequests(server);
  server[client.customFetch] = async () => answer();
  return client.refreshTokenGrant(server, 'refresh-token', { scope: 'dev-gcp:my-team:my-app' }).then(
    () => undefined,
    (err: unknown) => err,
  );
}

const IDP_FAILED = {
  error: 'temporarily_unavailable',
  error_description: 'Entra ID did not answer as expected: try again in a moment.',
  reason: 'identity_provider_error',
};

describe("the command line and the generator's error answers", () => {
  it("gives the generator's own advice for its 5xx answers, not that --url is no token generator", async () => {
    const server = new client.Configuration({ issuer: BASE, token_endpoint: `${BASE}/oauth2/token` }, 'tool', undefined, client.None());
    client.allowInsecureRequests(server);
    server[client.customFetch] = async () => generatorAnswer(502, IDP_FAILED);
    const err = await renew(ctx, server, 'refresh-token', 'dev-gcp:my-team:my-app').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toBe(IDP_FAILED.error_description);
  });

  it('still says --url is no token generator when a 5xx is not the generator’s', async () => {
    const server = new client.Configuration({ issuer: BASE, token_endpoint: `${BASE}/oauth2/token` }, 'tool', undefined, client.None());
    client.allowInsecureRequests(server);
    server[client.customFetch] = async () =>
      new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    const err = await renew(ctx, server, 'refresh-token', 'dev-gcp:my-team:my-app').catch((e: unknown) => e);
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
});
