import type { Context } from '../context.js';
import { NAME } from '../errors.js';

export const help = `Usage: ${NAME} logout [--url URL]

Forgets every cached token and the refresh token, and ends the command line's own session at the
generator; your session in the browser stays.`;

export async function run(_invocation: unknown, ctx: Context): Promise<number> {
  const refreshToken = await ctx.cache.refreshToken(ctx.base);
  await ctx.cache.forget();
  if (refreshToken) {
    const { revoke } = await import('../oauth.js');
    // The cache is gone either way; a generator that cannot be asked ends the session when it expires.
    await revoke(ctx, refreshToken).catch(() => undefined);
  }
  ctx.err.write('Logged out: cached tokens forgotten and the command line\u2019s session ended.\n');
  return 0;
}
