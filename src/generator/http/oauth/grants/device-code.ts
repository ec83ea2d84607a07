/**
 * The device code grant (RFC 8628 §3.4, §3.5): the parameters read, the poll answered by the core's
 * rules (`core/oauth/device-codes.ts`), and once allowed the tool's first token and refresh token.
 */
import type { DeviceCodes } from '../../../core/oauth/device-codes.js';
import { refuse } from '../../../core/problem.js';
import type { TokenOptions } from '../../../core/tokens.js';
import type { Waiting } from '../../../core/oauth/waiting.js';
import type { EmployeeTokens } from '../employee-tokens.js';
import { sentClientId, single, targetScope } from '../parameters.js';

export async function deviceCodeGrant(
  params: Record<string, unknown>,
  deps: { deviceCodes: DeviceCodes; tokens: EmployeeTokens },
  asked: TokenOptions,
  waiting: Waiting,
) {
  const deviceCode = single(params, 'device_code');
  if (!deviceCode) throw refuse('invalid_request', 'Send the device_code from the device authorization.');
  return deps.deviceCodes.redeem({ deviceCode, client: sentClientId(params), waiting }, (redeemed) =>
    deps.tokens.response(redeemed.session, targetScope(redeemed.target), redeemed.refreshToken, asked),
  );
}
