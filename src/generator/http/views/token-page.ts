/**
 * The page an employee sees with a token: the token, its copy button and its expiry in the first screen,
 * the token response as JSON one click away, a curl line to copy, the claims as a table that says what
 * each known claim means, times in the reader's clock (the script turns the UTC fallback into local time
 * and counts the expiry down), the raw header and claims folded.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { IdentityProvider } from '../../idp/identity-provider.js';
import { copyBlock, escapeHtml, page, sessionActions } from './html.js';
import type { TokenResponseBody } from '../../core/tokens.js';

/** Claims that hold a time, in seconds since 1970 (JWT's exp, iat, nbf; OpenID Connect's auth_time). */
const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time']);

/** The provider that issued the token: it says what its claims mean. */
type Describer = Pick<IdentityProvider, 'describeClaim'>;

function decoded(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  try {
    return { header: decodeProtectedHeader(token) as Record<string, unknown>, claims: decodeJwt(token) };
  } catch {
    return { header: {}, claims: {} };
  }
}

/** A time as `<time>`: UTC for a reader without the script, the local clock and "in 5 minutes" with it. */
function timeElement(epochSeconds: number, options: { expiry?: boolean } = {}): string {
  const iso = new Date(epochSeconds * 1000).toISOString();
  const utc = `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  return `<time datetime="${iso}" data-local${options.expiry ? ' data-expiry class="expiry"' : ''}>${utc}</time>`;
}

function claimValue(name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') return `${timeElement(value, { expiry: name === 'exp' })} <code>${value}</code>`;
  if (Array.isArray(value)) return value.map((item) => `<code>${escapeHtml(String(item))}</code>`).join(' ');
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `<code>${escapeHtml(text)}</code>`;
}

function claimsTable(claims: Record<string, unknown>, target: string, provider: Describer): string {
  const rows = Object.entries(claims).map(([name, value]) => {
    const meaning = provider.describeClaim(name, value, { target });
    const explained = meaning ? escapeHtml(meaning) : '<span class="muted">Not a claim this page knows.</span>';
    return (
      `<tr><th scope="row"><code>${escapeHtml(name)}</code></th>` +
      `<td class="value">${claimValue(name, value)}</td><td>${explained}</td></tr>`
    );
  });
  return `<table class="claims" id="claims-table">
<thead><tr><th scope="col">Claim</th><th scope="col">Value</th><th scope="col">What it means</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** The token shortened for the eye, where a whole one would only push the line off the screen. */
function shortened(token: string): string {
  return token.length > 40 ? `${token.slice(0, 16)}…${token.slice(-12)}` : token;
}

/**
 * A new token once this one has expired: this page asked again. There for a reader without the script, who cannot see the
 * expiry come; the script hides it until the token has expired, then shows it and says so (a live region, read out).
 */
function renewOffer(pagePath: string): string {
  return `<div aria-live="polite"><p class="actions" id="token-renew" data-renew><span data-renew-why>Once this token has expired:</span>
<a class="button" href="${escapeHtml(pagePath)}">Get a new one</a></p></div>`;
}

export interface TokenPageOptions {
  title: string;
  /** The app the token is for, `cluster:namespace:app`. */
  target: string;
  body: TokenResponseBody;
  correlationId: string;
  /** One sentence: whose token this is and who asked for it. */
  intro: string;
  /** This page's own path and query, to come back to after signing in as someone else, and to ask again for a new token. */
  returnTo: string;
  /** The tenant's domain, said beside "Sign in as someone else". */
  loginDomain: string;
  provider: Describer;
}

export function tokenPage(options: TokenPageOptions): string {
  const { body } = options;
  const { header, claims } = decoded(body.access_token);
  const exp = typeof claims.exp === 'number' ? claims.exp : Math.floor(Date.now() / 1000) + body.expires_in;
  const curl = (token: string) => `curl -H "Authorization: Bearer ${token}" https://<your-api>/…`;
  const scope = body.scope ? ` · scope <code>${escapeHtml(body.scope)}</code>` : '';
  // The first screen, at 375 px as at 1280 px: the token (a few lines, scrolling inside), Copy token and the expiry.
  const html = `<section>
<h1>${escapeHtml(options.title)}</h1>
<p>${escapeHtml(options.intro)}</p>
<p>Expires ${timeElement(exp, { expiry: true })} · <code>${escapeHtml(body.token_type)}</code>${scope}</p>
${renewOffer(options.returnTo)}
${copyBlock({ id: 'access-token', label: 'Copy token', text: body.access_token, className: 'token' })}
<details id="token-response-details">
<summary>Token response (JSON)</summary>
<p class="muted">What scripts get from this address with <code>Accept: application/json</code>.</p>
<pre tabindex="0" id="token-response">${escapeHtml(JSON.stringify(body, null, 2))}</pre>
</details>
<h2>Use it</h2>
${copyBlock({ id: 'curl', label: 'Copy curl command', text: curl(body.access_token), shown: curl(shortened(body.access_token)) })}
<h2>Claims</h2>
${claimsTable(claims, options.target, options.provider)}
<details id="raw-token-details">
<summary>Raw header and claims</summary>
<h3>Header</h3>
<pre tabindex="0" id="token-header">${escapeHtml(JSON.stringify(header, null, 2))}</pre>
<h3>Claims</h3>
<pre tabindex="0" id="token-claims">${escapeHtml(JSON.stringify(claims, null, 2))}</pre>
</details>
${sessionActions({ returnTo: options.returnTo, loginDomain: options.loginDomain })}
<p><a href="/">Another token</a></p>
</section>`;
  return page({ title: options.title, body: html, correlationId: options.correlationId, audience: options.target });
}
