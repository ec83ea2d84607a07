/**
 * Every environment variable the command line reads, in one place, with the project's one helper
 * (`readEnv`, src/env.ts): a mistake names the variable.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { httpUrl, optional, readEnv } from '../env.js';

const VARIABLES = {
  /** The generator, when --url is not given. */
  TOKEN_GENERATOR_URL: optional(httpUrl),
  /** The token cache file, when not the default. */
  TOKEN_GENERATOR_CACHE: optional(z.string()),
  XDG_CACHE_HOME: optional(z.string()),
  /** The command that opens the login page; `none` only prints its URL. */
  BROWSER: optional(z.string()),
};

export interface CliEnv {
  generatorUrl?: string;
  cacheFile: string;
  browser?: string;
}

export function readCliEnv(env: NodeJS.ProcessEnv): CliEnv {
  const vars = readEnv(env, VARIABLES);
  const cacheFile =
    vars.TOKEN_GENERATOR_CACHE ?? join(vars.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'entra-token-generator', 'tokens.json');
  return {
    cacheFile,
    ...(vars.TOKEN_GENERATOR_URL ? { generatorUrl: vars.TOKEN_GENERATOR_URL } : {}),
    ...(vars.BROWSER ? { browser: vars.BROWSER } : {}),
  };
}
