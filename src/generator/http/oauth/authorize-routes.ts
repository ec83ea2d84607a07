/**
 * `GET /oauth2/authorize` (RFC 6749 §4.1, RFC 7636, RFC 8252): a tool on this computer opens it in
 * a browser with its loopback redirect and PKCE challenge; the employee logs in as for /api/obo, is
 * asked on a page of the generator, and only a POST from that page sends the browser, with a
 * one-time code, to the tool's loopback address.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CONTENT_SECURITY_POLICY, escapeHtml, page, policyWithFormDestination } from '../views/html.js';
import type { SessionCookie } from '../session-cookie.js';
import { requireSession } from '../pages/logged-in-tokens.js';
import type { Sealer, SessionStore } from '../../../session/index.js';
import { assertSameOrigin, consentPage, employeeName } from './consent.js';
import { ConsentTokens } from '../../core/oauth/consent-tokens.js';
import type { AuthorizationCodes } from '../../core/oauth/codes.js';
import type { ToolSessions } from '../../core/oauth/tool-sessions.js';
import type { Limits } from '../../core/limits.js';
import { PATHS } from '../../../paths.js';
import { PAGES } from '../negotiate.js';
import { AUTHORIZE_SCHEMA, CONSENT_SCHEMA } from './schemas.js';
import { ProblemError, refuse, type Problem } from '../../core/problem.js';
import { oauthRedirectQuery } from '../errors.js';
import { clientId, loopbackRedirect, single, targetScope } from './parameters.js';
import { refuseHead } from '../methods.js';

const AuthorizationRequest = z.object({
  client: z.string(),
  redirectUri: z.string(),
  state: z.string().optional(),
  challenge: z.string(),
  target: z.string(),
});
type AuthorizationRequest = z.infer<typeof AuthorizationRequest>;

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

const DENIED: Problem = { code: 'access_denied', message: 'The employee denied the request.' };

/** An error the tool hears at its redirect URI (RFC 6749 §4.1.2.1), once that URI is known to be a loopback one. */
class RedirectedError extends Error {
  constructor(
    readonly redirectUri: string,
    readonly state: string | undefined,
    readonly refusal: ProblemError,
  ) {
    super(refusal.message);
  }
}

/** The request as the tool sent it; a wrong redirect URI is answered here, anything else at that URI. */
function authorizationRequest(query: Record<string, unknown>): AuthorizationRequest {
  const redirectUri = loopbackRedirect(single(query, 'redirect_uri'));
  if (!redirectUri) {
    throw refuse(
      'invalid_request',
      'redirect_uri must be a loopback address with a port, as RFC 8252 has native apps use: http://127.0.0.1:<port>/… or ' +
        'http://[::1]:<port>/….',
    );
  }
  const state = single(query, 'state');
  try {
    if (state !== undefined && state.length > 512) throw refuse('invalid_request', 'The state is longer than 512 characters.');
    if (single(query, 'response_type') !== 'code') throw refuse('unsupported_response_type', 'Only response_type=code is supported.');
    const mode = single(query, 'response_mode');
    // The code comes back in the query only (the metadata's response_modes_supported): a tool that waits for a form post or
    // a fragment would never see it, so it hears why now (OAuth 2.0 Multiple Response Types, §2.1), in the query.
    if (mode !== undefined && mode !== 'query') {
      throw refuse('invalid_request', "Only response_mode=query is supported: the code comes back in the redirect URI's query.");
    }
    const challenge = single(query, 'code_challenge');
    if (single(query, 'code_challenge_method') !== 'S256' || !challenge || !CHALLENGE.test(challenge)) {
      throw refuse('invalid_request', 'PKCE is required: send a code_challenge with code_challenge_method=S256.');
    }
    return {
      client: clientId(single(query, 'client_id')),
      redirectUri,
      challenge,
      target: targetScope(single(query, 'scope')).target,
      ...(state !== undefined ? { state } : {}),
    };
  } catch (err) {
    if (err instanceof ProblemError) throw new RedirectedError(redirectUri, state, err);
    throw err;
  }
}

/**
 * The one place the consent page's form may lead besides this service: the tool's loopback origin.
 * A CSP source cannot name an IPv6 address (browsers drop `http://[::1]:…`), and the scheme alone
 * would allow every http origin: for [::1] the form leads nowhere else, and the answer is a page
 * that sends the browser on (see `redirectTo`).
 */
function formDestination(redirectUri: string): string | undefined {
  const url = new URL(redirectUri);
  return url.hostname === '[::1]' ? undefined : url.origin;
}

/** A page that sends the browser on to `location` by its Refresh header, which no form-action governs. */
function onwardPage(reply: FastifyReply, location: string): FastifyReply {
  const link = `<a href="${escapeHtml(location)}">Continue to your tool</a>`;
  return reply
    .header('refresh', `0;url=${location}`)
    .type('text/html; charset=utf-8')
    .send(page({ title: 'Back to your tool', body: `<section><h1>Back to your tool</h1><p>${link} if nothing happens.</p></section>` }));
}

function policyFor(redirectUri: string): string {
  const destination = formDestination(redirectUri);
  return destination ? policyWithFormDestination(destination) : CONTENT_SECURITY_POLICY;
}

function redirectTo(
  reply: FastifyReply,
  issuer: string,
  redirectUri: string,
  state: string | undefined,
  answer: Record<string, string>,
): FastifyReply {
  const location = new URL(redirectUri);
  for (const [name, value] of Object.entries(answer)) location.searchParams.set(name, value);
  if (state !== undefined) location.searchParams.set('state', state);
  location.searchParams.set('iss', issuer);
  reply.header('cache-control', 'no-store');
  if (formDestination(redirectUri)) return reply.redirect(location.toString(), 303);
  return onwardPage(reply, location.toString());
}

export async function authorizeRoutes(
  app: FastifyInstance,
  deps: {
    issuer: string;
    cookie: SessionCookie;
    store: SessionStore;
    sealer: Sealer;
    codes: AuthorizationCodes;
    tools: ToolSessions;
    limits: Limits;
    loginDomain: string;
  },
): Promise<void> {
  const { issuer, cookie, codes } = deps;
  const consents = new ConsentTokens(deps.sealer, deps.store, deps.limits, 'authorize-consent', AuthorizationRequest);

  const redirected = (request: FastifyRequest, reply: FastifyReply, err: unknown) => {
    if (!(err instanceof RedirectedError)) throw err;
    return redirectTo(reply, issuer, err.redirectUri, err.state, oauthRedirectQuery(err.refusal.problem, String(request.id)));
  };

  refuseHead(app, PATHS.authorize);
  app.get(PATHS.authorize, { schema: AUTHORIZE_SCHEMA, config: PAGES }, async (request, reply) => {
    let asked: AuthorizationRequest;
    try {
      asked = authorizationRequest(request.query as Record<string, unknown>);
    } catch (err) {
      return redirected(request, reply, err);
    }
    const session = await requireSession(cookie, request);
    return reply
      .header('cache-control', 'no-store')
      .header('content-security-policy', policyFor(asked.redirectUri))
      .type('text/html; charset=utf-8')
      .send(
        consentPage({
          client: asked.client,
          target: asked.target,
          who: employeeName(session),
          where: 'on this computer',
          action: PATHS.authorize,
          csrfToken: consents.issue(session, asked),
          loginDomain: deps.loginDomain,
        }),
      );
  });

  app.post(PATHS.authorize, { schema: CONSENT_SCHEMA, config: PAGES }, async (request, reply) => {
    assertSameOrigin(request, issuer);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const session = await cookie.load(request);
    if (!session) throw refuse('consent_refused', 'You are not logged in in this browser any more: open the link from your tool again.');
    // Read before the page is used up: a store that fails here leaves the page to answer again.
    const allowedBy = await deps.tools.allowing(session);
    const asked = await consents.open(session, single(body, 'csrf_token'));
    if (single(body, 'decision') !== 'allow') {
      return redirectTo(reply, issuer, asked.redirectUri, asked.state, oauthRedirectQuery(DENIED, String(request.id)));
    }
    const code = codes.issue(allowedBy, {
      client: asked.client,
      redirectUri: asked.redirectUri,
      challenge: asked.challenge,
      target: asked.target,
    });
    request.log.info({ client: asked.client, target: asked.target }, 'tool allowed');
    return redirectTo(reply, issuer, asked.redirectUri, asked.state, { code });
  });
}
