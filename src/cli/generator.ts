/**
 * Talking to the token generator over its own HTTP API: one line for each way it can go wrong, and
 * the check that keeps cached tokens of another tenant (a generator restarted with a new emulator)
 * from being printed.
 */
import { parseAudience } from '../audience.js';
import { PATHS } from '../paths.js';
import type { Context } from './context.js';
import { CliError } from './errors.js';
import { send, type Answer } from './http.js';

/** A request to the generator; one line when it cannot be reached. */
export async function call(
  ctx: Context,
  path: string,
  init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {},
) {
  const headers = { ...init.headers, ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) };
  try {
    return await send(`${ctx.base}${path}`, {
      ...(init.method ? { method: init.method } : {}),
      headers,
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
      timeoutMs: 30_000,
    });
  } catch (err) {
    throw unreachable(ctx, err);
  }
}

export function unreachable(ctx: Context, err: unknown): CliError {
  const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  // OpenSSL's messages run over lines (with its source file's path): the line is kept to one.
  const cause = (inner instanceof Error ? inner.message : String(inner)).replace(/\s+/g, ' ').trim();
  const code = (inner as { code?: unknown }).code;
  // An https --url where plain http answers: OpenSSL's "wrong version number" says nothing a reader can act on.
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(cause))
    return new CliError(
      `cannot reach the generator at ${ctx.base}: what answers there does not speak https; ` +
        `is --url ${ctx.base.replace(/^https:/, 'http:')}?`,
    );
  const advice =
    typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)
      ? 'its certificate is not trusted here: give Node.js the CA that signed it with NODE_EXTRA_CA_CERTS=<file>'
      : 'is it running, and is --url right?';
  return new CliError(`cannot reach the generator at ${ctx.base} (${cause}): ${advice}`);
}

/** Something answered at --url, but not as a token generator does: say so in one line, not what it said. */
export function notAGenerator(ctx: Context, status: number, path: string): CliError {
  return (
    notTheRoot(ctx, status, path) ??
    new CliError(`${ctx.base} is not a token generator (it answered HTTP ${status} to ${path}): check --url or TOKEN_GENERATOR_URL`)
  );
}

/**
 * A --url with a path (`http://host/api`, one of the generator's own pages) puts the generator's paths under it, where nothing is:
 * the generator's own 404 names a path the user never typed. A usage error, with the root URL the generator is likely at.
 */
function notTheRoot(ctx: Context, status: number, path: string): CliError | undefined {
  const url = new URL(ctx.base);
  if (status !== 404 || url.pathname === '/') return undefined;
  return new CliError(
    `${ctx.base} does not point at a token generator (it answered HTTP 404 to ${path}): --url and TOKEN_GENERATOR_URL take ` +
      `the generator's root URL, such as ${url.origin}`,
    2,
  );
}

/** The longest part of a refusal's text that is shown: the generator's is one sentence or two. */
const SHOWN_TEXT_MAX = 300;

/**
 * A 421 (Misdirected Request): what answers at --url was not set up for the name in it. The generator answers so, in plain
 * text before any route (and so without a correlation id), to every name but its PUBLIC_URL's and the loopback ones: behind a
 * proxy that passes the name on, started without PUBLIC_URL, to every request. Its words, and what to do; it is not "not a
 * token generator".
 */
function misdirected(ctx: Context, status: number, text: string | undefined): CliError | undefined {
  if (status !== 421) return undefined;
  // Whatever answered wrote it: kept to one line, without control or format characters (a bidi override), and short.
  const said = (text ?? '')
    .replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ')
    .trim()
    .slice(0, SHOWN_TEXT_MAX);
  const words = said ? `: ${/[.!?]$/.test(said) ? said : `${said}.`}` : '.';
  return new CliError(
    `the generator at ${ctx.base} does not answer to the name ${new URL(ctx.base).host} (HTTP 421)${words} Behind a proxy at ` +
      `that address, it needs PUBLIC_URL=${ctx.base} where it runs.`,
  );
}

/**
 * The generator's own advice, as one line, with any details (such as the access policy to add) after it.
 * Every error the generator answers carries its correlation id in the body and in X-Correlation-ID; an
 * identity provider's error (Entra's has a correlation_id too) or anything else does not. `text` is the body
 * as it came, for an answer that is not JSON.
 */
export function failureOf(
  ctx: Context,
  status: number,
  correlationHeader: string | null | undefined,
  body: unknown,
  path: string,
  text?: string,
): CliError {
  const answer = (body && typeof body === 'object' ? body : {}) as {
    error_description?: unknown;
    message?: unknown;
    details?: unknown;
    correlation_id?: unknown;
  };
  // The generator's own 404 under a --url with a path is the --url's fault, not a refusal to pass on.
  const wrongUrl = notTheRoot(ctx, status, path);
  if (wrongUrl) return wrongUrl;
  const ours = typeof answer.correlation_id === 'string' && answer.correlation_id === correlationHeader;
  if (typeof answer.error_description !== 'string' || !ours) return misdirected(ctx, status, text) ?? notAGenerator(ctx, status, path);
  if (typeof answer.details !== 'string') return new CliError(answer.error_description);
  // An OAuth body says it all on one line, and the message apart from the details; a JSON body's description is the message.
  const message = typeof answer.message === 'string' ? answer.message : answer.error_description;
  return new CliError(`${message}\n\n${answer.details}`);
}

/** A body shown as words only when it is plain text, as the generator's 421 is: not a proxy's or a CDN's page. */
export const plainText = (contentType: string | null | undefined, text: string | undefined): string | undefined =>
  contentType?.toLowerCase().startsWith('text/plain') ? text : undefined;

export const failure = (ctx: Context, res: Answer, path: string): CliError =>
  failureOf(ctx, res.status, res.header('x-correlation-id'), res.json(), path, plainText(res.header('content-type'), res.text()));

/** A token response as the generator sends it, or the one line saying that --url is something else. */
export function tokenBody(ctx: Context, res: Answer, path: string): { access_token: string; expires_in: number } {
  const body = res.json() as { access_token?: unknown; expires_in?: unknown } | undefined;
  if (typeof body?.access_token !== 'string' || typeof body.expires_in !== 'number') throw notAGenerator(ctx, res.status, path);
  return { access_token: body.access_token, expires_in: body.expires_in };
}

export interface TrustedIssuer {
  issuer: string;
  jwksUri: string;
}

/**
 * How long a cached token waits for the generator to name its issuer before it is printed unchecked, as when the generator
 * cannot be reached. The generator names it from memory, within milliseconds (140 ms is a cached token's whole run, its
 * start included: BENCHMARKS.md, figure 8); the check matters for a generator whose tenant changes, a local one on an
 * emulator, which answers at once. With `decode`'s 10 s, a generator that took connections and never answered held every
 * cached token for 10 s.
 */
const ISSUER_CHECK_MS = 1_000;

/** The issuer of the generator's identity provider (the one issuer `decode` calls valid), or why it is unknown. */
export async function trustedIssuer(ctx: Context, timeoutMs = 10_000): Promise<TrustedIssuer | string> {
  try {
    const res = await send(`${ctx.base}${PATHS.identityProvider}`, { headers: { accept: 'application/json' }, timeoutMs });
    const body = (res.json() ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
    if (res.status !== 200 || typeof body.issuer !== 'string' || typeof body.jwks_uri !== 'string')
      return `${ctx.base} did not say (HTTP ${res.status})`;
    return { issuer: body.issuer, jwksUri: body.jwks_uri };
  } catch (err) {
    return `${ctx.base} could not be asked (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** A JWT's `iss`, read without checking anything: enough to tell one tenant's tokens from another's. */
function issuerOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof claims.iss === 'string' ? claims.iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The target an audience names, however it is written: what its tokens and session are kept under, so that
 * `Dev-GCP.My-Team.My-App` finds what `dev-gcp:my-team:my-app` got. One it cannot read is kept as written (the generator
 * refuses it, with its advice).
 */
export function targetOf(audience: string): string {
  const parsed = parseAudience(audience);
  return parsed.ok ? parsed.value.target : audience;
}

/**
 * A cached token, unless its issuer is no longer the generator's: after a restart with a new tenant
 * (a new emulator) the old tokens are refused everywhere, so they are dropped, never printed. When the
 * generator cannot be asked, or does not answer within ISSUER_CHECK_MS, the cached token is kept.
 */
export async function cachedToken(ctx: Context, key: string): Promise<string | undefined> {
  if (!ctx.useCache) return undefined;
  const cached = await ctx.cache.token(ctx.base, key);
  if (!cached) return undefined;
  const trusted = await trustedIssuer(ctx, ISSUER_CHECK_MS);
  if (typeof trusted === 'string' || issuerOf(cached.accessToken) === trusted.issuer) return cached.accessToken;
  await ctx.cache.dropTokens(ctx.base, (token) => issuerOf(token.accessToken) !== trusted.issuer);
  return undefined;
}

export async function storeToken(ctx: Context, key: string, token: { access_token: string; expires_in?: number }): Promise<void> {
  const lifetimeMs = (token.expires_in ?? 0) * 1000;
  await ctx.cache.storeToken(ctx.base, key, { accessToken: token.access_token, expiresAt: Date.now() + lifetimeMs, lifetimeMs });
}
