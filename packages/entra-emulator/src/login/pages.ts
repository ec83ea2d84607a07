/** The markup of the emulator's pages: sign-in, its errors, form_post, signed out and the error lookup. */
import type { TestEmployee } from '../model.js';
import type { EntraError } from '../errors.js';
import { FORM_POST_SCRIPT_PATH, STYLE_PATH } from './assets.js';
import { FORM_TOKEN_FIELD } from './form-token.js';
import { DEVICE_LOGIN_PATH } from '../device-authorization.js';

import { escapeHtml } from '../../../../src/escape-html.js';

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
  return html(
    'Signing in',
    `<form id="form-post" method="post" action="${escapeHtml(redirectUri)}">${hiddenFields(values)}<p>Signed in. Continuing to the ` +
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
  const hidden = hiddenFields({ ...page.hidden, [FORM_TOKEN_FIELD]: page.formToken });
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
${employeeFields(employee)}
<button type="submit">Sign in</button></form>`,
  );
}

/** The fields that name the employee, the given one filled in. */
function employeeFields(employee: TestEmployee): string {
  return `<label for="navIdent">NAVident</label><input id="navIdent" name="navIdent" value="${escapeHtml(employee.navIdent)}" required
maxlength="20" pattern="[A-Za-z0-9]+" autocomplete="username">
<label for="name">Name</label><input id="name" name="name" value="${escapeHtml(employee.name)}" required maxlength="200">
<label for="email">E-mail</label><input id="email" name="email" type="email" value="${escapeHtml(employee.email)}" required maxlength="200">
<label for="groups">Groups <span class="muted">(object ids, comma-separated)</span></label>
<input id="groups" name="groups" value="${escapeHtml(employee.groups.join(','))}">`;
}

const hiddenFields = (values: Record<string, string>) =>
  Object.entries(values)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');

/** The device login page's first step: the code the device shows. */
export function deviceCodePage(page: { formToken: string; error?: string }): string {
  return html(
    'Enter code · Entra ID emulator',
    `<h1>Enter code</h1><p class="muted">Entra ID emulator · device sign-in</p>
${page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : ''}
<p>Enter the code displayed on your app or device.</p>
<form method="post" action="${DEVICE_LOGIN_PATH}">${hiddenFields({ [FORM_TOKEN_FIELD]: page.formToken })}
<label for="user_code">Code</label><input id="user_code" name="user_code" required maxlength="20" autocomplete="off" autofocus>
<button type="submit">Next</button></form>`,
  );
}

/** The device login page's second step: who signs in to the app that asked, or decline. */
export function deviceSignInPage(page: {
  userCode: string;
  app: string;
  formToken: string;
  employee: TestEmployee;
  error?: string;
}): string {
  return html(
    'Sign in · Entra ID emulator',
    `<h1>Sign in</h1><p class="muted">Entra ID emulator · device sign-in</p>
${page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : ''}
<p>Are you trying to sign in to <code>${escapeHtml(page.app)}</code>? Only continue if you started this on your own device.</p>
<form method="post" action="${DEVICE_LOGIN_PATH}">${hiddenFields({ user_code: page.userCode, [FORM_TOKEN_FIELD]: page.formToken })}
${employeeFields(page.employee)}
<button type="submit" name="action" value="approve">Sign in</button>
<button type="submit" name="action" value="decline" class="secondary" formnovalidate>Decline</button></form>`,
  );
}

/** The device login page's end. */
export function deviceDonePage(approved: boolean): string {
  return approved
    ? html(
        'Signed in',
        '<h1>You have signed in</h1><p>You have signed in to the application on your device. You may now close this window.</p>',
      )
    : html('Declined', '<h1>Sign-in declined</h1><p>The device was not signed in. You may now close this window.</p>');
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
