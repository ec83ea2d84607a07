/**
 * The login in a browser, as any native app logs in (RFC 8252): a loopback redirect, a state and a
 * PKCE verifier only this process knows, and the answer's `iss` checked by openid-client (RFC 9207).
 */
import { spawn } from 'node:child_process';
import * as client from 'openid-client';
import { PATHS } from '../../paths.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { asCliError, type Tokens } from '../oauth.js';
import { loopbackListener } from './loopback.js';
import { withinTimeout } from './wait.js';

function openBrowser(ctx: Context, url: string): void {
  const browser = ctx.browser;
  if (browser === 'none') return;
  const [command, args] = browser
    ? [browser, [url]]
    : process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The URL is printed anyway.
  }
}

export async function logIn(ctx: Context, server: client.Configuration, audience: string): Promise<Tokens> {
  const state = client.randomState();
  const verifier = client.randomPKCECodeVerifier();
  const listener = await loopbackListener(ctx.base, state);
  const loginUrl = client.buildAuthorizationUrl(server, {
    redirect_uri: listener.redirectUri,
    scope: audience,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  ctx.err.write(`Log in with your browser: ${loginUrl.href}\n`);
  openBrowser(ctx, loginUrl.href);
  let answer;
  try {
    answer = await withinTimeout(ctx, listener.arrived);
  } finally {
    listener.close();
  }
  if ('error' in answer) throw new CliError(answer.error);
  try {
    return await client.authorizationCodeGrant(server, answer.url, { pkceCodeVerifier: verifier, expectedState: state });
  } catch (err) {
    // openid-client checks the answer's issuer (RFC 9207) before it redeems the code: an answer from elsewhere is refused.
    if (err instanceof client.ClientError && err.code === 'OAUTH_INVALID_RESPONSE' && err.cause instanceof Error)
      throw new CliError(`the login's answer did not come from ${ctx.base} (${err.cause.message}): run the command again`);
    throw await asCliError(ctx, err, PATHS.token);
  }
}
