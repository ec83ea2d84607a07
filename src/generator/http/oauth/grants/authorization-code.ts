/**
 * The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636): codes that name the browser
 * session the employee allowed the tool from, sealed, single use, a minute long, bound to the tool's
 * redirect URI and its PKCE challenge. Redeeming one starts the tool's own session.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Sealer, SessionStore } from '../../../../session/index.js';
import { refuse } from '../../../core/problem.js';
import { clientId, single, targetScope } from '../parameters.js';
import type { ToolSessions } from '../tool-sessions.js';
import type { EmployeeTokens } from '../employee-tokens.js';
import type { EmployeeTokenOptions } from '../../../core/tokens.js';

const CODE_SECONDS = 60;
const CODE = 'authorization-code';
/** Where a tool of this grant is: its redirect went to the loopback address of the browser's computer. */
const LOOPBACK = 'the computer of the browser that allowed it';

const Code = z.object({
  id: z.string(),
  session: z.string(),
  client: z.string(),
  redirectUri: z.string(),
  challenge: z.string(),
  target: z.string(),
  expiresAt: z.number(),
});
export type CodeGrant = Omit<z.infer<typeof Code>, 'id' | 'expiresAt'>;

export class AuthorizationCodes {
  constructor(
    private readonly sealer: Sealer,
    private readonly store: SessionStore,
    private readonly tools: ToolSessions,
    private readonly tokens: EmployeeTokens,
  ) {}

  issue(grant: CodeGrant): string {
    return this.sealer.seal(
      JSON.stringify({ ...grant, id: randomBytes(16).toString('base64url'), expiresAt: Date.now() + CODE_SECONDS * 1000 }),
      CODE,
    );
  }

  async redeem(params: Record<string, unknown>, asked: EmployeeTokenOptions) {
    const code = this.open(single(params, 'code'));
    const verifier = single(params, 'code_verifier');
    if (!verifier) throw refuse('invalid_grant', 'Send the PKCE code_verifier of this code: the generator requires PKCE (S256).');
    if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge)
      throw refuse('invalid_grant', 'The code_verifier does not match the code_challenge of this code.');
    if (single(params, 'redirect_uri') !== code.redirectUri)
      throw refuse('invalid_grant', 'The redirect_uri differs from the one this code was issued for.');
    const client = single(params, 'client_id');
    if (client !== undefined && clientId(client) !== code.client)
      throw refuse('invalid_grant', 'This code was issued to another client_id.');
    const audience = targetScope(code.target);
    if (!(await this.store.consumeOnce(`${CODE}:${code.id}`, CODE_SECONDS * 2000))) {
      // RFC 6749 §4.1.2: a code used twice may have been stolen: the session it started ends too.
      const started = await this.store.getRecord(`${CODE}-session:${code.id}`);
      if (started) await this.tools.endById(started);
      throw refuse('invalid_grant', 'This code was already used; the session it started has been ended. Log in again.');
    }
    const { session, refreshToken } = await this.tools.start(code.session, { client: code.client, target: audience.target }, LOOPBACK);
    await this.store.setRecord(`${CODE}-session:${code.id}`, session.id, CODE_SECONDS * 2000);
    return this.tokens.response(session, audience, refreshToken, asked);
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
    if (code.expiresAt <= Date.now()) throw refuse('invalid_grant', 'The code has expired: start the login again.');
    return code;
  }
}
