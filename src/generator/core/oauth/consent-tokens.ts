/**
 * The token a consent page carries (its CSRF token): sealed, naming the browser session it was shown
 * to, so that only a POST from that page, in that browser, within a few minutes, continues, and only
 * once: a second POST of the same page would mint a second code. Each answer counts against the login's limit on
 * requests: the pages are the login's to show at will, and each answer is remembered in the store for ten minutes.
 */
import { randomBytes } from 'node:crypto';
import { digest } from '../../../digest.js';
import { z } from 'zod';
import type { Sealer, SessionStore } from '../../../session/index.js';
import type { LoadedSession } from '../sessions.js';
import type { Limits } from '../limits.js';
import { refuse } from '../problem.js';

const CONSENT_SECONDS = 600;

export class ConsentTokens<T> {
  private readonly schema;

  constructor(
    private readonly sealer: Sealer,
    /** Where the tokens used are remembered until they expire. */
    private readonly store: SessionStore,
    /** Counts the answers of each login. */
    private readonly limits: Pick<Limits, 'loginRequest'>,
    /** What the token is for: a token of one purpose opens for no other. */
    private readonly purpose: string,
    request: z.ZodType<T>,
    private readonly now: () => number = Date.now,
  ) {
    this.schema = z.object({ id: z.string(), session: z.string(), expiresAt: z.number(), request });
  }

  issue(session: LoadedSession, request: T): string {
    const id = randomBytes(16).toString('base64url');
    return this.sealer.seal(
      JSON.stringify({ id, session: digest(session.id), expiresAt: this.now() + CONSENT_SECONDS * 1000, request }),
      this.purpose,
    );
  }

  /**
   * The request the page asked about; refused unless the token was shown to this session, is recent,
   * and was not used before (a second POST of the same page would mint a second code), and past the login's limit.
   */
  async open(session: LoadedSession, token: unknown): Promise<T> {
    await this.limits.loginRequest(session.id);
    const opened = typeof token === 'string' ? this.sealer.open(token, this.purpose) : undefined;
    let parsed: z.infer<typeof this.schema> | undefined;
    try {
      parsed = opened ? this.schema.parse(JSON.parse(opened)) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.session !== digest(session.id)) {
      throw refuse(
        'consent_refused',
        'This answer does not come from the page that asked you in this browser: open the link from your tool again.',
      );
    }
    if (parsed.expiresAt <= this.now())
      throw refuse('consent_refused', 'The page that asked you has expired: open the link from your tool again.');
    if (!(await this.store.consumeOnce(`${this.purpose}:${parsed.id}`, CONSENT_SECONDS * 1000)))
      throw refuse('consent_refused', 'This page was already answered: open the link from your tool again.');
    return parsed.request as T;
  }
}
