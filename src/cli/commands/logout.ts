import type { Context } from '../context.js';
import { CliError, NAME } from '../errors.js';

export const help = `Usage: ${NAME} logout [--url URL]

Forgets the generator's cached tokens and refresh tokens, and ends the command line's own sessions
there (one for each target you allowed); your session in the browser stays.`;

/** Ends the sessions of `refreshTokens` at the generator: why they were not, as a sentence, or undefined once ended. */
async function endSessions(ctx: Context, refreshTokens: string[]): Promise<string | undefined> {
  const { revoke } = await import('../oauth.js');
  const unended = await revoke(ctx, refreshTokens).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  return unended && (/[.?!]$/.test(unended) ? unended : `${unended}.`);
}

export async function run(_invocation: unknown, ctx: Context): Promise<number> {
  const { refreshTokens, kept, unreadable } = await ctx.cache.forget(ctx.base);
  if (unreadable)
    throw new CliError(
      `not logged out: ${ctx.cache.path} cannot be read (${unreadable}), so the command line’s sessions whose refresh ` +
        'tokens it holds could not be ended, and the file is left as it is. Written by another user (a command run with ' +
        `sudo), it is theirs: run logout as they did (sudo ${NAME} logout), or remove it (sudo rm ` +
        `${ctx.cache.path}); its sessions then end with the browser login that allowed them.`,
    );
  // Ended even when the file keeps them: a refresh token that cannot be forgotten can at least no longer renew.
  const unended = refreshTokens.length > 0 ? await endSessions(ctx, refreshTokens) : undefined;
  if (kept) {
    const sessions =
      refreshTokens.length === 0
        ? ''
        : unended
          ? ` Nor were the command line\u2019s sessions ended: ${unended}`
          : ' The command line\u2019s sessions were ended.';
    throw new CliError(
      `cached tokens not forgotten: ${ctx.cache.path} cannot be changed (${kept}), and the tokens it holds for ${ctx.base} ` +
        `stay in it until they expire.${sessions} Make its folder writable and run logout again, or remove the file.`,
    );
  }
  // What the generator did not hear must not be called ended.
  if (unended)
    throw new CliError(
      `cached tokens forgotten, but the command line\u2019s sessions were not ended: ${unended} ` +
        'They end with the browser login that allowed them, or with their buttons on the generator\u2019s home page.',
    );
  ctx.err.write('Logged out: cached tokens forgotten and the command line\u2019s sessions ended.\n');
  return 0;
}
