/**
 * Asking the employee before a tool gets tokens as them: the page that asks, and its CSRF token.
 * The token is sealed and names the browser session it was shown to, so that only a POST from that
 * page, in that browser, within a few minutes, continues, once; a cross-site POST carries no session
 * cookie (SameSite=Lax) and no token it could have read.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Sealer, SessionStore } from '../../../session/index.js';
import { escapeHtml, page, tenantNote } from '../views/html.js';
import type { LoadedSession } from '../sessions.js';
import { refuse } from '../../core/problem.js';

const CONSENT_SECONDS = 600;

const sessionHash = (id: string) => createHash('sha256').update(id).digest('base64url');

export class ConsentTokens<T> {
  private readonly schema;

  constructor(
    private readonly sealer: Sealer,
    /** Where the tokens used are remembered until they expire. */
    private readonly store: SessionStore,
    /** What the token is for: a token of one purpose opens for no other. */
    private readonly purpose: string,
    request: z.ZodType<T>,
  ) {
    this.schema = z.object({ id: z.string(), session: z.string(), expiresAt: z.number(), request });
  }

  issue(session: LoadedSession, request: T): string {
    const id = randomBytes(16).toString('base64url');
    return this.sealer.seal(
      JSON.stringify({ id, session: sessionHash(session.id), expiresAt: Date.now() + CONSENT_SECONDS * 1000, request }),
      this.purpose,
    );
  }

  /**
   * The request the page asked about; refused unless the token was shown to this session, is recent,
   * and was not used before (a second POST of the same page would mint a second code).
   */
  async open(session: LoadedSession, token: unknown): Promise<T> {
    const opened = typeof token === 'string' ? this.sealer.open(token, this.purpose) : undefined;
    let parsed: z.infer<typeof this.schema> | undefined;
    try {
      parsed = opened ? this.schema.parse(JSON.parse(opened)) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.session !== sessionHash(session.id)) {
      throw refuse(
        'consent_refused',
        'This answer does not come from the page that asked you in this browser: open the link from your tool again.',
      );
    }
    if (parsed.expiresAt <= Date.now())
      throw refuse('consent_refused', 'The page that asked you has expired: open the link from your tool again.');
    if (!(await this.store.consumeOnce(`${this.purpose}:${parsed.id}`, CONSENT_SECONDS * 1000)))
      throw refuse('consent_refused', 'This page was already answered: open the link from your tool again.');
    return parsed.request as T;
  }
}

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
