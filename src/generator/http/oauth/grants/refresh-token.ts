/**
 * The refresh token grant (RFC 6749 §6): the tool's session behind the handle, a fresh
 * on-behalf-of token for the scope asked for, or for the target of the first token when none is,
 * and the next refresh token (RFC 9700 §4.14.2: rotated, the old one ends the session if used again).
 */
import { refuse } from '../../../core/problem.js';
import { single, targetScope } from '../parameters.js';
import type { ToolSessions } from '../../../core/oauth/tool-sessions.js';
import type { EmployeeTokens } from '../employee-tokens.js';
import type { TokenOptions } from '../../../core/tokens.js';
import type { Waiting } from '../../../core/oauth/waiting.js';

export async function refreshGrant(
  params: Record<string, unknown>,
  deps: { tools: ToolSessions; tokens: EmployeeTokens },
  asked: TokenOptions,
  waiting: Waiting,
) {
  const refreshToken = single(params, 'refresh_token');
  if (!refreshToken) throw refuse('invalid_request', 'Send the refresh_token.');
  const held = await deps.tools.load(refreshToken);
  const scope = single(params, 'scope') ?? held.session.data.tool?.target;
  const answer = await deps.tokens.response(held.session, targetScope(scope), refreshToken, asked);
  // Rotated once the answer is ready, for a tool still waiting: a refused refresh leaves the tool its token.
  return { ...answer, refresh_token: await deps.tools.rotate(held, waiting) };
}
