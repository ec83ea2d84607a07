/**
 * Asking the employee before a tool gets tokens as them: the page that asks, and the check that its
 * answer comes from this site. Its CSRF token is the core's (`core/oauth/consent-tokens.ts`); a
 * cross-site POST carries no session cookie (SameSite=Lax) and no token it could have read.
 */
import type { FastifyRequest } from 'fastify';
import { escapeHtml, page, tenantNote } from '../views/html.js';
import type { LoadedSession } from '../../core/sessions.js';
import { refuse } from '../../core/problem.js';

/** A form POST from another site (browsers say so in Sec-Fetch-Site and Origin) is refused before anything else. */
export function assertSameOrigin(request: FastifyRequest, publicUrl: string): void {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  // Under Referrer-Policy: no-referrer, browsers send `Origin: null` even for a form of this service.
  const crossSite =
    (typeof site === 'string' && site !== 'same-origin' && site !== 'none') ||
    (typeof origin === 'string' && origin !== 'null' && origin !== new URL(publicUrl).origin);
  if (crossSite) throw refuse('consent_refused', 'Only the page of the token generator that asked you can answer it.');
}

export interface ConsentPage {
  client: string;
  target: string;
  who: string;
  /** Where the tool is, in words: "on this computer". */
  where: string;
  action: string;
  csrfToken: string;
  /** The tenant's domain: the tool's later logins need a user of it too. */
  loginDomain: string;
}

export function consentPage(options: ConsentPage): string {
  return page({
    title: `Allow ${options.client}?`,
    body: `<section>
<h1>Let ${escapeHtml(options.client)} ${escapeHtml(options.where)} get tokens as ${escapeHtml(options.who)}?</h1>
<p><strong>${escapeHtml(options.client)} ${escapeHtml(options.where)}</strong>, for <strong>${escapeHtml(options.target)}</strong>.</p>
<p>It will get tokens on your behalf for <code>${escapeHtml(options.target)}</code>, and for others it asks for, until its session ends
or it logs out. Your own session in this browser is not affected.</p>
${tenantNote(options.loginDomain)}
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(options.csrfToken)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
</section>`,
  });
}

export function employeeName(session: LoadedSession): string {
  const employee = session.data.user;
  return employee.name ?? employee.preferredUsername ?? employee.navIdent ?? 'you';
}
