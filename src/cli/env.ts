/**
 * Every environment variable the command line reads, in one place, with the project's one helper
 * (`readEnv`, src/env.ts): a mistake names the variable. variables.ts takes plainly right values
 * without it, for speed.
 */
import { z } from 'zod';
import { httpUrl, optional, readEnv } from '../env.js';
import { cliEnvOf, type CliEnv } from './variables.js';

export const VARIABLES = {
  /** The generator, when --url is not given. */
  TOKEN_GENERATOR_URL: optional(httpUrl),
  /** The token cache file, when not the default. */
  TOKEN_GENERATOR_CACHE: optional(z.string()),
  XDG_CACHE_HOME: optional(z.string()),
  /** The command that opens the login page; `none` only prints its URL. */
  BROWSER: optional(z.string()),
};

export function readCliEnv(env: NodeJS.ProcessEnv): CliEnv {
  return cliEnvOf(readEnv(env, VARIABLES));
}
