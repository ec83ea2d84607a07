/**
 * The emulator's authorize endpoint and login page. A person picks or types a test employee;
 * the default one is filled in, so one click on "Sign in" is enough. The emulator then keeps its
 * own single sign-on cookie, as Entra ID does, until logout.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRecord, Directory, TestEmployee } from './directory.js';
import type { TokenIssuer, Params } from './grants.js';
import { errors } from './errors.js';

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font-family:system-ui,sans-serif;background:#f2f2f2;margin:0}main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:6px;box-shadow:0 2px 6px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
button{margin-top:1.2rem;width:100%;padding:.6rem;font:inherit;background:#0067b8;color:#fff;border:0;border-radius:3px;cursor:pointer}.presets a{margin-right:.6rem}.muted{color:#666;font-size:.85rem}`;

function html(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

const AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt'] as const;

interface SsoSession {
  employee: TestEmployee;
  expiresAt: number;
}

export interface LoginOptions {
  directory: Directory;
  issuer: TokenIssuer;
  basePath: string;
}

export async function loginRoutes(app: FastifyInstance, options: LoginOptions): Promise<void> {
  const { directory, issuer, basePath } = options;
  const cookieName = `emulator_sso_${directory.tenantId.replace(/[^a-z0-9]/gi, '')}`;
  const sso = new Map<string, SsoSession>();
  const authorizePath = `${basePath}/oauth2/v2.0/authorize`;

  const errorPage = (reply: FastifyReply, code: number, message: string) =>
    reply
      .code(400)
      .type('text/html; charset=utf-8')
      .send(html('Sign-in error', `<h1>Sorry, but we’re having trouble signing you in.</h1><p>AADSTS${code}: ${escape(message)}</p>`));

  /** Checks the request as Entra does; errors that can be sent back go to the client's redirect URI. */
  const validate = (params: Params, reply: FastifyReply): { client: ClientRecord; redirectUri: string } | undefined => {
    const client = params.client_id ? directory.clients.get(params.client_id) : undefined;
    if (!client) {
      errorPage(reply, 700016, `Application with identifier '${(params.client_id ?? '').slice(0, 100)}' was not found in the directory.`);
      return undefined;
    }
    const redirectUri = params.redirect_uri;
    if (!redirectUri || !client.redirectUris.has(redirectUri)) {
      errorPage(reply, 50011, `The redirect URI '${(redirectUri ?? '').slice(0, 200)}' specified in the request does not match the redirect URIs configured for the application '${client.clientId}'.`);
      return undefined;
    }
    const refuse = (error: string, description: string) => {
      sendBack(reply, params, redirectUri, { error, error_description: description });
      return undefined;
    };
    if (params.response_type !== 'code') return refuse('unsupported_response_type', 'AADSTS700054: response_type must be code.');
    if (!params.scope?.split(' ').includes('openid')) return refuse('invalid_scope', "AADSTS70011: The scope must include 'openid'.");
    if (!params.code_challenge || params.code_challenge_method !== 'S256') {
      return refuse('invalid_request', 'AADSTS9002325: Proof Key for Code Exchange is required, with code_challenge_method S256.');
    }
    return { client, redirectUri };
  };

  const sendBack = (reply: FastifyReply, params: Params, redirectUri: string, values: Record<string, string>) => {
    const all = { ...values, ...(params.state !== undefined ? { state: params.state } : {}) };
    if (params.response_mode === 'form_post') {
      const inputs = Object.entries(all)
        .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
        .join('');
      return reply
        .type('text/html; charset=utf-8')
        .send(
          html(
            'Signing in',
            `<form method="post" action="${escape(redirectUri)}">${inputs}<p>Signed in.</p><button type="submit">Continue</button></form><script>document.forms[0].submit()</script>`,
          ),
        );
    }
    const target = new URL(redirectUri);
    for (const [name, value] of Object.entries(all)) target.searchParams.set(name, value);
    return reply.redirect(target.toString(), 302);
  };

  const issue = (reply: FastifyReply, params: Params, client: ClientRecord, redirectUri: string, employee: TestEmployee) => {
    if (!directory.signInAllowed(client, employee)) {
      return sendBack(reply, params, redirectUri, {
        error: 'access_denied',
        error_description: errors.userNotAssigned(employee.email, client.clientId).message,
      });
    }
    const code = issuer.issueCode({
      clientId: client.clientId,
      redirectUri,
      codeChallenge: params.code_challenge ?? '',
      ...(params.nonce ? { nonce: params.nonce } : {}),
      scopes: (params.scope ?? '').split(' ').filter(Boolean),
      employee,
    });
    return sendBack(reply, params, redirectUri, { code });
  };

  const currentSso = (request: FastifyRequest): SsoSession | undefined => {
    const id = request.cookies[cookieName];
    const session = id ? sso.get(id) : undefined;
    if (session && session.expiresAt > Date.now()) return session;
    return undefined;
  };

  const loginPage = (params: Params, employee: TestEmployee, error?: string) => {
    const hidden = AUTHORIZE_PARAMS.filter((name) => params[name] !== undefined)
      .map((name) => `<input type="hidden" name="${name}" value="${escape(params[name] ?? '')}">`)
      .join('');
    const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'login_hint'));
    const presets = directory.employees
      .map((e) => {
        const q = new URLSearchParams(query);
        q.set('login_hint', e.navIdent);
        return `<a href="${escape(`${authorizePath}?${q.toString()}`)}">${escape(e.name)} (${escape(e.navIdent)})</a>`;
      })
      .join(' ');
    return html(
      'Sign in — Entra ID emulator',
      `<h1>Sign in</h1><p class="muted">Entra ID emulator · tenant ${escape(directory.tenantId)}</p>
${error ? `<p style="color:#c00">${escape(error)}</p>` : ''}
<p class="presets">Test employees: ${presets}</p>
<form method="post" action="${escape(authorizePath)}">${hidden}
<label for="navIdent">NAVident</label><input id="navIdent" name="navIdent" value="${escape(employee.navIdent)}" required>
<label for="name">Name</label><input id="name" name="name" value="${escape(employee.name)}" required>
<label for="email">E-mail</label><input id="email" name="email" value="${escape(employee.email)}" required>
<label for="groups">Groups (comma-separated object ids)</label><input id="groups" name="groups" value="${escape(employee.groups.join(','))}">
<button type="submit">Sign in</button></form>`,
    );
  };

  app.get(authorizePath, async (request, reply) => {
    const params = request.query as Params;
    const valid = validate(params, reply);
    if (!valid) return reply;
    const session = currentSso(request);
    if (session && params.prompt !== 'login') return issue(reply, params, valid.client, valid.redirectUri, session.employee);
    const hinted = directory.employees.find((e) => e.navIdent === params.login_hint) ?? directory.employees[0]!;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(loginPage(params, hinted));
  });

  app.post(authorizePath, async (request, reply) => {
    const params = (request.body ?? {}) as Params;
    const valid = validate(params, reply);
    if (!valid) return reply;
    const navIdent = (params.navIdent ?? '').trim();
    const name = (params.name ?? '').trim();
    const email = (params.email ?? '').trim();
    const groups = (params.groups ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    // A known employee's groups are the directory's, as in Entra ID; others have what was typed.
    const known = directory.employees.find((e) => e.navIdent === navIdent);
    const employee: TestEmployee = { navIdent, name, email, groups: known ? known.groups : groups };
    if (!/^[A-Za-z0-9]{1,20}$/.test(navIdent) || !name || name.length > 200 || !email || email.length > 200 || groups.length > 200) {
      return reply.code(400).type('text/html; charset=utf-8').send(loginPage(params, employee, 'Fill in a NAVident (letters and digits), a name and an e-mail.'));
    }
    const id = randomBytes(32).toString('base64url');
    sso.set(id, { employee, expiresAt: Date.now() + 12 * 3_600_000 });
    reply.setCookie(cookieName, id, { path: '/', httpOnly: true, sameSite: 'lax' });
    return issue(reply, params, valid.client, valid.redirectUri, employee);
  });

  app.get(`${basePath}/oauth2/v2.0/logout`, async (request, reply) => {
    const id = request.cookies[cookieName];
    if (id) sso.delete(id);
    reply.clearCookie(cookieName, { path: '/' });
    const params = request.query as Params;
    const target = params.post_logout_redirect_uri;
    const allowed = target && [...directory.clients.values()].some((client) => client.postLogoutRedirectUris.has(target));
    if (allowed) return reply.redirect(target, 302);
    return reply.type('text/html; charset=utf-8').send(html('Signed out', '<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>'));
  });
}
