/** The device flow (RFC 8628): the employee approves on any device while this process polls, through openid-client. */
import * as client from 'openid-client';
import { PATHS } from '../../paths.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { asClient, asCliError, DEVICE_CLIENT_ID, reasonOf, type Tokens } from '../oauth.js';
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
  const polling = pollThrough(server, started, abort.signal).catch((err: unknown) => {
    if (abort.signal.aborted) return new Promise<never>(() => undefined);
    if (err instanceof client.ResponseBodyError && err.error === 'access_denied')
      throw new CliError('the login was denied on the page that asked');
    if (err instanceof client.ResponseBodyError && err.error === 'expired_token')
      throw new CliError('the code expired before anyone approved it: run the command again');
    throw asCliError(ctx, err, PATHS.token);
  });
  return withinTimeout(ctx, polling, abort);
}

/**
 * Polls until the employee answers, through a generator that cannot be reached or fails for a while (it restarts, its
 * store or the identity provider is away): the code stays good at the generator, which gives it once it has the answer,
 * so the employee's approval is not lost. openid-client waits out a 503 with Retry-After itself; this goes on after the rest.
 */
async function pollThrough(
  server: client.Configuration,
  started: client.DeviceAuthorizationResponse,
  signal: AbortSignal,
): Promise<Tokens> {
  for (;;) {
    try {
      return await client.pollDeviceAuthorizationGrant(server, started, undefined, { signal });
    } catch (err) {
      if (signal.aborted || !passing(err)) throw err;
    }
  }
}

/**
 * A failure of the generator's that polling again may get past: no answer at all, or a 5xx (RFC 6749's server_error,
 * temporarily_unavailable), unless it says the generator itself is set up wrong, which only its operators mend.
 */
function passing(err: unknown): boolean {
  if (err instanceof client.ResponseBodyError) return err.status >= 500 && reasonOf(err) !== 'generator_misconfigured';
  return err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError');
}
