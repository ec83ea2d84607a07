/**
 * Login for the command-line client, as RFC 8252 describes for native apps: the command opens
 * /oauth2/cli/login in a browser with a loopback redirect URI, a state and a PKCE challenge; once
 * the person is logged in, the browser is sent to the loopback address with a one-time code, and
 * the command redeems it, with the verifier only it knows, for the session ticket.
 * No token ever travels in a URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { StoreUnavailableError, type Sealer } from '../../session/index.js';
import type { GeneratorContext } from '../context.js';
import { preferredFormat } from '../negotiate.js';
import { problem, sendProblem } from '../problem.js';
import { returnPathFromRequestUrl } from '../redirect.js';
import { SESSION_COOKIE, SessionUnavailableError, type Sessions } from '../sessions.js';
import { loginUrl } from './login.js';

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

export async function cliRoutes(app: FastifyInstance, deps: { ctx: GeneratorContext; sessions: Sessions; sealer: Sealer }): Promise<void> {
  const { sessions, sealer } = deps;
  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, error: string, message: string) =>
    sendProblem(reply, request, problem(status, error, message), preferredFormat(request.headers.accept, ['html', 'json', 'text'], 'html'));

  app.get('/oauth2/cli/login', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const query = request.query as Record<string, unknown>;
    const redirectUri = loopbackRedirect(query.redirect_uri);
    if (!redirectUri) {
      return refuse(request, reply, 400, 'invalid_redirect_uri', 'The command-line client must use a loopback address as redirect_uri: http://127.0.0.1:<port>/… or http://[::1]:<port>/….');
    }
    const state = query.state;
    const challenge = query.code_challenge;
    if (typeof state !== 'string' || !/^[\w.~-]{16,200}$/.test(state)) return refuse(request, reply, 400, 'invalid_request', 'A state of 16 to 200 URL-safe characters is required.');
    if (query.code_challenge_method !== 'S256' || typeof challenge !== 'string' || !/^[\w-]{43}$/.test(challenge)) {
      return refuse(request, reply, 400, 'invalid_request', 'A PKCE code_challenge with code_challenge_method=S256 is required.');
    }

    const ticket = request.cookies[SESSION_COOKIE];
    let session;
    try {
      session = await sessions.load(request);
    } catch (err) {
      if (err instanceof SessionUnavailableError) return refuse(request, reply, 503, 'session_store_unavailable', err.message);
      throw err;
    }
    if (!session || !ticket) return reply.redirect(loginUrl(returnPathFromRequestUrl(request.url) ?? '/'), 302);

    const code = sealer.seal(
      JSON.stringify({ id: randomBytes(16).toString('base64url'), ticket, challenge, redirectUri, expiresAt: Date.now() + CODE_SECONDS * 1000 }),
      CODE_CONTEXT,
    );
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    target.searchParams.set('state', state);
    return reply.redirect(target.toString(), 302);
  });

  app.post('/oauth2/cli/token', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const invalid = (message: string) => sendProblem(reply, request, problem(400, 'invalid_grant', message), 'json');
    if (typeof body.code !== 'string' || typeof body.code_verifier !== 'string' || typeof body.redirect_uri !== 'string') {
      return sendProblem(reply, request, problem(400, 'invalid_request', 'Send code, code_verifier and redirect_uri.'), 'json');
    }
    const opened = sealer.open(body.code, CODE_CONTEXT);
    let code: z.infer<typeof Code>;
    try {
      code = Code.parse(JSON.parse(opened ?? 'null'));
    } catch {
      return invalid('The code is not valid.');
    }
    if (code.expiresAt <= Date.now()) return invalid('The code has expired: log in again.');
    if (code.redirectUri !== body.redirect_uri) return invalid('The redirect_uri does not match the one the code was issued for.');
    if (createHash('sha256').update(body.code_verifier).digest('base64url') !== code.challenge) return invalid('The code_verifier does not match the code_challenge.');
    try {
      if (!(await sessions.manager.store.consumeOnce(`cli-code:${code.id}`, CODE_SECONDS * 2000))) return invalid('The code was already used.');
      const session = await sessions.manager.load(code.ticket);
      if (!session) return invalid('The session behind this code has ended: log in again.');
      return reply.type('application/json; charset=utf-8').send({ session: code.ticket, expires_at: new Date(session.data.expiresAt).toISOString() });
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        return sendProblem(reply, request, problem(503, 'session_store_unavailable', 'The session store is unavailable right now. Try again in a moment.'), 'json');
      }
      throw err;
    }
  });
}
