/**
 * Login for the command-line client, as RFC 8252 describes for native apps: the command opens
 * /oauth2/cli/login in a browser with a loopback redirect URI, a state and a PKCE challenge; once
 * the person is logged in, the browser is sent to the loopback address with a one-time code, and
 * the command redeems it, with the verifier only it knows, for the session ticket.
 * No token ever travels in a URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { loginUrl, PATHS } from '../../paths.js';
import type { Sealer } from '../../session/index.js';
import type { GeneratorContext } from '../context.js';
import { refuse } from '../errors.js';
import { answersIn } from '../negotiate.js';
import { safeReturnPath } from '../redirect.js';
import type { PersonLimits } from '../limits.js';
import type { Sessions } from '../sessions.js';

const CODE_SECONDS = 60;
const CODE_CONTEXT = 'cli-code';

/** Only http://127.0.0.1:<port>/… or http://[::1]:<port>/…, nothing else a browser could be sent to. */
export function loopbackRedirect(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 512 || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'http:') return undefined;
  if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') return undefined;
  if (url.username || url.password || url.hash || !url.port) return undefined;
  // The string itself must be what the URL parser saw: no tricks that parse differently elsewhere.
  if (!value.startsWith(`http://${url.host}/`)) return undefined;
  return value;
}

const Code = z.object({
  id: z.string(),
  ticket: z.string(),
  challenge: z.string(),
  redirectUri: z.string(),
  expiresAt: z.number(),
});

/** The loopback redirect URI, state and PKCE challenge of a command-line login, or a 400. */
function cliLogin(query: Record<string, unknown>): { redirectUri: string; state: string; challenge: string } {
  const redirectUri = loopbackRedirect(query.redirect_uri);
  if (!redirectUri) {
    throw refuse(
      400,
      'invalid_redirect_uri',
      'The command-line client must use a loopback address as redirect_uri: http://127.0.0.1:<port>/… or http://[::1]:<port>/….',
    );
  }
  const { state, code_challenge: challenge } = query;
  if (typeof state !== 'string' || !/^[\w.~-]{16,200}$/.test(state)) throw refuse(400, 'invalid_request', 'A state of 16 to 200 URL-safe characters is required.');
  if (query.code_challenge_method !== 'S256' || typeof challenge !== 'string' || !/^[\w-]{43}$/.test(challenge)) {
    throw refuse(400, 'invalid_request', 'A PKCE code_challenge with code_challenge_method=S256 is required.');
  }
  return { redirectUri, state, challenge };
}

export interface CliDeps {
  ctx: GeneratorContext;
  sessions: Sessions;
  sealer: Sealer;
  limits: PersonLimits;
}

export async function cliRoutes(app: FastifyInstance, deps: CliDeps): Promise<void> {
  const { sessions, sealer, limits } = deps;

  app.get(PATHS.cliLogin, { config: answersIn(['html', 'json', 'text'], 'html') }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const { redirectUri, state, challenge } = cliLogin(request.query as Record<string, unknown>);
    const ticket = request.cookies[sessions.cookies.session];
    const session = await sessions.load(request);
    if (!session || !ticket) return reply.redirect(loginUrl(safeReturnPath(request.url) ?? '/'), 302);

    const code = sealer.seal(
      JSON.stringify({ id: randomBytes(16).toString('base64url'), ticket, challenge, redirectUri, expiresAt: Date.now() + CODE_SECONDS * 1000 }),
      CODE_CONTEXT,
    );
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    target.searchParams.set('state', state);
    return reply.redirect(target.toString(), 302);
  });

  app.post(PATHS.cliToken, { config: answersIn(['json'], 'json') }, async (request, reply) => {
    await limits.cliTokenRedeem(request);
    reply.header('cache-control', 'no-store');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const invalid = (message: string) => refuse(400, 'invalid_grant', message);
    if (typeof body.code !== 'string' || typeof body.code_verifier !== 'string' || typeof body.redirect_uri !== 'string') {
      throw refuse(400, 'invalid_request', 'Send code, code_verifier and redirect_uri.');
    }
    const opened = sealer.open(body.code, CODE_CONTEXT);
    let code: z.infer<typeof Code>;
    try {
      code = Code.parse(JSON.parse(opened ?? 'null'));
    } catch {
      throw invalid('The code is not valid.');
    }
    if (code.expiresAt <= Date.now()) throw invalid('The code has expired: log in again.');
    if (code.redirectUri !== body.redirect_uri) throw invalid('The redirect_uri does not match the one the code was issued for.');
    if (createHash('sha256').update(body.code_verifier).digest('base64url') !== code.challenge) throw invalid('The code_verifier does not match the code_challenge.');
    if (!(await sessions.manager.store.consumeOnce(`cli-code:${code.id}`, CODE_SECONDS * 2000))) throw invalid('The code was already used.');
    const session = await sessions.manager.load(code.ticket);
    if (!session) throw invalid('The session behind this code has ended: log in again.');
    return reply.type('application/json; charset=utf-8').send({ session: code.ticket, expires_at: new Date(session.data.expiresAt).toISOString() });
  });
}
