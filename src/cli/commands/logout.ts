import type { Context } from '../context.js';
import { NAME } from '../errors.js';

export const help = `Usage: ${NAME} logout [--url URL]

Forgets the generator's cached tokens and refresh tokens, and ends the command line's own sessions
there (one for each target you allowed); your session in the browser stays.`;

export async function run(_invocation: unknown, ctx: Context): Promise<number> {
  const refreshTokens = await ctx.cache.forget(ctx.base);
  if (refreshTokens.length > 0) {
    const { revoke } = await import('../oauth.js');
    // The tokens are forgotten either way; a generator that cannot be asked ends the sessions when they expire.
    await revoke(ctx, refreshTokens).catch(() => undefined);
  }
  ctx.err.write('Logged out: cached tokens forgotten and the command line\u2019s sessions ended.\n');
  return 0;
}
