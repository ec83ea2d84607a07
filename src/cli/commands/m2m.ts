import type { Invocation } from '../args.js';
import { appToken } from '../app-token.js';
import { audienceOf } from '../operands.js';
import type { Context } from '../context.js';
import { NAME } from '../errors.js';

export const help = `Usage: ${NAME} m2m <audience> [--url URL] [--no-cache]

Prints an app token for <audience> and a newline, and nothing else:
  TOKEN=$(${NAME} m2m dev-gcp:my-team:my-app)`;

export async function run({ rest }: Invocation, ctx: Context): Promise<number> {
  ctx.out.write(`${await appToken(ctx, audienceOf('m2m', rest))}\n`);
  return 0;
}
