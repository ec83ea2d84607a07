/**
 * The emulator's authorize endpoint, sign-in page and logout. Whoever signs in picks or types a test
 * employee; the default one is filled in, so one click on "Sign in" is enough. The emulator then
 * keeps its own single sign-on cookie, as Entra ID does, until logout.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import type { ClientRecord, SignOnSession, TestEmployee } from '../model.js';
import { EntraError, errors } from '../errors.js';
import { issueCode } from '../grants/authorization-code.js';
import type { Params } from '../params.js';
import { FORM_POST_SCRIPT, FORM_POST_SCRIPT_PATH, STYLE, STYLE_PATH } from './assets.js';
import {
  AUTHORIZE_PARAMS,
  checkAuthorizeRequest,
  employeeFromForm,
  maxAgeOf,
  tenantRefusal,
  type ValidRequest,
} from './authorize-request.js';
import { errorLookupPage, signedOutPage, signInPage } from './pages.js';
import { rateLimited, readParams, sameOrigin, showError, type LoginOptions, type SignInFlow } from './flow.js';
import { sendBack, sendErrorBack, sendPage } from './responses.js';
import { FORM_TOKEN_FIELD, SignInFormTokens } from './form-token.js';
import { SignInRateLimit } from './rate-limit.js';
import { SingleSignOn } from './sign-on.js';
import { deviceLoginRoutes } from './device-login.js';
import { DEVICE_LOGIN_PATH } from '../device-authorization.js';
import { refuseHead } from '../head.js';

export async function loginRoutes(app: FastifyInstance, options: LoginOptions): Promise<void> {
  const { directory, stores } = options;
  const secure = options.secureCookies === true;
  const authorizePath = `${options.basePath}/oauth2/v2.0/authorize`;
  const flow: SignInFlow = {
    ...options,
    authorizePath,
    signOn: new SingleSignOn(directory.tenantId, stores.signOnSessions, secure),
    formTokens: new SignInFormTokens(directory.tenantId, authorizePath, secure, options.formKey),
    deviceFormTokens: new SignInFormTokens(directory.tenantId, DEVICE_LOGIN_PATH, secure, options.formKey),
    rateLimit: new SignInRateLimit(stores.signInAttempts, options.signInRateLimit ?? DEFAULT_SIGN_IN_RATE_LIMIT),
  };
  const cached = 'public, max-age=3600';
  app.get(STYLE_PATH, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', cached).send(STYLE));
  app.get(FORM_POST_SCRIPT_PATH, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', cached).send(FORM_POST_SCRIPT),
  );
  authorizeRoutes(app, flow);
  deviceLoginRoutes(app, flow);
  logoutRoutes(app, options, flow.signOn);
}

/** Sign-in requests an address may make in a minute, by default. */
export const DEFAULT_SIGN_IN_RATE_LIMIT = 600;

/** The authorize parameters a sign-in page carries on in its form, which its token is bound to. */
function carried(params: Params): Record<string, string> {
  const hidden: Record<string, string> = {};
  for (const name of AUTHORIZE_PARAMS) if (params[name] !== undefined) hidden[name] = params[name];
  return hidden;
}

/** The checked request, or undefined when the refusal has been answered. */
function checked(flow: SignInFlow, params: Params, reply: FastifyReply): ValidRequest | undefined {
  const result = checkAuthorizeRequest(flow.directory, params);
  if ('page' in result) showError(reply, result.page, flow.directory.tenantId);
  else if ('back' in result) sendErrorBack(reply, params, result.redirectUri, result.back, flow.urls.baseUrl);
  else return result.valid;
  return undefined;
}

function issue(flow: SignInFlow, reply: FastifyReply, params: Params, valid: ValidRequest, session: SignOnSession) {
  const { employee } = session;
  if (!flow.directory.signInAllowed(valid.client, employee)) {
    return sendErrorBack(
      reply,
      params,
      valid.redirectUri,
      errors.userNotAssigned(employee.email, valid.client.clientId),
      flow.urls.baseUrl,
    );
  }
  const challenge = params.code_challenge;
  const maxAge = maxAgeOf(params);
  const code = issueCode(flow.stores, {
    clientId: valid.client.clientId,
    redirectUri: valid.redirectUri,
    redirectType: valid.redirectType,
    ...(challenge ? { codeChallenge: challenge, codeChallengeMethod: params.code_challenge_method === 'S256' ? 'S256' : 'plain' } : {}),
    ...(params.nonce ? { nonce: params.nonce } : {}),
    ...(maxAge !== undefined ? { authTime: session.authTime ?? Math.floor(Date.now() / 1000) } : {}),
    scopes: valid.scopes,
    employee,
    sessionId: session.sid,
  });
  flow.signOn.signedInTo(session, valid.client.clientId);
  // Entra's session_state names the single sign-on session; MSAL keeps it for the session's end.
  return sendBack(reply, params, valid.redirectUri, { code, session_state: session.sid });
}

function showSignIn(
  flow: SignInFlow,
  request: FastifyRequest,
  reply: FastifyReply,
  params: Params,
  employee: TestEmployee,
  error?: string,
) {
  const hidden = carried(params);
  const formToken = flow.formTokens.issue(request, reply, JSON.stringify(hidden));
  const { directory } = flow;
  const page = {
    tenantId: directory.tenantId,
    authorizePath: flow.authorizePath,
    hidden,
    formToken,
    employees: directory.employees,
    employee,
  };
  return sendPage(reply, error ? 400 : 200, signInPage({ ...page, ...(error ? { error } : {}) }));
}

/** Whether a sign-in post comes from the page this browser was shown: from this origin, with its token. */
function postedFromPage(flow: SignInFlow, request: FastifyRequest, params: Params): boolean {
  if (!sameOrigin(flow, request)) return false;
  return flow.formTokens.verify(request, JSON.stringify(carried(params)), params[FORM_TOKEN_FIELD]);
}

function authorizeRoutes(app: FastifyInstance, flow: SignInFlow): void {
  const { directory, urls, authorizePath } = flow;
  const limited = rateLimited(flow);

  refuseHead(app, authorizePath, 'GET, POST');
  app.get(authorizePath, { onRequest: limited }, async (request, reply) => {
    const params = readParams(request.query, reply, directory.tenantId);
    const valid = params && checked(flow, params, reply);
    if (!params || !valid) return reply;
    const signedOn = flow.signOn.current(request);
    // A sign-in older than the request's max_age counts as none: the employee signs in again, as Entra re-authenticates.
    const maxAge = maxAgeOf(params);
    const session =
      signedOn && (maxAge === undefined || Math.floor(Date.now() / 1000) - (signedOn.authTime ?? 0) <= maxAge) ? signedOn : undefined;
    if (params.prompt === 'none' && !session) {
      const err = signedOn
        ? new EntraError(50058, 'login_required', 'A silent sign-in request was sent but the sign-in is older than max_age.')
        : new EntraError(50058, 'login_required', 'A silent sign-in request was sent but no user is signed in.');
      return sendErrorBack(reply, params, valid.redirectUri, err, urls.baseUrl);
    }
    if (session && params.prompt !== 'login' && params.prompt !== 'select_account') return issue(flow, reply, params, valid, session);
    // MSAL's login_hint is the account's username (the e-mail, preferred_username); a NAVident is taken too.
    const hint = params.login_hint?.toLowerCase();
    const hinted =
      directory.employees.find((e) => e.navIdent.toLowerCase() === hint || e.email.toLowerCase() === hint) ?? directory.employees[0]!;
    return showSignIn(flow, request, reply, params, hinted);
  });

  app.post(authorizePath, { onRequest: limited }, async (request, reply) => {
    const params = readParams(request.body, reply, directory.tenantId);
    if (!params) return reply;
    // Checked first, so that a forged post gets no sign-on cookie, whatever else it holds.
    if (!postedFromPage(flow, request, params)) return showError(reply, errors.signInNotFromPage(), directory.tenantId);
    const valid = checked(flow, params, reply);
    if (!valid) return reply;
    const { employee, problem } = employeeFromForm(directory, params);
    if (problem) return showSignIn(flow, request, reply, params, employee, problem);
    // Refused with no sign-on.
    const otherTenant = tenantRefusal(directory, employee, valid.client.clientId);
    if (otherTenant) return sendErrorBack(reply, params, valid.redirectUri, otherTenant, urls.baseUrl);
    return issue(flow, reply, params, valid, flow.signOn.start(reply, employee));
  });
}

function logoutRoutes(app: FastifyInstance, options: LoginOptions, signOn: SingleSignOn): void {
  const { directory, basePath } = options;
  app.get('/error', async (request, reply) => {
    const code = String((request.query as Record<string, unknown>).code ?? '')
      .replace(/[^0-9]/g, '')
      .slice(0, 10);
    return sendPage(reply, 200, errorLookupPage(code));
  });

  const logoutPath = `${basePath}/oauth2/v2.0/logout`;
  refuseHead(app, logoutPath, 'GET');
  app.get(logoutPath, async (request, reply) => {
    const params = readParams(request.query, reply, directory.tenantId);
    if (!params) return reply;
    const signedInTo = signOn.current(request)?.clients ?? [];
    signOn.end(request, reply);
    const redirectUri = params.post_logout_redirect_uri;
    if (redirectUri) {
      // The redirect must be registered for the app that asks: named by client_id or by the ID token it hands back, or,
      // when the request names none (MSAL's logoutRedirect and logoutPopup send neither), an app the sign-on signed in to.
      const clientId = params.client_id ?? (params.id_token_hint ? await clientOfIdToken(options, params.id_token_hint) : undefined);
      const candidates = clientId !== undefined ? [clientId] : signedInTo;
      const clients = candidates.map((id) => directory.clients.get(id));
      if (clients.some((client) => client && mayReturnTo(client, redirectUri)) && URL.canParse(redirectUri)) {
        const url = new URL(redirectUri);
        if (params.state !== undefined) url.searchParams.set('state', params.state);
        return reply.header('cache-control', 'no-store').redirect(url.toString(), 302);
      }
    }
    return sendPage(reply, 200, signedOutPage());
  });
}

/**
 * Whether a logout may send the browser back to `uri` for `client`: one of its redirect URIs, of any platform, as Entra
 * takes them ("must match one of the redirect URIs registered for your application"), or a logout URI registered as such.
 */
function mayReturnTo(client: ClientRecord, uri: string): boolean {
  return client.postLogoutRedirectUris.has(uri) || client.redirectUris.has(uri);
}

/** The client an ID token of this emulator was issued to (expired ones too, as logout takes them); undefined when it is not one. */
async function clientOfIdToken(options: LoginOptions, idToken: string): Promise<string | undefined> {
  try {
    const payload = await options.keys.verifySignature(idToken);
    const claims = JSON.parse(new TextDecoder().decode(payload)) as JWTPayload;
    return claims.iss === options.urls.issuer && typeof claims.aud === 'string' ? claims.aud : undefined;
  } catch {
    return undefined;
  }
}
