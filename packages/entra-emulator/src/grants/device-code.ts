/**
 * The device code grant: the client polls with the device code until the employee has signed in on
 * the device login page (authorization_pending meanwhile, slow_down when it polls faster than the
 * interval), then gets the sign-in's tokens once; a declined or expired sign-in ends the polling.
 */
import { errors } from '../errors.js';
import type { Grant } from './grant.js';
import { signInTokens } from './sign-in-tokens.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * A poll this much sooner than the interval (or half the interval, if less) still counts as on time: a client's timer
 * and the network are not exact.
 */
const POLL_SLACK_MS = 1000;

export const deviceCode: Grant = {
  type: DEVICE_CODE_GRANT,
  // MSAL sends the short name, which Entra takes too.
  aliases: ['device_code'],
  publicClients: true,
  async handle(context, caller, params) {
    // v1 named it `code`, which Entra still takes.
    const value = params.device_code ?? params.code;
    if (!value) throw errors.missingParameter('device_code');
    const authorization = context.stores.deviceCodes.get(value);
    if (!authorization || authorization.clientId !== caller.client.clientId || authorization.status === 'redeemed')
      throw errors.deviceCodeInvalid();
    const now = Date.now();
    if (authorization.expiresAt <= now) throw errors.deviceCodeExpired();
    if (authorization.status === 'declined') throw errors.deviceDeclined();
    if (authorization.status === 'pending' || !authorization.employee || !authorization.sessionId) {
      const last = authorization.lastPolledAt;
      authorization.lastPolledAt = now;
      const intervalMs = authorization.intervalSeconds * 1000;
      if (last !== undefined && now - last < intervalMs - Math.min(POLL_SLACK_MS, intervalMs / 2))
        throw errors.slowDown(authorization.intervalSeconds);
      throw errors.authorizationPending();
    }
    authorization.status = 'redeemed';
    context.stores.deviceCodes.changed(value);
    const { scopes, employee, sessionId } = authorization;
    return signInTokens(context, caller, { scopes, employee, sessionId, publicClient: caller.acr === '0' }, params);
  },
};
