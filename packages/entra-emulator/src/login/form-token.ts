/**
 * Login CSRF protection: the sign-in form carries a token bound to the page (the authorize
 * parameters it carries on) and to the browser (a cookie of its own, set with the page). A form
 * posted from another site has neither the cookie (SameSite=Lax) nor a token for it, and its
 * Origin is not the emulator's; it is refused before any sign-on cookie is set. The token is a MAC,
 * so nothing is stored per page; its key is kept in the state folder, so that a page shown before a
 * restart is still taken after it, as the sign-on sessions are kept.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { safeEqual } from '../directory.js';
import { randomToken } from '../random.js';
import type { StateFolder } from '../state.js';

/** The name of the form field that carries the token. */
export const FORM_TOKEN_FIELD = 'sign_in_token';
const LIFETIME_MS = 3_600_000;
const BROWSER_VALUE = /^[A-Za-z0-9_-]{43}$/;
const KEY_FILE = 'sign-in-form-key.json';
const KeptKey = z.object({ key: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });

/** The key the sign-in forms' tokens are made with: the one kept in the state folder, else a new one (kept when there is a folder). */
export async function signInFormKey(state: StateFolder | undefined): Promise<Buffer> {
  const kept = await state?.read(KEY_FILE, KeptKey);
  if (kept) return Buffer.from(kept.key, 'base64url');
  const key = randomBytes(32);
  await state?.write(KEY_FILE, { key: key.toString('base64url') });
  return key;
}

export class SignInFormTokens {
  readonly cookieName: string;

  constructor(
    tenantId: string,
    private readonly cookiePath: string,
    private readonly secureCookies: boolean,
    private readonly key: Buffer,
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
    // The path names the pages (the sign-in's, the device login's), which share the key: a token of one opens for no other.
    return createHmac('sha256', this.key).update(`${this.cookiePath}\n${browser}\n${issuedAt}\n${binding}`).digest('base64url');
  }
}
