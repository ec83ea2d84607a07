/** The device flow (RFC 8628): the employee approves on any device while this process polls, through openid-client. */
import * as client from 'openid-client';
import { PATHS } from '../../paths.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { asClient, asCliError, DEVICE_CLIENT_ID, type Tokens } from '../oauth.js';
import { withinTimeout } from './wait.js';

export async function logIn(ctx: Context, generator: client.Configuration, audience: string): Promise<Tokens> {
  const server = asClient(ctx, generator, DEVICE_CLIENT_ID);
  let started;
  try {
    started = await client.initiateDeviceAuthorization(server, { scope: audience });
  } catch (err) {
    throw asCliError(ctx, err, PATHS.deviceAuthorization);
  }
  ctx.err.write(`To log in, open ${started.verification_uri} on any device and enter the code ${started.user_code}\n`);
  if (started.verification_uri_complete) ctx.err.write(`or open: ${started.verification_uri_complete}\n`);
  const abort = new AbortController();
  const polling = client.pollDeviceAuthorizationGrant(server, started, undefined, { signal: abort.signal }).catch((err: unknown) => {
    if (abort.signal.aborted) return new Promise<never>(() => undefined);
    if (err instanceof client.ResponseBodyError && err.error === 'access_denied')
      throw new CliError('the login was denied on the page that asked');
    if (err instanceof client.ResponseBodyError && err.error === 'expired_token')
      throw new CliError('the code expired before anyone approved it: run the command again');
    throw asCliError(ctx, err, PATHS.token);
  });
  return withinTimeout(ctx, polling, abort);
}
