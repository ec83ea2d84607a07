/**
 * The generator as an OAuth 2.0 authorization server, through openid-client: its metadata (RFC 8414)
 * discovered from --url, and the command line as a public client of it. Failures become one line.
 */
import * as client from 'openid-client';
import { PATHS } from '../paths.js';
import type { Context } from './context.js';
import { CliError, LoginRequired } from './errors.js';
import { failureOf, notAGenerator, unreachable } from './generator.js';

/** The command line's name for itself, shown on the page that asks the employee. */
export const CLIENT_ID = 'the token-generator command line';
/** The device flow takes no name that passes for the generator's own: the command line there is any tool. */
export const DEVICE_CLIENT_ID = 'a command line (--device)';

export type Tokens = client.TokenEndpointResponse;

/** One line for anything openid-client throws: the generator's advice, or what is wrong with --url. */
export function asCliError(ctx: Context, err: unknown, path: string): Error {
  if (err instanceof CliError || err instanceof LoginRequired) return err;
  if (err instanceof client.ResponseBodyError)
    return failureOf(ctx, err.status, err.response.headers.get('x-correlation-id'), err.cause, path);
  if (err instanceof client.ClientError) {
    const cause = err.cause as { status?: unknown; body?: { issuer?: unknown } } | undefined;
    if (err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && typeof cause?.body?.issuer === 'string')
      return new CliError(`the generator at ${ctx.base} calls itself ${cause.body.issuer}: use --url ${cause.body.issuer}`);
    if (cause instanceof Response) return notAGenerator(ctx, cause.status, path);
    return new CliError(`${ctx.base} answered ${path} in a way the command line cannot use (${err.message})`);
  }
  if (err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError')) return unreachable(ctx, err);
  return err instanceof Error ? err : new Error(String(err));
}

/** --no-cache skips the generator's cache too, on every request to its token endpoint. */
const withoutCache: client.CustomFetch = (url, options) => {
  const headers = new Headers(options.headers);
  headers.set('cache-control', 'no-cache');
  return fetch(url, { ...options, headers } as RequestInit);
};

/** The generator's authorization-server metadata, discovered from --url (over http only on a loopback or test setup). */
export async function authorizationServer(ctx: Context): Promise<client.Configuration> {
  try {
    const server = await client.discovery(new URL(ctx.base), CLIENT_ID, undefined, client.None(), {
      algorithm: 'oauth2',
      timeout: 30,
      ...(ctx.base.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : {}),
    });
    if (!ctx.useCache) server[client.customFetch] = withoutCache;
    return server;
  } catch (err) {
    throw asCliError(ctx, err, PATHS.authorizationServerMetadata);
  }
}

/** The same authorization server, for the command line under another client id. */
export function asClient(ctx: Context, server: client.Configuration, clientId: string): client.Configuration {
  const other = new client.Configuration(server.serverMetadata(), clientId, undefined, client.None());
  if (ctx.base.startsWith('http:')) client.allowInsecureRequests(other);
  if (!ctx.useCache) other[client.customFetch] = withoutCache;
  return other;
}

/**
 * A token for `audience` from the refresh token; LoginRequired when the command line's session is gone, or
 * was not consented for this target (the generator then needs the employee's consent in a new login).
 */
export async function renew(ctx: Context, server: client.Configuration, refreshToken: string, audience: string): Promise<Tokens> {
  try {
    return await client.refreshTokenGrant(server, refreshToken, { scope: audience }, undefined);
  } catch (err) {
    if (err instanceof client.ResponseBodyError && reasonOf(err) === 'target_not_consented') throw new LoginRequired(false);
    if (err instanceof client.ResponseBodyError && err.error === 'invalid_grant') throw new LoginRequired(true);
    throw asCliError(ctx, err, PATHS.token);
  }
}

/** The generator's own code for an OAuth error (`reason`), where it says more than `error`. */
export function reasonOf(err: client.ResponseBodyError): unknown {
  return (err.cause as { reason?: unknown } | undefined)?.reason;
}

/** Ends the command line's own sessions at the generator (RFC 7009), one per refresh token; the browser's stays. */
export async function revoke(ctx: Context, refreshTokens: string[]): Promise<void> {
  const server = await authorizationServer(ctx);
  const revoked = await Promise.allSettled(refreshTokens.map((refreshToken) => client.tokenRevocation(server, refreshToken)));
  const failed = revoked.find((result) => result.status === 'rejected');
  if (failed) throw asCliError(ctx, (failed as PromiseRejectedResult).reason, PATHS.revoke);
}
