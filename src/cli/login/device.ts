/** The device flow (RFC 8628): the employee approves on any device while this process polls, through openid-client. */
import * as client from 'openid-client';
import { PATHS } from '../../paths.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { asClient, asCliError, DEVICE_CLIENT_ID, unanswered, worthAskingAgain, type Tokens } from '../oauth.js';
import { withinTimeout } from './wait.js';

export async function logIn(ctx: Context, generator: client.Configuration, audience: string): Promise<Tokens> {
  const server = asClient(ctx, generator, DEVICE_CLIENT_ID);
  let started;
  try {
    started = await client.initiateDeviceAuthorization(server, { scope: audience });
  } catch (err) {
    throw await asCliError(ctx, err, PATHS.deviceAuthorization);
  }
  ctx.err.write(`To log in, open ${started.verification_uri} on any device and enter the code ${started.user_code}\n`);
  if (started.verification_uri_complete) ctx.err.write(`or open: ${started.verification_uri_complete}\n`);
  const abort = new AbortController();
  const polling = pollThrough(ctx, server, started, abort.signal).catch(async (err: unknown) => {
    if (abort.signal.aborted) return new Promise<never>(() => undefined);
    if (err instanceof client.ResponseBodyError && err.error === 'access_denied')
      throw new CliError('the login was denied on the page that asked');
    if (err instanceof client.ResponseBodyError && err.error === 'expired_token')
      throw new CliError('the code expired before anyone approved it: run the command again');
    throw await asCliError(ctx, err, PATHS.token);
  });
  return withinTimeout(ctx, polling, abort);
}

/**
 * Polls until the employee answers, through a generator that cannot be reached or fails for a while (it restarts, its
 * store or the identity provider is away): the code stays good at the generator, which gives it once it has the answer,
 * so the employee's approval is not lost. openid-client waits out a 503 with Retry-After itself, and waits an interval
 * before each poll, also the first of a new round; this starts a new round after the other failures worth it, and says
 * once why it goes on.
 */
async function pollThrough(
  ctx: Context,
  server: client.Configuration,
  started: client.DeviceAuthorizationResponse,
  signal: AbortSignal,
): Promise<Tokens> {
  let said = false;
  for (;;) {
    try {
      return await client.pollDeviceAuthorizationGrant(server, started, undefined, { signal });
    } catch (err) {
      if (signal.aborted || !(await worthAskingAgain(err))) throw err;
      if (!said) ctx.err.write(`${await whyPollingAgain(ctx, err)}: polling again\n`);
      said = true;
    }
  }
}

/** The generator's own words for a failure it answered; for no answer, that the generator did not answer (it may be restarting). */
async function whyPollingAgain(ctx: Context, err: unknown): Promise<string> {
  if (unanswered(err)) return `the generator at ${ctx.base} did not answer`;
  return (await asCliError(ctx, err, PATHS.token)).message;
}
