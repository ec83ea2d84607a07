/**
 * token-generator: tokens from the token generator for scripts, shells and .env files.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { TokenCacheFile } from './cache.js';
import { readCliEnv } from './env.js';
import { ConfigError } from '../env.js';
import { updateEnvFile } from './dotenv.js';
import { durationInWords } from '../duration.js';
import { escapeHtml, pageStart } from '../generator/http/views/html.js';
import { PATHS } from '../paths.js';

const NAME = 'token-generator';
const DEFAULT_URL = 'http://localhost:8080';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

class LoginRequired extends Error {}

const HELP: Record<string, string> = {
  main: `Usage: ${NAME} <command> [options]

Tokens from the Entra ID token generator, for scripts, shells and .env files.

Commands:
  m2m <audience>                         print an app token (client credentials)
  obo <audience> [--device]              print a token on your behalf (logs you in with the browser the first time)
  env <audience> --name VAR [--file F]   write VAR=<token> into a .env file (default .env), keeping every other line
  exec <audience> --name VAR -- <cmd>    run a command with the token in its environment
  decode [<token>]                       show a token's header, claims and expiry, and check its signature
  logout                                 forget the cached tokens and end the command line's session
  help [<command>]                       this text, or a command's own

Options for every command:
  --url <url>       the token generator (default $TOKEN_GENERATOR_URL or ${DEFAULT_URL})
  --no-cache        do not use cached tokens
  -h, --help        help for a command, e.g. ${NAME} obo --help or ${NAME} help obo

The audience is <cluster>:<namespace>:<app>, for example dev-gcp:my-team:my-app.`,
  m2m: `Usage: ${NAME} m2m <audience> [--url URL] [--no-cache]

Prints an app token for <audience> and a newline, and nothing else:
  TOKEN=$(${NAME} m2m dev-gcp:my-team:my-app)`,
  obo: `Usage: ${NAME} obo <audience> [--device] [--url URL] [--no-cache] [--timeout SECONDS]

Prints a token for <audience> on your behalf. The first time, it opens your browser (or prints the URL)
to log in at the generator, which asks you whether to let the command line get tokens as you; after that
it renews tokens with its refresh token, without a browser, for as long as its own session lasts.
--device logs in without a browser on this machine (over SSH, in a container): it prints a short code to
enter on the generator's page on any device. Set BROWSER=none to only print the URL. --timeout is how long
to wait for the login (default 300).`,
  env: `Usage: ${NAME} env <audience> --name VAR [--file .env] [--obo] [--url URL] [--no-cache]

Writes VAR=<token> into the file (default .env), replacing the line that sets VAR or adding one,
and keeping every other line as it was. --obo gets a token on your behalf instead of an app token.`,
  exec: `Usage: ${NAME} exec <audience> --name VAR [--obo] [--url URL] [--no-cache] -- <command> [args...]

Runs the command with VAR=<token> in its environment and exits with its exit code.`,
  decode: `Usage: ${NAME} decode [<token>] [--url URL]

Shows the token's header and claims (the token is read from standard input when not given), when it
expires, and whether its signature verifies: "valid" only for a token of the token generator's identity
provider (asked at --url); for any other issuer, which keys it matched and that they were not trusted.
Exits with 1 when the signature does not verify.`,
  logout: `Usage: ${NAME} logout [--url URL]

Forgets every cached token and the refresh token, and ends the command line's own session at the
generator; your session in the browser stays.`,
};

interface Context {
  base: string;
  cache: TokenCacheFile;
  useCache: boolean;
  /** Log in by the device flow instead of a browser on this machine. */
  device: boolean;
  timeoutMs: number;
  /** BROWSER: the command that opens the login page; `none` only prints its URL. */
  browser?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

async function call(ctx: Context, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(`${ctx.base}${path}`, { redirect: 'manual', ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new CliError(`cannot reach the generator at ${ctx.base} (${cause}): is it running, and is --url right?`);
  }
}

/** Something answered at --url, but not as a token generator does: say so in one line, not what it said. */
function notAGenerator(ctx: Context, res: Response, path: string): CliError {
  return new CliError(
    `${ctx.base} is not a token generator (it answered HTTP ${res.status} to ${path}): check --url or TOKEN_GENERATOR_URL`,
  );
}

/**
 * The generator's own advice, as one line, with any details (such as the access policy to add) after it.
 * Every error the generator answers carries its correlation id in the body and in X-Correlation-ID; an
 * identity provider's error (Entra's has a correlation_id too) or anything else does not.
 */
async function failure(ctx: Context, res: Response, path: string): Promise<CliError> {
  let body: { error_description?: unknown; details?: unknown; correlation_id?: unknown } | undefined;
  try {
    body = JSON.parse(await res.text()) as typeof body;
  } catch {
    body = undefined;
  }
  const ours = typeof body?.correlation_id === 'string' && body.correlation_id === res.headers.get('x-correlation-id');
  if (!body || typeof body.error_description !== 'string' || !ours) return notAGenerator(ctx, res, path);
  return new CliError(typeof body.details === 'string' ? `${body.error_description}\n\n${body.details}` : body.error_description);
}

/** A token response as the generator sends it, or the one line saying that --url is something else. */
async function tokenBody(ctx: Context, res: Response, path: string): Promise<{ access_token: string; expires_in: number }> {
  const body = (await res.json().catch(() => undefined)) as { access_token?: unknown; expires_in?: unknown } | undefined;
  if (typeof body?.access_token !== 'string' || typeof body.expires_in !== 'number') throw notAGenerator(ctx, res, path);
  return { access_token: body.access_token, expires_in: body.expires_in };
}

function issuerOf(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** The issuer of the generator's tokens now; undefined when it cannot be asked (then cached tokens are kept). */
async function currentIssuer(ctx: Context): Promise<string | undefined> {
  const trusted = await trustedIssuer(ctx);
  return typeof trusted === 'string' ? undefined : trusted.issuer;
}

/**
 * A cached token, unless its issuer is no longer the generator's: after a restart with a new tenant
 * (a new emulator) the old tokens are refused everywhere, so they are dropped, never printed.
 */
async function cachedToken(ctx: Context, key: string): Promise<string | undefined> {
  if (!ctx.useCache) return undefined;
  const cached = await ctx.cache.token(ctx.base, key);
  if (!cached) return undefined;
  const issuer = await currentIssuer(ctx);
  if (issuer === undefined || issuerOf(cached.accessToken) === issuer) return cached.accessToken;
  await ctx.cache.dropTokens(ctx.base, (token) => issuerOf(token.accessToken) !== issuer);
  return undefined;
}

/** --no-cache skips the generator's cache too. */
const freshness = (ctx: Context): Record<string, string> => (ctx.useCache ? {} : { 'cache-control': 'no-cache' });

async function appToken(ctx: Context, audience: string): Promise<string> {
  const key = `m2m ${audience}`;
  const cached = await cachedToken(ctx, key);
  if (cached) return cached;
  const path = PATHS.m2m;
  const res = await call(ctx, path, {
    method: 'POST',
    headers: { accept: 'application/json', ...freshness(ctx) },
    body: new URLSearchParams({ aud: audience }),
  });
  if (!res.ok) throw await failure(ctx, res, path);
  const body = await tokenBody(ctx, res, path);
  await ctx.cache.storeToken(ctx.base, key, { accessToken: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 });
  return body.access_token;
}

/** The command line's name for itself, shown on the page that asks the employee. */
const CLIENT_ID = 'the token-generator command line';
/** The device flow takes no name that passes for the generator's own: the command line there is any tool. */
const DEVICE_CLIENT_ID = 'a command line (--device)';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface ToolTokens {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

/**
 * One request to the token endpoint; invalid_grant means the command line's session is gone, and a
 * refresh for a target its session was not consented for needs the employee's consent: both log in again.
 */
async function tokenRequest(ctx: Context, params: Record<string, string>): Promise<ToolTokens> {
  const res = await call(ctx, PATHS.token, { method: 'POST', headers: freshness(ctx), body: new URLSearchParams(params) });
  if (res.ok) return (await res.json()) as ToolTokens;
  const failed = await failure(ctx, res.clone(), PATHS.token);
  const body = (await res.json().catch(() => ({}))) as { error?: string; reason?: string };
  if (body.error === 'invalid_grant' || body.reason === 'target_not_consented') throw new LoginRequired();
  throw failed;
}

async function employeeToken(ctx: Context, audience: string): Promise<string> {
  const key = `obo ${audience}`;
  const cached = await cachedToken(ctx, key);
  if (cached) return cached;
  const refreshToken = await ctx.cache.refreshToken(ctx.base);
  let tokens: ToolTokens | undefined;
  if (refreshToken) {
    try {
      tokens = await tokenRequest(ctx, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: audience });
    } catch (err) {
      if (!(err instanceof LoginRequired)) throw err;
      // The command line's session ended at the generator, or was not consented for this target: log in again.
      await ctx.cache.storeRefreshToken(ctx.base, undefined);
    }
  }
  tokens ??= ctx.device ? await deviceLogin(ctx, audience) : await browserLogin(ctx, audience);
  if (tokens.refresh_token) await ctx.cache.storeRefreshToken(ctx.base, tokens.refresh_token);
  await ctx.cache.storeToken(ctx.base, key, { accessToken: tokens.access_token, expiresAt: Date.now() + tokens.expires_in * 1000 });
  return tokens.access_token;
}

function openBrowser(ctx: Context, url: string): void {
  const browser = ctx.browser;
  if (browser === 'none') return;
  const [command, args] = browser
    ? [browser, [url]]
    : process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The URL is printed anyway.
  }
}

/** The page the browser lands on at the loopback address, in the generator's own style (its stylesheet, from the generator). */
function loopbackPage(base: string, title: string, text: string, failed = false): string {
  return `${pageStart(title, base)}
<main><section${failed ? ' class="error"' : ''}><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>
<p class="muted">This page comes from the <code>${NAME}</code> command on this computer.</p></section></main>
</body>
</html>
`;
}

/** Waits for `arrived`, or says the login timed out. */
async function withinTimeout<T>(ctx: Context, arrived: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CliError(
            `login timed out after ${Math.round(ctx.timeoutMs / 1000)} seconds: run the command again and log in in the browser`,
          ),
        ),
      ctx.timeoutMs,
    );
  });
  try {
    return await Promise.race([arrived, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A loopback listener for the browser's return (RFC 8252), checking the state this process chose. */
async function loopbackListener(ctx: Context, state: string) {
  let settle!: (result: { code?: string; error?: string }) => void;
  const arrived = new Promise<{ code?: string; error?: string }>((resolve) => (settle = resolve));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const code = url.searchParams.get('code');
    if (url.searchParams.get('state') !== state) {
      res
        .writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          loopbackPage(
            ctx.base,
            'Login not for this command',
            'This login answer does not belong to the command that is waiting. Run the command again.',
            true,
          ),
        );
      settle({ error: 'the login answer did not match this command (state mismatch): run it again' });
      return;
    }
    if (!code) {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(loopbackPage(ctx.base, 'No tokens for the command line', 'You can close this window.', true));
      const denied = url.searchParams.get('error') === 'access_denied';
      settle({
        error: denied
          ? 'you denied the command line in the browser'
          : `the login failed: ${url.searchParams.get('error_description') ?? 'no reason given'}`,
      });
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(loopbackPage(ctx.base, 'Logged in', 'You can close this window and go back to the terminal.'));
    settle({ code });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, arrived, close };
}

/**
 * The generator's authorization endpoint, as any native app uses it: a loopback redirect, a state and a PKCE verifier only this process
 * knows.
 */
async function browserLogin(ctx: Context, audience: string): Promise<ToolTokens> {
  const state = randomBytes(24).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const listener = await loopbackListener(ctx, state);
  const query = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: listener.redirectUri,
    scope: audience,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  const loginUrl = `${ctx.base}${PATHS.authorize}?${new URLSearchParams(query)}`;
  ctx.err.write(`Log in with your browser: ${loginUrl}\n`);
  openBrowser(ctx, loginUrl);
  let result;
  try {
    result = await withinTimeout(ctx, listener.arrived);
  } finally {
    listener.close();
  }
  if (!result.code) throw new CliError(result.error ?? 'login failed');
  return tokenRequest(ctx, {
    grant_type: 'authorization_code',
    code: result.code,
    code_verifier: verifier,
    redirect_uri: listener.redirectUri,
    client_id: CLIENT_ID,
  });
}

/** RFC 8628: the employee approves on any device while this process polls. */
async function deviceLogin(ctx: Context, audience: string): Promise<ToolTokens> {
  const res = await call(ctx, PATHS.deviceAuthorization, {
    method: 'POST',
    body: new URLSearchParams({ client_id: DEVICE_CLIENT_ID, scope: audience }),
  });
  if (!res.ok) throw await failure(ctx, res, PATHS.deviceAuthorization);
  const started = (await res.json()) as {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete?: string;
    interval?: number;
  };
  ctx.err.write(`To log in, open ${started.verification_uri} on any device and enter the code ${started.user_code}\n`);
  if (started.verification_uri_complete) ctx.err.write(`or open: ${started.verification_uri_complete}\n`);
  const polling = async (): Promise<ToolTokens> => {
    let interval = started.interval ?? 5;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, interval * 1000).unref());
      const answer = await call(ctx, PATHS.token, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: started.device_code }),
      });
      if (answer.ok) return (await answer.json()) as ToolTokens;
      const body = (await answer
        .clone()
        .json()
        .catch(() => ({}))) as { error?: string };
      if (body.error === 'authorization_pending') continue;
      if (body.error === 'slow_down') interval += 5;
      else if (body.error === 'access_denied') throw new CliError('the login was denied on the page that asked');
      else if (body.error === 'expired_token') throw new CliError('the code expired before anyone approved it: run the command again');
      else throw await failure(ctx, answer, PATHS.token);
    }
  };
  return withinTimeout(ctx, polling());
}

export function expiryInWords(exp: number | undefined, now = Date.now()): string {
  if (typeof exp !== 'number') return 'never expires (no exp claim)';
  const seconds = Math.round(exp - now / 1000);
  return seconds >= 0 ? `expires in ${durationInWords(seconds)}` : `expired ${durationInWords(-seconds)} ago`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface TrustedIssuer {
  issuer: string;
  jwksUri: string;
}

/** The issuer of the generator's identity provider: the one issuer `decode` calls valid. */
async function trustedIssuer(ctx: Context): Promise<TrustedIssuer | string> {
  try {
    const res = await fetch(`${ctx.base}${PATHS.identityProvider}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (!res.ok || typeof body.issuer !== 'string' || typeof body.jwks_uri !== 'string')
      return `${ctx.base} did not say (HTTP ${res.status})`;
    return { issuer: body.issuer, jwksUri: body.jwks_uri };
  } catch (err) {
    return `${ctx.base} could not be asked (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** The JWKS URI that the token's own issuer publishes; its say-so is all there is to it. */
async function selfNamedKeys(iss: string): Promise<string> {
  const discovery = await fetch(`${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
  const jwksUri = ((await discovery.json()) as { jwks_uri?: unknown }).jwks_uri;
  if (typeof jwksUri !== 'string') throw new Error('no jwks_uri');
  return jwksUri;
}

/**
 * Verifies the signature. "valid" is said only for a token of the generator's identity provider,
 * checked with the keys the generator names: anyone can publish keys for an issuer they make up.
 */
async function checkSignature(ctx: Context, token: string, iss: string): Promise<number> {
  const trusted = await trustedIssuer(ctx);
  const ours = typeof trusted !== 'string' && trusted.issuer === iss;
  let jwksUri: string;
  if (ours) jwksUri = trusted.jwksUri;
  else {
    try {
      jwksUri = await selfNamedKeys(iss);
    } catch (err) {
      ctx.out.write(
        `Signature: not checked: the issuer's keys could not be fetched (${err instanceof Error ? err.message : String(err)})\n`,
      );
      return 0;
    }
  }
  try {
    await jwtVerify(token, createRemoteJWKSet(new URL(jwksUri)), { issuer: iss });
  } catch (err) {
    ctx.out.write(`Signature: NOT valid (${err instanceof Error ? err.message : String(err)})\n`);
    return 1;
  }
  if (ours) {
    ctx.out.write(`Signature: valid (issued by ${iss}, the token generator's identity provider; keys from ${jwksUri})\n`);
  } else {
    const which =
      typeof trusted === 'string'
        ? `the token generator's identity provider is unknown: ${trusted}`
        : `the token generator's is ${trusted.issuer}`;
    ctx.out.write(
      `Signature: matches keys that ${iss}, the issuer the token names itself, publishes at ${jwksUri}; not checked against a ` +
        `trusted issuer (${which})\n`,
    );
  }
  return 0;
}

async function decode(ctx: Context, token: string): Promise<number> {
  let header;
  let claims;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw new CliError('that is not a JWT: a token has three parts separated by "."');
  }
  ctx.out.write(`Header:\n${JSON.stringify(header, null, 2)}\nClaims:\n${JSON.stringify(claims, null, 2)}\n`);
  ctx.out.write(`Expiry: ${expiryInWords(claims.exp)}\n`);
  if (typeof claims.iss !== 'string') {
    ctx.out.write('Signature: not checked (the token names no issuer)\n');
    return 0;
  }
  return checkSignature(ctx, token, claims.iss);
}

const OPTIONS = {
  url: { type: 'string' },
  'no-cache': { type: 'boolean' },
  obo: { type: 'boolean' },
  name: { type: 'string' },
  file: { type: 'string' },
  timeout: { type: 'string' },
  device: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Node's parser explains in three sentences; one line naming the flag is what a reader needs. */
function usageError(err: unknown): CliError {
  const message = err instanceof Error ? err.message : String(err);
  const flag = /'(-{1,2}[^'\s=<]+)/.exec(message)?.[1] ?? 'an option';
  const code = (err as { code?: string }).code;
  const what =
    code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
      ? `unknown option ${flag}`
      : /argument missing/.test(message)
        ? `option ${flag} needs a value`
        : /does not take an argument/.test(message)
          ? `option ${flag} takes no value`
          : `option ${flag} is not valid here`;
  return new CliError(`${what}; see ${NAME} --help`, 2);
}

function parseCommandLine(own: string[]) {
  try {
    return parseArgs({ args: own, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw usageError(err);
  }
}

/** `--help`, `help` and `help <command>`; undefined when the command line asks for something else. */
function helpText(sub: string | undefined, rest: string[], help: boolean | undefined): { text: string; code: number } | undefined {
  if (sub === 'help') {
    const topic = rest[0];
    if (topic && !HELP[topic]) throw new CliError(`unknown command "${topic}"; see ${NAME} --help`, 2);
    return { text: HELP[topic ?? 'main']!, code: 0 };
  }
  if (!sub) return { text: HELP.main!, code: help ? 0 : 2 };
  if (help) return { text: HELP[sub] ?? HELP.main!, code: 0 };
  return undefined;
}

type Io = { out: NodeJS.WritableStream; err: NodeJS.WritableStream; env: NodeJS.ProcessEnv };
type Options = ReturnType<typeof parseCommandLine>['values'];

/** What the command was given: the words after it, the command to run after `--`, the options. */
interface Invocation {
  rest: string[];
  command: string[];
  values: Options;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const dashDash = argv.indexOf('--');
  const own = dashDash === -1 ? argv : argv.slice(0, dashDash);
  const command = dashDash === -1 ? [] : argv.slice(dashDash + 1);
  const { values, positionals } = parseCommandLine(own);
  const [sub, ...rest] = positionals;
  const help = helpText(sub, rest, values.help);
  if (help) {
    io.out.write(`${help.text}\n`);
    return help.code;
  }
  if (!sub || !HELP[sub]) throw new CliError(`unknown command "${sub}"; see ${NAME} --help`, 2);
  return runCommand(sub, { rest, command, values }, contextOf(values, io));
}

/** The generator to ask, the cache, and how long a login may take, from the options and the environment. */
function contextOf(values: Options, io: Io): Context {
  let variables;
  try {
    variables = readCliEnv(io.env);
  } catch (err) {
    throw err instanceof ConfigError ? new CliError(err.sentence, 2) : err;
  }
  const base = (values.url ?? variables.generatorUrl ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol))
    throw new CliError(`--url must be an http(s) URL, not ${JSON.stringify(base)}`, 2);
  const timeoutSeconds = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CliError('--timeout must be a number of seconds', 2);
  return {
    base,
    cache: new TokenCacheFile(variables.cacheFile),
    ...(variables.browser ? { browser: variables.browser } : {}),
    useCache: !values['no-cache'],
    device: values.device ?? false,
    timeoutMs: timeoutSeconds * 1000,
    ...io,
  };
}

/** Runs one command with what it was given; resolves with the exit code. */
async function runCommand(sub: string, { rest, command, values }: Invocation, ctx: Context): Promise<number> {
  const needAudience = () => {
    const audience = rest[0];
    if (!audience) throw new CliError(`${sub} needs an audience, such as dev-gcp:my-team:my-app; see ${NAME} ${sub} --help`, 2);
    return audience;
  };
  const needName = () => {
    if (!values.name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(values.name))
      throw new CliError(`${sub} needs --name with a variable name, such as --name TOKEN`, 2);
    return values.name;
  };
  const tokenFor = (audience: string, onBehalfOf: boolean) => (onBehalfOf ? employeeToken(ctx, audience) : appToken(ctx, audience));

  switch (sub) {
    case 'm2m':
      ctx.out.write(`${await appToken(ctx, needAudience())}\n`);
      return 0;
    case 'obo':
      ctx.out.write(`${await employeeToken(ctx, needAudience())}\n`);
      return 0;
    case 'env': {
      const audience = needAudience();
      const name = needName();
      const file = values.file ?? '.env';
      await updateEnvFile(file, name, await tokenFor(audience, values.obo ?? false));
      ctx.err.write(`${name} set in ${file}\n`);
      return 0;
    }
    case 'exec': {
      const audience = needAudience();
      const name = needName();
      if (command.length === 0)
        throw new CliError(`exec needs a command after --, e.g. ${NAME} exec ${audience} --name TOKEN -- ./script.sh`, 2);
      return runWithToken(ctx, command, name, await tokenFor(audience, values.obo ?? false));
    }
    case 'decode': {
      const token = (rest[0] ?? (await readStdin())).trim();
      if (!token) throw new CliError('give a token as argument or on standard input', 2);
      return decode(ctx, token);
    }
    case 'logout':
      return logout(ctx);
    default:
      throw new CliError(`unknown command "${sub}"`, 2);
  }
}

/** Runs `command` with the token in the variable `name`, and ends as it ends. */
function runWithToken(ctx: Context, command: string[], name: string, token: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...ctx.env, [name]: token } });
    child.on('error', (err) => reject(new CliError(`cannot run ${command[0]}: ${err.message}`, 127)));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function logout(ctx: Context): Promise<number> {
  const refreshToken = await ctx.cache.refreshToken(ctx.base);
  await ctx.cache.forget();
  // Ends the command line's own session at the generator (RFC 7009); the browser's stays.
  if (refreshToken)
    await call(ctx, PATHS.revoke, { method: 'POST', body: new URLSearchParams({ token: refreshToken }) }).catch(() => undefined);
  ctx.err.write('Logged out: cached tokens forgotten and the command line\u2019s session ended.\n');
  return 0;
}

/** Output cut short by a closed pipe (`| head -1`) is what the reader wanted: end quietly. */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`${NAME}: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
}

export async function main(): Promise<void> {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  try {
    process.exitCode = await run(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env });
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`${NAME}: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`${NAME}: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
