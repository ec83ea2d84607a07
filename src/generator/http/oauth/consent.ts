/**
 * Asking the employee before a tool gets tokens as them: the page that asks, and its CSRF token.
 * The token is sealed and names the browser session it was shown to, so that only a POST from that
 * page, in that browser, within a few minutes, continues; a cross-site POST carries no session
 * cookie (SameSite=Lax) and no token it could have read.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Sealer } from '../../../session/index.js';
import { escapeHtml, page } from '../views/html.js';
import type { LoadedSession } from '../sessions.js';
import { refuse } from '../../core/problem.js';

const CONSENT_SECONDS = 600;

const sessionHash = (id: string) => createHash('sha256').update(id).digest('base64url');

export class ConsentTokens<T> {
  private readonly schema;

  constructor(
    private readonly sealer: Sealer,
    /** What the token is for: a token of one purpose opens for no other. */
    private readonly purpose: string,
    request: z.ZodType<T>,
  ) {
    this.schema = z.object({ session: z.string(), expiresAt: z.number(), request });
  }

  issue(session: LoadedSession, request: T): string {
    return this.sealer.seal(
      JSON.stringify({ session: sessionHash(session.id), expiresAt: Date.now() + CONSENT_SECONDS * 1000, request }),
      this.purpose,
    );
  }

  /** The request the page asked about; refused unless the token was shown to this session and is recent. */
  open(session: LoadedSession, token: unknown): T {
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
  /** Where the tool is, in words: "on this computer", or the device's address and browser. */
  where: string;
  from?: { address: string; userAgent: string };
  action: string;
  csrfToken: string;
}

export function consentPage(options: ConsentPage): string {
  const from = options.from
    ? `<p>The request came from the address <code>${escapeHtml(options.from.address)}</code> with the user agent
<code>${escapeHtml(options.from.userAgent || 'none')}</code>.
If that is not a device of yours, deny.</p>`
    : '';
  return page({
    title: `Allow ${options.client}?`,
    body: `<section>
<h1>Let ${escapeHtml(options.client)} ${escapeHtml(options.where)} get tokens as ${escapeHtml(options.who)}?</h1>
<p><strong>${escapeHtml(options.client)} ${escapeHtml(options.where)}</strong>, for <strong>${escapeHtml(options.target)}</strong>.</p>
<p>It will get tokens on your behalf for <code>${escapeHtml(options.target)}</code>, and for others it asks for, until its session ends
or it logs out. Your own session in this browser is not affected.</p>
${from}
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(options.csrfToken)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</section>`,
  });
}

export function employeeName(session: LoadedSession): string {
  const employee = session.data.user;
  return employee.name ?? employee.preferredUsername ?? employee.navIdent ?? 'you';
}
