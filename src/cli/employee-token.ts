/**
 * Tokens on the employee's behalf: from the cache, else renewed with the refresh token of the command
 * line's session for the target, else after a login (in the browser, or by the device flow), which starts
 * a session for that target beside the others. OAuth's machinery is loaded only when a token is not in the
 * cache.
 */
import { parseAudience } from '../audience.js';
import type { Context } from './context.js';
import { LoginRequired } from './errors.js';
import { cachedToken, storeToken } from './generator.js';

export async function employeeToken(ctx: Context, audience: string): Promise<string> {
  const key = `obo ${audience}`;
  const cached = await cachedToken(ctx, key);
  if (cached) return cached;
  const { authorizationServer, renew } = await import('./oauth.js');
  const server = await authorizationServer(ctx);
  const target = targetOf(audience);
  const refreshToken = await ctx.cache.refreshToken(ctx.base, target);
  let tokens;
  if (refreshToken) {
    try {
      tokens = await renew(ctx, server, refreshToken, audience);
    } catch (err) {
      if (!(err instanceof LoginRequired)) throw err;
      // The command line's session ended at the generator, or was not consented for this target: log in again.
      await ctx.cache.dropRefreshToken(ctx.base, target, refreshToken, err.ended);
    }
  }
  if (!tokens) {
    const login = ctx.device ? await import('./login/device.js') : await import('./login/browser.js');
    tokens = await login.logIn(ctx, server, audience);
  }
  if (tokens.refresh_token) await ctx.cache.storeRefreshToken(ctx.base, target, tokens.refresh_token, refreshToken);
  await storeToken(ctx, key, tokens);
  return tokens.access_token;
}

/** The target an audience names, however it is written (the generator refuses one it cannot read, with its advice). */
function targetOf(audience: string): string {
  const parsed = parseAudience(audience);
  return parsed.ok ? parsed.value.target : audience;
}
