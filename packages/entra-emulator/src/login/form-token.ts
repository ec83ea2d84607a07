/**
 * Login CSRF protection: the sign-in form carries a token bound to the page (the authorize
 * parameters it carries on) and to the browser (a cookie of its own, set with the page). A form
 * posted from another site has neither the cookie (SameSite=Lax) nor a token for it, and its
 * Origin is not the emulator's; it is refused before any sign-on cookie is set. The token is a MAC,
 * so nothing is stored per page.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../directory.js';
import { randomToken } from '../random.js';

/** The name of the form field that carries the token. */
export const FORM_TOKEN_FIELD = 'sign_in_token';
const LIFETIME_MS = 3_600_000;
const BROWSER_VALUE = /^[A-Za-z0-9_-]{43}$/;

export class SignInFormTokens {
  readonly cookieName: string;
  private readonly key = randomBytes(32);

  constructor(
    tenantId: string,
    private readonly cookiePath: string,
    private readonly secureCookies: boolean,
  ) {
    this.cookieName = `emulator_signin_${tenantId.replace(/[^a-z0-9]/gi, '')}`;
  }

  /** The token for a page showing `binding`, setting the browser's cookie when it has none. */
  issue(request: FastifyRequest, reply: FastifyReply, binding: string): string {
    let browser = request.cookies[this.cookieName];
    if (!browser || !BROWSER_VALUE.test(browser)) {
      browser = randomToken(32);
      reply.setCookie(this.cookieName, browser, { path: this.cookiePath, httpOnly: true, sameSite: 'lax', secure: this.secureCookies });
    }
    const issuedAt = Date.now().toString(36);
    return `${issuedAt}.${this.mac(browser, binding, issuedAt)}`;
  }

  /** Whether a posted form's token was issued to this browser for a page showing `binding`, within the hour. */
  verify(request: FastifyRequest, binding: string, token: string | undefined): boolean {
    const browser = request.cookies[this.cookieName];
    if (!browser || !BROWSER_VALUE.test(browser) || !token) return false;
    const [issuedAt = '', mac = ''] = token.split('.');
    const age = Date.now() - parseInt(issuedAt, 36);
    if (!(age >= 0 && age < LIFETIME_MS)) return false;
    return safeEqual(mac, this.mac(browser, binding, issuedAt));
  }

  private mac(browser: string, binding: string, issuedAt: string): string {
    return createHmac('sha256', this.key).update(`${browser}\n${issuedAt}\n${binding}`).digest('base64url');
  }
}
