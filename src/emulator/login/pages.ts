/** The markup of the emulator's pages: sign-in, its errors, form_post, signed out and the error lookup. */
import type { TestEmployee } from '../directory.js';
import type { EntraError } from '../errors.js';
import { FORM_POST_SCRIPT_PATH, STYLE_PATH } from './assets.js';
import { FORM_TOKEN_FIELD } from './form-token.js';

import { escapeHtml } from '../../escape-html.js';

export function html(title: string, body: string, script?: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, ` +
    `initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" ` +
    `href="${STYLE_PATH}">${script ? `<script src="${script}"></script>` : ''}</head><body><main>${body}</main></body></html>`
  );
}

export function errorPage(err: EntraError, tenantId: string): string {
  return html(
    'Sign-in error',
    `<h1>Sorry, but we’re having trouble signing you in.</h1><p class="error">AADSTS${err.code}: ${escapeHtml(err.detail)}</p><p ` +
      `class="muted">Entra ID emulator · tenant ${escapeHtml(tenantId)}</p>`,
  );
}

/** The answer to a client in response_mode=form_post: a form the script submits at once. */
export function formPostPage(redirectUri: string, values: Record<string, string>): string {
  const inputs = Object.entries(values)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return html(
    'Signing in',
    `<form id="form-post" method="post" action="${escapeHtml(redirectUri)}">${inputs}<p>Signed in. Continuing to the ` +
      `application…</p><noscript><button type="submit">Continue</button></noscript></form>`,
    FORM_POST_SCRIPT_PATH,
  );
}

export interface SignInPage {
  tenantId: string;
  authorizePath: string;
  /** The authorize parameters the form carries on. */
  hidden: Record<string, string>;
  /** The login CSRF token, bound to this page and browser. */
  formToken: string;
  employees: TestEmployee[];
  /** Filled in. */
  employee: TestEmployee;
  error?: string;
}

export function signInPage(page: SignInPage): string {
  const hidden = Object.entries({ ...page.hidden, [FORM_TOKEN_FIELD]: page.formToken })
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const presets = page.employees
    .map((e) => {
      const query = new URLSearchParams(page.hidden);
      query.set('login_hint', e.navIdent);
      const groups = e.groups.length
        ? ` <span class="muted">· ${escapeHtml(e.groups.length === 1 ? '1 group' : `${e.groups.length} groups`)}</span>`
        : '';
      return (
        `<li><a href="${escapeHtml(`${page.authorizePath}?${query.toString()}`)}">${escapeHtml(e.name)}</a> ` +
        `<code>${escapeHtml(e.navIdent)}</code>${groups}</li>`
      );
    })
    .join('');
  const { employee, error } = page;
  return html(
    'Sign in · Entra ID emulator',
    `<h1>Sign in</h1><p class="muted">Entra ID emulator · tenant <code>${escapeHtml(page.tenantId)}</code></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<p>Pick a test employee, or type one:</p><ul class="presets">${presets}</ul>
<form method="post" action="${escapeHtml(page.authorizePath)}">${hidden}
<label for="navIdent">NAVident</label><input id="navIdent" name="navIdent" value="${escapeHtml(employee.navIdent)}" required
maxlength="20" pattern="[A-Za-z0-9]+" autocomplete="username">
<label for="name">Name</label><input id="name" name="name" value="${escapeHtml(employee.name)}" required maxlength="200">
<label for="email">E-mail</label><input id="email" name="email" type="email" value="${escapeHtml(employee.email)}" required maxlength="200">
<label for="groups">Groups <span class="muted">(object ids, comma-separated)</span></label>
<input id="groups" name="groups" value="${escapeHtml(employee.groups.join(','))}">
<button type="submit">Sign in</button></form>`,
  );
}

export function signedOutPage(): string {
  return html('Signed out', '<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>');
}

/** Entra's error lookup page, at the path its error_uri names. */
export function errorLookupPage(code: string): string {
  return html(
    `AADSTS${code}`,
    `<h1>AADSTS${escapeHtml(code)}</h1><p>This error came from the Entra ID emulator. Entra ID describes its codes at ` +
      `<code>https://login.microsoftonline.com/error?code=${escapeHtml(code)}</code>.</p>`,
  );
}
