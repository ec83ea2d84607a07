/**
 * The device code grant (RFC 8628 §3.4, §3.5): the tool polls until the employee has answered,
 * and gets the answer in the RFC's words; once allowed, its own session starts.
 */
import type { DeviceAuthorizations } from '../../../core/device-authorizations.js';
import type { EmployeeTokens } from '../employee-tokens.js';
import type { TokenOptions } from '../../../core/tokens.js';
import { refuse } from '../../../core/problem.js';
import { sentClientId, single, targetScope } from '../parameters.js';
import type { ToolSessions } from '../../../core/oauth/tool-sessions.js';

export async function deviceCodeGrant(
  params: Record<string, unknown>,
  deps: { devices: DeviceAuthorizations; tools: ToolSessions; tokens: EmployeeTokens },
  asked: TokenOptions,
) {
  const deviceCode = single(params, 'device_code');
  if (!deviceCode) throw refuse('invalid_request', 'Send the device_code from the device authorization.');
  // RFC 8628 §3.4: a client that does not authenticate names itself in each poll, so that only the tool the code was
  // issued to takes its answer. Refused before the poll is counted.
  const client = sentClientId(params);
  if (client === undefined) {
    throw refuse(
      'invalid_request',
      'Send client_id with each poll: the one the device authorization was started with (RFC 8628 section 3.4).',
    );
  }
  const outcome = await deps.devices.poll(deviceCode, client);
  switch (outcome.kind) {
    case 'unknown':
      throw refuse('invalid_grant', 'This device_code is not known: start a new device authorization.');
    case 'other_client':
      throw refuse('invalid_grant', 'This device_code was issued to another client_id.');
    case 'used':
      throw refuse('invalid_grant', 'This device_code was already used: start a new device authorization.');
    case 'expired':
      throw refuse('expired_token', 'The user code expired before it was approved: start a new device authorization.');
    case 'slow_down':
      throw refuse('slow_down', `Polling too fast: wait ${outcome.interval} seconds between requests.`);
    case 'pending':
      throw refuse('authorization_pending', 'The employee has not answered yet: keep polling at the interval.');
    case 'denied':
      throw refuse('access_denied', 'The employee denied this request.');
    case 'allowed': {
      const { session: browserSession, client, target, address, userAgent } = outcome.authorization;
      const audience = targetScope(target);
      const from = `${address}${userAgent ? ` (${userAgent.slice(0, 60)})` : ''}`;
      const { session, refreshToken } = await deps.tools.start(browserSession, { client, target: audience.target }, from);
      return deps.tools.firstAnswer(session, () => deps.tokens.response(session, audience, refreshToken, asked));
    }
  }
}
