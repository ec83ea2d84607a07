/**
 * Authorization codes (RFC 6749 §4.1, RFC 7636): they name the browser session the employee allowed
 * the tool from, sealed, single use, a minute long, bound to the tool's redirect URI and its PKCE
 * challenge. Redeeming one starts the tool's own session; a code redeemed twice may have been stolen,
 * so the second redemption also ends the session the first one started (RFC 6749 §4.1.2). A code is
 * used up only by a redemption whose answer is ready (`ToolSessions.firstAnswer`): one that failed on
 * the way (the identity provider refused or failed, the generator died) leaves the tool its code to try again. A code
 * carries the employee's logout mark when they allowed it, so that a logout after that ends it, redeemed or not yet.
 */
import { randomBytes } from 'node:crypto';
import { digest } from '../../../digest.js';
import { z } from 'zod';
import type { Sealer, SessionStore } from '../../../session/index.js';
import { refuse } from '../problem.js';
import { sentByAnotherTool } from './client-id.js';
import type { LoadedSession } from '../sessions.js';
import type { AllowedBy, ToolSessions } from './tool-sessions.js';
import type { Waiting } from './waiting.js';

const CODE_SECONDS = 60;
const CODE = 'authorization-code';
/** Where a tool of this grant is: its redirect went to the loopback address of the browser's computer. */
const LOOPBACK = 'the computer of the browser that allowed it';
/** Where the tool session a code started is named, for a second redemption to end it. */
const startedKey = (id: string) => `${CODE}-session:${id}`;
/** Where a second redemption says it came, for a first one still under way to end its own session. */
const replayedKey = (id: string) => `${CODE}-replayed:${id}`;
/** How long a code's use is remembered: twice its life, so that a replay is known for as long as the code could be sent. */
const KEPT_MS = CODE_SECONDS * 2000;

const Code = z.object({
  id: z.string(),
  session: z.string(),
  /** The employee's logout mark when they allowed it (`ToolSessions.allowing`). */
  mark: z.string().optional(),
  client: z.string(),
  redirectUri: z.string(),
  challenge: z.string(),
  target: z.string(),
  expiresAt: z.number(),
});
/** What the employee allowed, besides who allowed it: the browser login `issue` is given. */
export type CodeGrant = Omit<z.infer<typeof Code>, 'id' | 'expiresAt' | 'session' | 'mark'>;

/** What a tool sends to redeem a code, as the token endpoint read it. */
export interface CodeRedemption {
  code: string | undefined;
  verifier: string | undefined;
  redirectUri: string | undefined;
  /** The tool's name, when it sent one. */
  client: string | undefined;
  /** Whether the tool still waits for its answer (`waiting.ts`). */
  waiting?: Waiting;
}

/** The tool session a code started, its refresh token, and the target the employee allowed. */
export interface RedeemedCode {
  session: LoadedSession;
  refreshToken: string;
  target: string;
}

export class AuthorizationCodes {
  constructor(
    private readonly sealer: Sealer,
    private readonly store: SessionStore,
    private readonly tools: ToolSessions,
    private readonly now: () => number = Date.now,
  ) {}

  /** A code for what the employee allowed, as `allowedBy` (`ToolSessions.allowing`, read before the consent page was used up) says who. */
  issue(allowedBy: AllowedBy, grant: CodeGrant): string {
    const id = randomBytes(16).toString('base64url');
    return this.sealer.seal(JSON.stringify({ ...grant, ...allowedBy, id, expiresAt: this.now() + CODE_SECONDS * 1000 }), CODE);
  }

  /** The code checked and its tool session started, `answer` (the tool's first token) made, and only then the code used up. */
  async redeem<T>(asked: CodeRedemption, answer: (redeemed: RedeemedCode) => Promise<T>): Promise<T> {
    const code = this.open(asked.code);
    if (!asked.verifier) throw refuse('invalid_grant', 'Send the PKCE code_verifier of this code: the generator requires PKCE (S256).');
    if (digest(asked.verifier) !== code.challenge)
      throw refuse('invalid_grant', 'The code_verifier does not match the code_challenge of this code.');
    if (asked.redirectUri !== code.redirectUri)
      throw refuse('invalid_grant', 'The redirect_uri differs from the one this code was issued for.');
    if (sentByAnotherTool(asked.client, code.client)) throw refuse('invalid_grant', 'This code was issued to another client_id.');
    // A code used before starts nothing, and asks the identity provider nothing.
    const startedBefore = await this.store.getRecord(startedKey(code.id));
    if (startedBefore) await this.replayed(startedBefore);
    const allowedBy = { session: code.session, mark: code.mark };
    const started = await this.tools.start(allowedBy, { client: code.client, target: code.target }, LOOPBACK);
    const { session, refreshToken } = started;
    const claim = async () => {
      if (!(await this.store.consumeOnce(`${CODE}:${code.id}`, KEPT_MS))) {
        // Said before looking, so that a first redemption that has not yet said where its session is sees it (below).
        await this.store.setRecord(replayedKey(code.id), 'replayed', KEPT_MS);
        await this.replayed(await this.store.getRecord(startedKey(code.id)));
      }
      await this.store.setRecord(startedKey(code.id), session.id, KEPT_MS);
      // A replay at the same time that looked before the line above found no session to end: it ends here, as a replay after
      // the answer would end it. The answer still goes out, as it would have gone before such a replay.
      if (await this.store.getRecord(replayedKey(code.id))) await this.tools.endById(session.id);
    };
    return this.tools.firstAnswer(started, () => answer({ session, refreshToken, target: code.target }), claim, asked.waiting);
  }

  /** A code redeemed again: the session its redemption started (if known yet) ends too. */
  private async replayed(started: string | undefined): Promise<never> {
    if (started) await this.tools.endById(started);
    throw refuse('invalid_grant', 'This code was already used; the session it started has been ended. Log in again.');
  }

  private open(sealed: string | undefined): z.infer<typeof Code> {
    const opened = sealed ? this.sealer.open(sealed, CODE) : undefined;
    let code: z.infer<typeof Code> | undefined;
    try {
      code = opened ? Code.parse(JSON.parse(opened)) : undefined;
    } catch {
      code = undefined;
    }
    if (!code) throw refuse('invalid_grant', 'The code is not valid: start the login again.');
    if (code.expiresAt <= this.now()) throw refuse('invalid_grant', 'The code has expired: start the login again.');
    return code;
  }
}
