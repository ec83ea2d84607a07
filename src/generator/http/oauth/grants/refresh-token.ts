/**
 * The refresh token grant (RFC 6749 §6): the tool's session behind the handle, and a fresh
 * on-behalf-of token for the scope asked for, or for the target of the first token when none is.
 */
import { refuse } from '../../../core/problem.js';
import { single, targetScope } from '../parameters.js';
import type { ToolSessions } from '../tool-sessions.js';
import type { EmployeeTokens } from '../employee-tokens.js';
import type { EmployeeTokenOptions } from '../../../core/tokens.js';

export async function refreshGrant(
  params: Record<string, unknown>,
  deps: { tools: ToolSessions; tokens: EmployeeTokens },
  asked: EmployeeTokenOptions,
) {
  const refreshToken = single(params, 'refresh_token');
  if (!refreshToken) throw refuse('invalid_request', 'Send the refresh_token.');
  const session = await deps.tools.load(refreshToken);
  const scope = single(params, 'scope') ?? session.data.tool?.target;
  return deps.tokens.response(session, targetScope(scope), refreshToken, asked);
}
