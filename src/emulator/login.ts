/**
 * The emulator's authorize endpoint, login page and logout. A person picks or types a test
 * employee; the default one is filled in, so one click on "Sign in" is enough. The emulator then
 * keeps its own single sign-on cookie, as Entra ID does, until logout.
 *
 * Errors before the client and its redirect URI are known good are shown as a page, never
 * redirected (an open redirector otherwise); later errors go back to the client, as Entra sends them.
 * Pages carry no inline script or style, so that a strict Content-Security-Policy holds.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRecord, Directory, TestEmployee } from './directory.js';
import type { TokenIssuer } from './grants.js';
import { EntraError, errors } from './errors.js';
import { singleValued, type Params } from './params.js';

export const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const ASSETS = '/_emulator';
const CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem 2.2rem;border-radius:6px;box-shadow:0 2px 6px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 .3rem}label{display:block;margin:.9rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #8a8886;border-radius:2px}
button{margin-top:1.4rem;width:100%;padding:.65rem;font:inherit;background:#0067b8;color:#fff;border:0;border-radius:2px;cursor:pointer}
button:hover{background:#005da6}.muted{color:#605e5c;font-size:.85rem}.error{color:#a4262c;background:#fde7e9;padding:.6rem;border-radius:2px}
ul.presets{list-style:none;padding:0;margin:.4rem 0 0}ul.presets li{margin:.25rem 0}code{font-size:.85em}`;
// Submits the form_post form; served from a path, as inline script would break a strict CSP.
const FORM_POST_JS = `document.addEventListener('DOMContentLoaded',function(){var f=document.getElementById('form-post');if(f)f.submit();});\n`;
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

export function html(title: string, body: string, script?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title><link rel="stylesheet" href="${ASSETS}/login.css">${script ? `<script src="${script}"></script>` : ''}</head><body><main>${body}</main></body></html>`;
}

export function sendPage(reply: FastifyReply, status: number, page: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(page);
}

/** The authorize parameters carried through the login form. */
const AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt'] as const;
const RESPONSE_MODES = new Set(['query', 'fragment', 'form_post']);
const SSO_LIFETIME_MS = 12 * 3_600_000;
const MAX_SSO_SESSIONS = 10_000;

interface SsoSession {
  employee: TestEmployee;
  expiresAt: number;
}

export interface LoginOptions {
  directory: Directory;
  issuer: TokenIssuer;
  basePath: string;
  /** The base URL clients use, known once the server listens. */
  baseUrl: () => string;
  /** Mark the SSO cookie Secure (the emulator is reached over HTTPS). */
  secureCookies?: boolean;
}

interface ValidRequest {
  client: ClientRecord;
  redirectUri: string;
  scopes: string[];
}

export async function loginRoutes(app: FastifyInstance, options: LoginOptions): Promise<void> {
  const { directory, issuer, basePath } = options;
  const cookieName = `emulator_sso_${directory.tenantId.replace(/[^a-z0-9]/gi, '')}`;
  const sso = new Map<string, SsoSession>();
  const authorizePath = `${basePath}/oauth2/v2.0/authorize`;

  app.get(`${ASSETS}/login.css`, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CSS));
  app.get(`${ASSETS}/form-post.js`, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(FORM_POST_JS),
  );

  const errorPage = (reply: FastifyReply, err: EntraError) =>
    sendPage(
      reply,
      400,
      html(
        'Sign-in error',
        `<h1>Sorry, but we’re having trouble signing you in.</h1><p class="error">AADSTS${err.code}: ${escape(err.detail)}</p><p class="muted">Entra ID emulator · tenant ${escape(directory.tenantId)}</p>`,
      ),
    );

  /** Sends an answer to the client's redirect URI, in the response mode it asked for. */
  const sendBack = (reply: FastifyReply, params: Params, redirectUri: string, values: Record<string, string>) => {
    const all = { ...values, ...(params.state !== undefined ? { state: params.state } : {}) };
    const mode = params.response_mode && RESPONSE_MODES.has(params.response_mode) ? params.response_mode : 'query';
    if (mode === 'form_post') {
      const inputs = Object.entries(all)
        .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
        .join('');
      return sendPage(
        reply,
        200,
        html(
          'Signing in',
          `<form id="form-post" method="post" action="${escape(redirectUri)}">${inputs}<p>Signed in. Continuing to the application…</p><noscript><button type="submit">Continue</button></noscript></form>`,
          `${ASSETS}/form-post.js`,
        ),
      );
    }
    const target = new URL(redirectUri);
    if (mode === 'fragment') {
      target.hash = new URLSearchParams(all).toString();
    } else {
      for (const [name, value] of Object.entries(all)) target.searchParams.set(name, value);
    }
    return reply.header('cache-control', 'no-store').redirect(target.toString(), 302);
  };

  const sendErrorBack = (reply: FastifyReply, params: Params, redirectUri: string, err: EntraError) => {
    const body = err.body(options.baseUrl());
    return sendBack(reply, params, redirectUri, {
      error: body.error,
      error_description: body.error_description,
      error_uri: body.error_uri,
      ...(body.suberror ? { suberror: body.suberror } : {}),
    });
  };

  /** Checks an authorize request as Entra does. Answers the request itself (and returns undefined) when it is refused. */
  const validate = (params: Params, reply: FastifyReply): ValidRequest | undefined => {
    if (!params.client_id) {
      errorPage(reply, errors.missingParameter('client_id'));
      return undefined;
    }
    const client = directory.clients.get(params.client_id);
    if (!client) {
      errorPage(reply, errors.unknownClient(params.client_id.slice(0, 100)));
      return undefined;
    }
    const redirectUri = params.redirect_uri;
    if (!redirectUri || !client.redirectUris.has(redirectUri) || !URL.canParse(redirectUri)) {
      errorPage(
        reply,
        new EntraError(
          50011,
          'invalid_request',
          `The redirect URI '${(redirectUri ?? '').slice(0, 200)}' specified in the request does not match the redirect URIs configured for the application '${client.clientId}'. Make sure the redirect URI sent in the request matches one added to your application.`,
        ),
      );
      return undefined;
    }
    const refuse = (err: EntraError) => {
      sendErrorBack(reply, params, redirectUri, err);
      return undefined;
    };
    if (params.response_mode !== undefined && !RESPONSE_MODES.has(params.response_mode)) {
      return refuse(new EntraError(70007, 'invalid_request', `The response_mode '${params.response_mode.slice(0, 50)}' is not supported: use query, fragment or form_post.`));
    }
    if (!params.response_type) return refuse(errors.missingParameter('response_type'));
    if (params.response_type !== 'code') {
      return refuse(new EntraError(70005, 'unsupported_response_type', `The response_type '${params.response_type.slice(0, 50)}' is not supported: use code, with PKCE.`));
    }
    if (!params.scope?.trim()) return refuse(errors.missingParameter('scope'));
    const scopes = [...new Set(params.scope.split(' ').filter(Boolean))];
    try {
      issuer.loginResource(scopes);
    } catch (err) {
      if (err instanceof EntraError) return refuse(err);
      throw err;
    }
    if (!params.code_challenge) {
      return refuse(new EntraError(9002325, 'invalid_request', 'Proof Key for Code Exchange is required: send code_challenge and code_challenge_method=S256.'));
    }
    if (params.code_challenge_method !== 'S256') {
      return refuse(
        new EntraError(9002325, 'invalid_request', `The code_challenge_method must be S256 (got '${(params.code_challenge_method ?? '').slice(0, 20)}'); plain is not accepted.`),
      );
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge)) {
      return refuse(new EntraError(501491, 'invalid_request', 'Invalid size of Code_Challenge parameter: an S256 challenge is 43 base64url characters.'));
    }
    return { client, redirectUri, scopes };
  };

  const issue = (reply: FastifyReply, params: Params, valid: ValidRequest, employee: TestEmployee) => {
    if (!directory.signInAllowed(valid.client, employee)) {
      return sendErrorBack(reply, params, valid.redirectUri, errors.userNotAssigned(employee.email, valid.client.clientId));
    }
    const code = issuer.issueCode({
      clientId: valid.client.clientId,
      redirectUri: valid.redirectUri,
      codeChallenge: params.code_challenge ?? '',
      ...(params.nonce ? { nonce: params.nonce } : {}),
      scopes: valid.scopes,
      employee,
    });
    return sendBack(reply, params, valid.redirectUri, { code });
  };

  const currentSso = (request: FastifyRequest): SsoSession | undefined => {
    const id = request.cookies[cookieName];
    const session = id ? sso.get(id) : undefined;
    if (session && session.expiresAt > Date.now()) return session;
    if (id) sso.delete(id);
    return undefined;
  };

  const startSso = (reply: FastifyReply, employee: TestEmployee) => {
    if (sso.size >= MAX_SSO_SESSIONS) {
      const now = Date.now();
      for (const [key, session] of sso) if (session.expiresAt <= now) sso.delete(key);
      if (sso.size >= MAX_SSO_SESSIONS) sso.delete(sso.keys().next().value!);
    }
    const id = randomBytes(32).toString('base64url');
    sso.set(id, { employee, expiresAt: Date.now() + SSO_LIFETIME_MS });
    reply.setCookie(cookieName, id, { path: '/', httpOnly: true, sameSite: 'lax', secure: options.secureCookies === true });
  };

  const loginPage = (params: Params, employee: TestEmployee, error?: string) => {
    const hidden = AUTHORIZE_PARAMS.filter((name) => params[name] !== undefined)
      .map((name) => `<input type="hidden" name="${name}" value="${escape(params[name] ?? '')}">`)
      .join('');
    const query = new URLSearchParams();
    for (const name of AUTHORIZE_PARAMS) if (params[name] !== undefined) query.set(name, params[name]);
    const presets = directory.employees
      .map((e) => {
        const q = new URLSearchParams(query);
        q.set('login_hint', e.navIdent);
        const groups = e.groups.length ? ` <span class="muted">· ${escape(e.groups.length === 1 ? '1 group' : `${e.groups.length} groups`)}</span>` : '';
        return `<li><a href="${escape(`${authorizePath}?${q.toString()}`)}">${escape(e.name)}</a> <code>${escape(e.navIdent)}</code>${groups}</li>`;
      })
      .join('');
    return html(
      'Sign in · Entra ID emulator',
      `<h1>Sign in</h1><p class="muted">Entra ID emulator · tenant <code>${escape(directory.tenantId)}</code></p>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<p>Pick a test employee, or type one:</p><ul class="presets">${presets}</ul>
<form method="post" action="${escape(authorizePath)}">${hidden}
<label for="navIdent">NAVident</label><input id="navIdent" name="navIdent" value="${escape(employee.navIdent)}" required maxlength="20" pattern="[A-Za-z0-9]+" autocomplete="username">
<label for="name">Name</label><input id="name" name="name" value="${escape(employee.name)}" required maxlength="200">
<label for="email">E-mail</label><input id="email" name="email" type="email" value="${escape(employee.email)}" required maxlength="200">
<label for="groups">Groups <span class="muted">(object ids, comma-separated)</span></label><input id="groups" name="groups" value="${escape(employee.groups.join(','))}">
<button type="submit">Sign in</button></form>`,
    );
  };

  /** Reads the parameters, or shows the error page for ones sent twice. */
  const readParams = (source: unknown, reply: FastifyReply): Params | undefined => {
    try {
      return singleValued(source);
    } catch (err) {
      if (err instanceof EntraError) {
        errorPage(reply, err);
        return undefined;
      }
      throw err;
    }
  };

  app.get(authorizePath, async (request, reply) => {
    const params = readParams(request.query, reply);
    if (!params) return reply;
    const valid = validate(params, reply);
    if (!valid) return reply;
    const session = currentSso(request);
    if (params.prompt === 'none') {
      if (!session) {
        return sendErrorBack(
          reply,
          params,
          valid.redirectUri,
          new EntraError(50058, 'login_required', 'A silent sign-in request was sent but no user is signed in.'),
        );
      }
      return issue(reply, params, valid, session.employee);
    }
    if (session && params.prompt !== 'login' && params.prompt !== 'select_account') return issue(reply, params, valid, session.employee);
    const hinted = directory.employees.find((e) => e.navIdent === params.login_hint) ?? directory.employees[0]!;
    return sendPage(reply, 200, loginPage(params, hinted));
  });

  app.post(authorizePath, async (request, reply) => {
    const params = readParams(request.body, reply);
    if (!params) return reply;
    const valid = validate(params, reply);
    if (!valid) return reply;
    const navIdent = (params.navIdent ?? '').trim();
    const name = (params.name ?? '').trim();
    const email = (params.email ?? '').trim();
    const groups = [
      ...new Set(
        (params.groups ?? '')
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      ),
    ];
    // A known employee's groups are the directory's, as in Entra ID; others have what was typed.
    const known = directory.employees.find((e) => e.navIdent.toUpperCase() === navIdent.toUpperCase());
    const employee: TestEmployee = { navIdent, name, email, groups: known ? known.groups : groups };
    const problem =
      !/^[A-Za-z0-9]{1,20}$/.test(navIdent)
        ? 'The NAVident must be 1 to 20 letters and digits, for example Z990001.'
        : !name || name.length > 200
          ? 'Fill in a name (at most 200 characters).'
          : !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 200
            ? 'Fill in an e-mail address, for example kari.nordmann@trygdeetaten.no.'
            : groups.length > 200 || groups.some((g) => g.length > 100)
              ? 'At most 200 groups, each at most 100 characters.'
              : undefined;
    if (problem) return sendPage(reply, 400, loginPage(params, employee, problem));
    startSso(reply, employee);
    return issue(reply, params, valid, employee);
  });

  // Entra's error lookup page, at the path its error_uri names.
  app.get('/error', async (request, reply) => {
    const code = String((request.query as Record<string, unknown>).code ?? '').replace(/[^0-9]/g, '').slice(0, 10);
    return sendPage(
      reply,
      200,
      html(
        `AADSTS${code}`,
        `<h1>AADSTS${escape(code)}</h1><p>This error came from the Entra ID emulator. Entra ID describes its codes at <code>https://login.microsoftonline.com/error?code=${escape(code)}</code>.</p>`,
      ),
    );
  });

  app.get(`${basePath}/oauth2/v2.0/logout`, async (request, reply) => {
    const params = readParams(request.query, reply);
    if (!params) return reply;
    const id = request.cookies[cookieName];
    if (id) sso.delete(id);
    reply.clearCookie(cookieName, { path: '/' });
    const target = params.post_logout_redirect_uri;
    if (target) {
      // The redirect must be registered for the app that asks: named by client_id or by the ID token it hands back.
      const clientId = params.client_id ?? (params.id_token_hint ? await issuer.clientOfIdToken(params.id_token_hint) : undefined);
      const client = clientId ? directory.clients.get(clientId) : undefined;
      if (client?.postLogoutRedirectUris.has(target) && URL.canParse(target)) {
        const url = new URL(target);
        if (params.state !== undefined) url.searchParams.set('state', params.state);
        return reply.header('cache-control', 'no-store').redirect(url.toString(), 302);
      }
    }
    return sendPage(reply, 200, html('Signed out', '<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>'));
  });
}
