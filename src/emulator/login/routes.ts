/**
 * The emulator's authorize endpoint, sign-in page and logout. A person picks or types a test
 * employee; the default one is filled in, so one click on "Sign in" is enough. The emulator then
 * keeps its own single sign-on cookie, as Entra ID does, until logout.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { JWTPayload } from 'jose';
import type { Directory, TestEmployee } from '../directory.js';
import { EntraError, errors } from '../errors.js';
import { issueCode } from '../grants/authorization-code.js';
import type { KeyRing } from '../key-ring.js';
import { singleValued, type Params } from '../params.js';
import type { Stores } from '../stores.js';
import { FORM_POST_SCRIPT, FORM_POST_SCRIPT_PATH, STYLE, STYLE_PATH } from './assets.js';
import { AUTHORIZE_PARAMS, checkAuthorizeRequest, employeeFromForm, type ValidRequest } from './authorize-request.js';
import { errorLookupPage, errorPage, signedOutPage, signInPage } from './pages.js';
import { sendBack, sendErrorBack, sendPage } from './responses.js';
import { SingleSignOn } from './sign-on.js';

export interface LoginOptions {
  directory: Directory;
  stores: Stores;
  keys: KeyRing;
  basePath: string;
  /** The base URL and issuer clients use, known once the server listens. */
  urls: { baseUrl: string; issuer: string };
  /** Mark the SSO cookie Secure (the emulator is reached over HTTPS). */
  secureCookies?: boolean;
}

export async function loginRoutes(app: FastifyInstance, options: LoginOptions): Promise<void> {
  const signOn = new SingleSignOn(options.directory.tenantId, options.stores.signOnSessions, options.secureCookies === true);
  const cached = 'public, max-age=3600';
  app.get(STYLE_PATH, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', cached).send(STYLE));
  app.get(FORM_POST_SCRIPT_PATH, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', cached).send(FORM_POST_SCRIPT));
  authorizeRoutes(app, options, signOn);
  logoutRoutes(app, options, signOn);
}

const showError = (reply: FastifyReply, err: EntraError, tenantId: string) => sendPage(reply, 400, errorPage(err, tenantId));

/** The parameters, or the error page for ones sent twice. */
function readParams(source: unknown, reply: FastifyReply, tenantId: string): Params | undefined {
  try {
    return singleValued(source);
  } catch (err) {
    if (!(err instanceof EntraError)) throw err;
    showError(reply, err, tenantId);
    return undefined;
  }
}

function authorizeRoutes(app: FastifyInstance, options: LoginOptions, signOn: SingleSignOn): void {
  const { directory, stores, urls } = options;
  const authorizePath = `${options.basePath}/oauth2/v2.0/authorize`;

  /** The checked request, or undefined when the refusal has been answered. */
  const checked = (params: Params, reply: FastifyReply): ValidRequest | undefined => {
    const result = checkAuthorizeRequest(directory, params);
    if ('page' in result) showError(reply, result.page, directory.tenantId);
    else if ('back' in result) sendErrorBack(reply, params, result.redirectUri, result.back, urls.baseUrl);
    else return result.valid;
    return undefined;
  };

  const issue = (reply: FastifyReply, params: Params, valid: ValidRequest, employee: TestEmployee, sessionId: string) => {
    if (!directory.signInAllowed(valid.client, employee)) {
      return sendErrorBack(reply, params, valid.redirectUri, errors.userNotAssigned(employee.email, valid.client.clientId), urls.baseUrl);
    }
    const code = issueCode(stores, {
      clientId: valid.client.clientId,
      redirectUri: valid.redirectUri,
      ...(params.code_challenge ? { codeChallenge: params.code_challenge, codeChallengeMethod: params.code_challenge_method === 'S256' ? 'S256' : 'plain' } : {}),
      ...(params.nonce ? { nonce: params.nonce } : {}),
      scopes: valid.scopes,
      employee,
      sessionId,
    });
    return sendBack(reply, params, valid.redirectUri, { code });
  };

  const showSignIn = (reply: FastifyReply, status: number, params: Params, employee: TestEmployee, error?: string) => {
    const hidden: Record<string, string> = {};
    for (const name of AUTHORIZE_PARAMS) if (params[name] !== undefined) hidden[name] = params[name];
    const page = { tenantId: directory.tenantId, authorizePath, hidden, employees: directory.employees, employee, ...(error ? { error } : {}) };
    return sendPage(reply, status, signInPage(page));
  };

  app.get(authorizePath, async (request, reply) => {
    const params = readParams(request.query, reply, directory.tenantId);
    const valid = params && checked(params, reply);
    if (!params || !valid) return reply;
    const session = signOn.current(request);
    if (params.prompt === 'none' && !session) {
      const err = new EntraError(50058, 'login_required', 'A silent sign-in request was sent but no user is signed in.');
      return sendErrorBack(reply, params, valid.redirectUri, err, urls.baseUrl);
    }
    if (session && params.prompt !== 'login' && params.prompt !== 'select_account') return issue(reply, params, valid, session.employee, session.id);
    const hinted = directory.employees.find((e) => e.navIdent === params.login_hint) ?? directory.employees[0]!;
    return showSignIn(reply, 200, params, hinted);
  });

  app.post(authorizePath, async (request, reply) => {
    const params = readParams(request.body, reply, directory.tenantId);
    const valid = params && checked(params, reply);
    if (!params || !valid) return reply;
    const { employee, problem } = employeeFromForm(directory, params);
    if (problem) return showSignIn(reply, 400, params, employee, problem);
    const session = signOn.start(reply, employee);
    return issue(reply, params, valid, employee, session.id);
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

  app.get(`${basePath}/oauth2/v2.0/logout`, async (request, reply) => {
    const params = readParams(request.query, reply, directory.tenantId);
    if (!params) return reply;
    signOn.end(request, reply);
    const target = params.post_logout_redirect_uri;
    if (target) {
      // The redirect must be registered for the app that asks: named by client_id or by the ID token it hands back.
      const clientId = params.client_id ?? (params.id_token_hint ? await clientOfIdToken(options, params.id_token_hint) : undefined);
      const client = clientId ? directory.clients.get(clientId) : undefined;
      if (client?.postLogoutRedirectUris.has(target) && URL.canParse(target)) {
        const url = new URL(target);
        if (params.state !== undefined) url.searchParams.set('state', params.state);
        return reply.header('cache-control', 'no-store').redirect(url.toString(), 302);
      }
    }
    return sendPage(reply, 200, signedOutPage());
  });
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
