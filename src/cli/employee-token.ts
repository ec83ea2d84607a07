/**
 * Tokens on the employee's behalf: from the cache, else renewed with the command line's refresh token,
 * else after a login (in the browser, or by the device flow). OAuth's machinery is loaded only when a
 * token is not in the cache.
 */
import type { Context } from './context.js';
import { LoginRequired } from './errors.js';
import { cachedToken, storeToken } from './generator.js';

export async function employeeToken(ctx: Context, audience: string): Promise<string> {
  const key = `obo ${audience}`;
  const cached = await cachedToken(ctx, key);
  if (cached) return cached;
  const { authorizationServer, renew } = await import('./oauth.js');
  const server = await authorizationServer(ctx);
  const refreshToken = await ctx.cache.refreshToken(ctx.base);
  let tokens;
  if (refreshToken) {
    try {
      tokens = await renew(ctx, server, refreshToken, audience);
    } catch (err) {
      if (!(err instanceof LoginRequired)) throw err;
      // The command line's session ended at the generator, or was not consented for this target: log in again.
      await ctx.cache.storeRefreshToken(ctx.base, undefined);
    }
  }
  if (!tokens) {
    const login = ctx.device ? await import('./login/device.js') : await import('./login/browser.js');
    tokens = await login.logIn(ctx, server, audience);
  }
  if (tokens.refresh_token) await ctx.cache.storeRefreshToken(ctx.base, tokens.refresh_token);
  await storeToken(ctx, key, tokens);
  return tokens.access_token;
}
