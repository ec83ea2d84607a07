/**
 * Employee tokens for scripts and CI, when the identity provider is the emulator:
 * `POST /api/public/obo` with `aud` and `NAVident` logs that test employee in on the emulator's login
 * page, redeems the code and exchanges the user's token on-behalf-of, exactly as a browser login
 * does, so that every check and access policy of the emulator applies. Against real Entra ID no
 * service can log a person in without them, so there it answers 404 and says why.
 */
import * as oidc from 'openid-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LoginValidationError } from '../../entra/client.js';
import { IdpError } from '../../entra/errors.js';
import type { GeneratorContext } from '../context.js';
import { preferredFormat, type Format } from '../negotiate.js';
import { problem, sendProblem } from '../problem.js';
import { responseBody } from '../tokens.js';
import { audienceFrom } from './m2m.js';
import type { Sessions } from '../sessions.js';

const NAV_IDENT = /^[A-Za-z][0-9]{6}$/;

function field(request: FastifyRequest, name: string): string | undefined {
  const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  const query = (request.query ?? {}) as Record<string, unknown>;
  const value = body[name] ?? query[name];
  return typeof value === 'string' ? value : undefined;
}

export async function headlessOboRoutes(app: FastifyInstance, deps: { ctx: GeneratorContext; sessions: Sessions; emulator: boolean }): Promise<void> {
  const { ctx, sessions } = deps;
  const redirectUri = `${ctx.config.publicUrl}/oauth2/callback`;

  const fail = (request: FastifyRequest, reply: FastifyReply, format: Format, status: number, error: string, message: string) =>
    sendProblem(reply, request, problem(status, error, message), format);

  app.post('/api/public/obo', { onRequest: ctx.limitPublic }, async (request, reply) => {
    const format = preferredFormat(request.headers.accept, ['text', 'json'], 'text');
    if (!deps.emulator) {
      return fail(
        request,
        reply,
        format,
        404,
        'not_available',
        'Employee tokens without a browser exist only against the Entra ID emulator: real Entra ID logs a person in only with that person at the keyboard. Open /api/obo?aud=<cluster>:<namespace>:<app> in a browser instead.',
      );
    }
    const audience = audienceFrom(request);
    if (!audience.ok) return fail(request, reply, format, audience.status ?? 400, 'invalid_audience', audience.message);
    const navIdent = field(request, 'NAVident');
    if (!navIdent || !NAV_IDENT.test(navIdent)) {
      return fail(request, reply, format, 400, 'invalid_navident', 'Send the test employee as NAVident: a letter and six digits, for example Z990001.');
    }
    const name = field(request, 'name') ?? navIdent;
    const groups = field(request, 'groups') ?? '';
    if (name.length > 200 || groups.length > 4000) return fail(request, reply, format, 400, 'invalid_request', 'name or groups is too long.');

    try {
      // The browser's way: authorize, the login form, the code, its redemption.
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const verifier = oidc.randomPKCECodeVerifier();
      const authorize = new URL(
        ctx.entra.buildLoginUrl({ redirectUri, scope: sessions.loginScope, state, nonce, codeChallenge: await oidc.calculatePKCECodeChallenge(verifier), prompt: 'login' }),
      );
      const form = new URLSearchParams(authorize.searchParams);
      form.set('navIdent', navIdent);
      form.set('name', name);
      form.set('email', `${navIdent.toLowerCase()}@trygdeetaten.no`);
      form.set('groups', groups);
      let signedIn: Response;
      try {
        signedIn = await fetch(authorize.origin + authorize.pathname, { method: 'POST', body: form, redirect: 'manual', signal: AbortSignal.timeout(ctx.config.idp.timeoutMs) });
      } catch (err) {
        throw new IdpError({ kind: 'unreachable', detail: err instanceof Error ? err.message : 'fetch failed' });
      }
      const location = signedIn.headers.get('location');
      if (signedIn.status !== 302 || !location) throw new IdpError({ kind: 'bad-response', detail: `the login page answered HTTP ${signedIn.status}`, status: signedIn.status });
      const callback = new URL(location);
      const error = callback.searchParams.get('error_description');
      if (error?.startsWith('AADSTS50105')) {
        return fail(request, reply, format, 403, 'user_not_allowed', `${navIdent} may not sign in to this token generator: ${error.split(/\r?\n/)[0]}`);
      }
      if (callback.searchParams.get('error')) return fail(request, reply, format, 400, 'login_failed', `The emulator refused the login: ${error?.split(/\r?\n/)[0] ?? 'no reason given'}`);
      const login = await ctx.entra.redeemCode(callback, { state, nonce, codeVerifier: verifier, redirectUri });
      const token = await ctx.entra.onBehalfOf(login.accessToken, audience.value.scope);
      const body = responseBody({ accessToken: token.accessToken, tokenType: token.tokenType, expiresAt: Date.now() + token.expiresIn * 1000, ...(token.scope ? { scope: token.scope } : {}) });
      reply.header('cache-control', 'no-store');
      if (format === 'json') return reply.type('application/json; charset=utf-8').send(body);
      return reply.type('text/plain; charset=utf-8').send(body.access_token);
    } catch (err) {
      if (err instanceof LoginValidationError) return fail(request, reply, format, 502, 'login_failed', `The emulator's login answer did not pass the checks: ${err.message}`);
      return ctx.sendIdpFailure(request, reply, err, audience.value, 'on_behalf_of', format);
    }
  });
}
