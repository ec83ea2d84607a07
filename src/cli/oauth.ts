/**
 * The generator as an OAuth 2.0 authorization server, through openid-client: its metadata (RFC 8414)
 * discovered from --url, and the command line as a public client of it. Failures become one line.
 */
import * as client from 'openid-client';
import { LOOPBACK_NAMES } from '../host-names.js';
import { PATHS } from '../paths.js';
import type { Context } from './context.js';
import { CliError, LoginRequired } from './errors.js';
import { failureOf, notAGenerator, plainText, unreachable } from './generator.js';

/** The command line's name for itself, shown on the page that asks the employee. */
export const CLIENT_ID = 'the token-generator command line';
/** The device flow takes no name that passes for the generator's own: the command line there is any tool. */
export const DEVICE_CLIENT_ID = 'a command line (--device)';

export type Tokens = client.TokenEndpointResponse;

/** An error answer of the generator's (or of whatever answers at --url): its status, correlation id header and body. */
interface ErrorAnswer {
  status: number;
  correlation: string | null;
  body: unknown;
  /** The body as it came, when it was read here and is plain text. */
  text?: string;
}

/** Long enough for any error body sent with its head; a body that stalls past it (a broken hop) is not waited for. */
const BODY_WAIT_MS = 2_000;
/** Each answer's body is read once, however often its error is looked at. */
const answers = new WeakMap<Response, Promise<string | undefined>>();

/** A body read as text, as JSON: undefined when it is not JSON, or was not read. */
function jsonOf(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** An answer's body as text, or undefined when it is not there within BODY_WAIT_MS (then the body is let go). */
function bodyOf(response: Response): Promise<string | undefined> {
  let body = answers.get(response);
  if (!body) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        response.body?.cancel().catch(() => undefined);
        resolve(undefined);
      }, BODY_WAIT_MS);
    });
    const read = response.text().catch(() => undefined);
    body = Promise.race([read, stalled]).finally(() => clearTimeout(timer));
    answers.set(response, body);
  }
  return body;
}

/**
 * The answer behind what openid-client throws for an error status. It reads the OAuth error body of a 4xx only; a 5xx (the
 * generator's 502 when the identity provider fails, its 503 while its store is away, an ingress's own page) comes as the
 * Response itself, its body unread, and, while polling, no longer under the request's timeout.
 */
async function errorAnswerOf(err: unknown): Promise<ErrorAnswer | undefined> {
  if (err instanceof client.ResponseBodyError)
    return { status: err.status, correlation: err.response.headers.get('x-correlation-id'), body: err.cause };
  if (!(err instanceof client.ClientError) || err.code !== 'OAUTH_RESPONSE_IS_NOT_CONFORM' || !(err.cause instanceof Response))
    return undefined;
  const response = err.cause;
  const text = await bodyOf(response);
  const words = plainText(response.headers.get('content-type'), text);
  return {
    status: response.status,
    correlation: response.headers.get('x-correlation-id'),
    body: jsonOf(text),
    ...(words ? { text: words } : {}),
  };
}

/** One line for anything openid-client throws: the generator's advice, or what is wrong with --url. */
export async function asCliError(ctx: Context, err: unknown, path: string): Promise<Error> {
  if (err instanceof CliError || err instanceof LoginRequired) return err;
  if (unanswered(err)) return unreachable(ctx, err);
  const answer = await errorAnswerOf(err);
  if (answer) return failureOf(ctx, answer.status, answer.correlation, answer.body, path, answer.text);
  if (err instanceof client.ClientError) {
    const cause = err.cause as { status?: unknown; body?: { issuer?: unknown } } | undefined;
    if (err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && typeof cause?.body?.issuer === 'string')
      return new CliError(`the generator at ${ctx.base} calls itself ${cause.body.issuer}: use --url ${cause.body.issuer}`);
    if (cause instanceof Response) return notAGenerator(ctx, cause.status, path);
    return new CliError(`${ctx.base} answered ${path} in a way the command line cannot use (${err.message})`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * No answer at all: nothing listens, the connection broke, or the answer took longer than the timeout (openid-client's
 * OAUTH_TIMEOUT, or the platform's TimeoutError where it is passed on as it is).
 */
export function unanswered(err: unknown): err is Error {
  if (err instanceof client.ClientError) return err.code === 'OAUTH_TIMEOUT';
  return err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError');
}

/**
 * Whether asking again may get past a failure: no answer, or a 5xx (the generator restarting, its store or the identity
 * provider away, an ingress between versions), unless the generator says it is set up wrong, which only its operators mend.
 */
export async function worthAskingAgain(err: unknown): Promise<boolean> {
  const answer = await errorAnswerOf(err);
  if (answer) return answer.status >= 500 && (answer.body as { reason?: unknown } | undefined)?.reason !== 'generator_misconfigured';
  return unanswered(err);
}

/** --no-cache skips the generator's cache too, on every request to its token endpoint. */
const withoutCache: client.CustomFetch = (url, options) => {
  const headers = new Headers(options.headers);
  headers.set('cache-control', 'no-cache');
  return fetch(url, { ...options, headers } as RequestInit);
};

/** The authorization-server metadata of the generator whose issuer is `issuer` (over http only on a loopback or test setup). */
async function discovered(ctx: Context, issuer: string): Promise<client.Configuration> {
  const server = await client.discovery(new URL(issuer), CLIENT_ID, undefined, client.None(), {
    algorithm: 'oauth2',
    timeout: 30,
    ...(issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : {}),
  });
  if (!ctx.useCache) server[client.customFetch] = withoutCache;
  return server;
}

/**
 * The issuer a generator on this machine names for itself where --url names it by another of its loopback names: it answers
 * to `localhost`, `127.0.0.1` and `[::1]` at its port (host-names.ts), and its issuer is one of them (`http://localhost:8080`
 * by default). `--url http://127.0.0.1:8080`, the address it listens on, was refused as another issuer (RFC 8414 §3.3).
 * The login uses the issuer's own addresses from its metadata: the browser signs in there, where the consent form checks its
 * origin, and comes back to the command's loopback address, the same whatever --url said. Any other difference (scheme,
 * port, path, a name of another machine) is no such alias: undefined, and refused as before.
 */
function loopbackAlias(base: string, err: unknown): string | undefined {
  if (!(err instanceof client.ClientError) || err.code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') return undefined;
  const issuer = (err.cause as { body?: { issuer?: unknown } } | undefined)?.body?.issuer;
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) return undefined;
  const [asked, named] = [new URL(base), new URL(issuer)];
  const alias =
    asked.protocol === named.protocol &&
    asked.port === named.port &&
    asked.pathname === named.pathname &&
    LOOPBACK_NAMES.includes(asked.hostname) &&
    LOOPBACK_NAMES.includes(named.hostname);
  return alias ? issuer : undefined;
}

/** The generator's authorization-server metadata, discovered from --url, or from the issuer it names when that is an alias. */
export async function authorizationServer(ctx: Context): Promise<client.Configuration> {
  let issuer = ctx.base;
  try {
    return await discovered(ctx, issuer);
  } catch (err) {
    const alias = loopbackAlias(ctx.base, err);
    if (alias === undefined) throw await asCliError(ctx, err, PATHS.authorizationServerMetadata);
    issuer = alias;
  }
  try {
    return await discovered(ctx, issuer);
  } catch (err) {
    throw await asCliError(ctx, err, PATHS.authorizationServerMetadata);
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
    throw await asCliError(ctx, err, PATHS.token);
  }
}

/** The generator's own code for an OAuth error (`reason`), where it says more than `error`. */
function reasonOf(err: client.ResponseBodyError): unknown {
  return (err.cause as { reason?: unknown } | undefined)?.reason;
}

/** Ends the command line's own sessions at the generator (RFC 7009), one per refresh token; the browser's stays. */
export async function revoke(ctx: Context, refreshTokens: string[]): Promise<void> {
  const server = await authorizationServer(ctx);
  const revoked = await Promise.allSettled(refreshTokens.map((refreshToken) => client.tokenRevocation(server, refreshToken)));
  const failed = revoked.find((result) => result.status === 'rejected');
  if (failed) throw await asCliError(ctx, (failed as PromiseRejectedResult).reason, PATHS.revoke);
}
