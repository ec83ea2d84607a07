/**
 * HTML for people: one layout, every value escaped, no inline script or style (so the strict
 * Content-Security-Policy holds); looks come from /static/app.css, behaviour from /static/app.js.
 */
import { escapeHtml } from '../../../escape-html.js';
import { loginUrl, PATHS } from '../../../paths.js';
import type { PageAction } from '../../core/problem.js';
import type { IdentityProvider } from '../../idp/identity-provider.js';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; " +
  "base-uri 'none'; frame-ancestors 'none'";

/** The policy of a page whose form may lead to one other place (a tool's loopback address) besides this service. */
export function policyWithFormDestination(source: string): string {
  return CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${source}`);
}

/**
 * The policy of a page whose form may answer with a login (the home page's token form, the device page's code form, once
 * the session has ended): the login is a redirect to the identity provider, which `form-action 'self'` would stop where the
 * form is submitted as a form (Chromium checks every redirect of a form's submission). The provider's origin comes from its
 * login URL, for this service at `publicUrl`; none while it is not loaded.
 */
export function policyWithLogin(provider: Pick<IdentityProvider, 'buildLoginUrl'>, publicUrl: string): string {
  let origin: string | undefined;
  try {
    const redirectUri = `${publicUrl}${PATHS.callback}`;
    origin = new URL(provider.buildLoginUrl({ redirectUri, scope: 'openid', state: 'x', nonce: 'x', codeChallenge: 'x' })).origin;
  } catch {
    origin = undefined;
  }
  return origin && origin !== 'null' ? policyWithFormDestination(origin) : CONTENT_SECURITY_POLICY;
}

export { escapeHtml };

export interface PageOptions {
  title: string;
  body: string;
  correlationId?: string;
  /** An audience this page is about: the script keeps it among the browser's recent audiences. */
  audience?: string;
}

/**
 * The start of every page up to its main content. `base` is the generator's URL for a page served
 * elsewhere (the command line's loopback page), which then takes the generator's stylesheet and icon.
 */
export function pageStart(title: string, base = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)} · Token generator</title>
<link rel="icon" href="${escapeHtml(base + PATHS.icon)}" type="image/svg+xml">
<link rel="stylesheet" href="${escapeHtml(base + PATHS.stylesheet)}">
</head>
<body>
<header class="site"><a href="${escapeHtml(base + PATHS.home)}">Entra ID token generator</a></header>`;
}

export function page(options: PageOptions): string {
  return `${pageStart(options.title)}
<main${options.audience ? ` data-audience="${escapeHtml(options.audience)}"` : ''}>
${options.body}
${options.correlationId ? `<p class="muted">Correlation id: <code>${escapeHtml(options.correlationId)}</code></p>` : ''}
</main>
<script src="${PATHS.script}"></script>
</body>
</html>
`;
}

/**
 * A block to copy as it is, with its button (shown by the script; without it, the text is there to select).
 * `shown` is what the block displays when it differs from what is copied (a long token, shortened).
 */
export function copyBlock(options: { id: string; label: string; text: string; shown?: string; className?: string }): string {
  const { id, label, text } = options;
  const source = options.shown === undefined ? '' : `<textarea id="${id}" hidden readonly>${escapeHtml(text)}</textarea>`;
  const blockId = options.shown === undefined ? id : `${id}-shown`;
  const className = options.className ? ` class="${options.className}"` : '';
  return `<pre tabindex="0" id="${blockId}"${className}>${escapeHtml(options.shown ?? text)}</pre>${source}
<p class="actions"><button type="button" data-copy="${id}" hidden>${escapeHtml(label)}</button> <span class="copy-status"
data-copy-status-for="${id}" role="status"></span></p>`;
}

/**
 * Log out, said in this one place. A link, not a form: logout ends at the identity provider, another
 * origin, and `form-action 'self'` stops a form whose answer redirects there.
 */
export function logoutControl(): string {
  return `<a class="button secondary" href="${PATHS.logout}">Log out</a>`;
}

/** Which user a login needs, said before the login: the tenant's domain from the configuration. */
export function tenantNote(loginDomain: string): string {
  return (
    `<p class="tenant-note">Log in with your <strong>${escapeHtml(loginDomain)}</strong> user: this generator logs in to that tenant ` +
    `only (accounts of the nav.no tenant are not supported).</p>`
  );
}

/**
 * What an employee can do next after a login: the page's own step (try again, go on), be someone else, or leave.
 * "Sign in as someone else" leads to a login, so the user it needs is said beside it, unless the page says so already
 * (`loginDomain` left out).
 */
export function sessionActions(options: { returnTo: string; next?: PageAction; loginDomain?: string }): string {
  const { next } = options;
  const items = [
    next ? `<li><a class="button" href="${escapeHtml(next.href)}">${escapeHtml(next.label)}</a></li>` : '',
    `<li><a class="button secondary" href="${escapeHtml(loginUrl(options.returnTo, 'login'))}">Sign in as someone else</a></li>`,
    `<li>${logoutControl()}</li>`,
  ];
  const note = options.loginDomain === undefined ? '' : `${tenantNote(options.loginDomain)}\n`;
  return `${note}<ul class="actions" aria-label="What next">${items.join('')}</ul>`;
}
