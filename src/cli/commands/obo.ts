import type { Invocation } from '../args.js';
import { audienceOf } from '../operands.js';
import type { Context } from '../context.js';
import { employeeToken } from '../employee-token.js';
import { NAME } from '../errors.js';

export const help = `Usage: ${NAME} obo <audience> [--device] [--url URL] [--no-cache] [--timeout SECONDS]

Prints a token for <audience> on your behalf. The first time, it opens your browser (or prints the URL)
to log in at the generator, which asks you whether to let the command line get tokens as you; after that
it renews tokens with its refresh token, without a browser, for as long as its own session lasts.
--device logs in without a browser on this machine (over SSH, in a container): it prints a short code to
enter on the generator's page on any device. Set BROWSER=none to only print the URL. --timeout is how long
to wait for the login (default 300).`;

export async function run({ rest }: Invocation, ctx: Context): Promise<number> {
  ctx.out.write(`${await employeeToken(ctx, audienceOf('obo', rest))}\n`);
  return 0;
}
