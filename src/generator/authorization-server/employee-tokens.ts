/**
 * The token response for an employee's tool (authorization code, refresh token and device grants):
 * an on-behalf-of token for the target, cached per tool session as /api/obo caches per browser
 * session, and the refresh token that keeps the tool's session.
 */
import type { ParsedAudience } from '../../audience.js';
import type { GeneratorContext } from '../context.js';
import type { LoadedSession } from '../sessions.js';
import { responseBody, type TokenResponseBody } from '../tokens.js';
import { withAdvice } from './oauth-error.js';

export interface ToolTokenResponse extends TokenResponseBody {
  refresh_token: string;
}

export class EmployeeTokens {
  constructor(private readonly ctx: GeneratorContext) {}

  async response(session: LoadedSession, audience: ParsedAudience, refreshToken: string, skipCache: boolean): Promise<ToolTokenResponse> {
    const { token } = await withAdvice(this.ctx, audience, 'on_behalf_of', () =>
      this.ctx.tokens.employeeToken(session.id, session.data.accessToken, audience, { skipCache }),
    );
    return { ...responseBody(token), scope: audience.scope, refresh_token: refreshToken };
  }
}
