/** The operands commands share: the audience, and the variable a token is written to. */
import { CliError, NAME } from './errors.js';

/** The audience a command was given, or the line saying it needs one. */
export function audienceOf(command: string, rest: string[]): string {
  const audience = rest[0];
  if (!audience) throw new CliError(`${command} needs an audience, such as dev-gcp:my-team:my-app; see ${NAME} ${command} --help`, 2);
  return audience;
}

/** The variable a command writes the token to (--name). */
export function variableOf(command: string, name: string | undefined): string {
  if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new CliError(`${command} needs --name with a variable name, such as --name TOKEN`, 2);
  return name;
}
