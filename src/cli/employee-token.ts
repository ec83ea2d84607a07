/**
 * Tokens on the employee's behalf: from the cache, else renewed with the refresh token of the command
 * line's session for the target, else after a login (in the browser, or by the device flow), which starts
 * a session for that target beside the others. OAuth's machinery is loaded only when a token is not in the
 * cache.
 */
import type { Configuration } from 'openid-client';
import type { Context } from './context.js';
import { LoginRequired } from './errors.js';
import { cachedToken, storeToken, targetOf } from './generator.js';

export async function employeeToken(ctx: Context, audience: string): Promise<string> {
  const target = targetOf(audience);
  const key = `obo ${target}`;
  const cached = await cachedToken(ctx, key);
  if (cached) return cached;
  const { authorizationServer } = await import('./oauth.js');
  const server = await authorizationServer(ctx);
  const renewed = await ctx.cache.renewing(ctx.base, target, () => renewedToken(ctx, server, { audience, target, key }));
  if (renewed) return renewed;
  // No session for this target, or it ended, or it was not consented for it: log in again.
  const login = ctx.device ? await import('./login/device.js') : await import('./login/browser.js');
  const tokens = await login.logIn(ctx, server, audience);
  const replaced = tokens.refresh_token ? await ctx.cache.storeRefreshToken(ctx.base, target, tokens.refresh_token) : undefined;
  await storeToken(ctx, key, tokens);
  // Two commands that logged in at once for one target started two sessions; the one no longer kept is ended, or logout could not.
  if (replaced) {
    const { revoke } = await import('./oauth.js');
    await revoke(ctx, [replaced]).catch(() => undefined);
  }
  return tokens.access_token;
}

/**
 * A token renewed with the refresh token of the target's session (one another command just renewed, if it
 * did while this one waited its turn), or undefined when there is no session to renew.
 */
async function renewedToken(
  ctx: Context,
  server: Configuration,
  { audience, target, key }: { audience: string; target: string; key: string },
): Promise<string | undefined> {
  const meanwhile = await cachedToken(ctx, key);
  if (meanwhile) return meanwhile;
  const refreshToken = await ctx.cache.refreshToken(ctx.base, target);
  if (!refreshToken) return undefined;
  const { renew } = await import('./oauth.js');
  try {
    const tokens = await renew(ctx, server, refreshToken, audience);
    if (tokens.refresh_token) await ctx.cache.storeRefreshToken(ctx.base, target, tokens.refresh_token, refreshToken);
    await storeToken(ctx, key, tokens);
    return tokens.access_token;
  } catch (err) {
    if (!(err instanceof LoginRequired)) throw err;
    await ctx.cache.dropRefreshToken(ctx.base, target, refreshToken, err.ended);
    return undefined;
  }
}
