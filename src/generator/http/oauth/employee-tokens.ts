/**
 * The token response for an employee's tool (authorization code, refresh token and device grants):
 * an on-behalf-of token for the target, cached per tool session as /api/obo caches per browser
 * session, and the refresh token that keeps the tool's session.
 */
import type { ParsedAudience } from '../../../audience.js';
import type { GeneratorContext } from '../context.js';
import type { LoadedSession } from '../../core/sessions.js';
import { responseBody, type TokenOptions, type TokenResponseBody } from '../../core/tokens.js';

export interface ToolTokenResponse extends TokenResponseBody {
  refresh_token: string;
}

export class EmployeeTokens {
  constructor(private readonly ctx: GeneratorContext) {}

  async response(session: LoadedSession, audience: ParsedAudience, refreshToken: string, asked: TokenOptions): Promise<ToolTokenResponse> {
    const token = await this.ctx.tokens.employeeToken(session, audience, asked);
    return { ...responseBody(token), scope: audience.scope, refresh_token: refreshToken };
  }
}
