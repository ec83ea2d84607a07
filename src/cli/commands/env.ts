import type { Invocation } from '../args.js';
import { tokenFor } from '../app-token.js';
import { audienceOf, variableOf } from '../operands.js';
import type { Context } from '../context.js';
import { updateEnvFile } from '../dotenv.js';
import { NAME } from '../errors.js';

export const help = `Usage: ${NAME} env <audience> --name VAR [--file .env] [--obo [--device] [--timeout SECONDS]] [--url URL] [--no-cache]

Writes VAR=<token> into the file (default .env), replacing the line that sets VAR or adding one,
and keeping every other line as it was. --obo gets a token on your behalf instead of an app token;
--device and --timeout then work as for obo (see ${NAME} obo --help).`;

export async function run({ rest, values }: Invocation, ctx: Context): Promise<number> {
  const audience = audienceOf('env', rest);
  const name = variableOf('env', values.name);
  const file = values.file ?? '.env';
  await updateEnvFile(file, name, await tokenFor(ctx, audience, values.obo ?? false));
  ctx.err.write(`${name} set in ${file}\n`);
  return 0;
}
