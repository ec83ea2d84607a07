import type { Context } from '../context.js';
import { CliError, NAME } from '../errors.js';

export const help = `Usage: ${NAME} logout [--url URL]

Forgets the generator's cached tokens and refresh tokens, and ends the command line's own sessions
there (one for each target you allowed); your session in the browser stays.`;

export async function run(_invocation: unknown, ctx: Context): Promise<number> {
  const refreshTokens = await ctx.cache.forget(ctx.base);
  if (refreshTokens.length > 0) {
    const { revoke } = await import('../oauth.js');
    // The tokens are forgotten either way; what the generator did not hear must not be called ended.
    const unended = await revoke(ctx, refreshTokens).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    const reason = unended && (/[.?!]$/.test(unended) ? unended : `${unended}.`);
    if (reason)
      throw new CliError(
        `cached tokens forgotten, but the command line\u2019s sessions were not ended: ${reason} ` +
          'They end with the browser login that allowed them, or with their buttons on the generator\u2019s home page.',
      );
  }
  ctx.err.write('Logged out: cached tokens forgotten and the command line\u2019s sessions ended.\n');
  return 0;
}
