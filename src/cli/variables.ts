/**
 * The command line's environment, read at every start without loading zod (some 60 ms of a cached
 * token's run, BENCHMARKS.md figure 8): values that certainly pass are taken here; anything else goes
 * through the zod shape in env.ts, which says what is wrong in the project's words.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isHttpUrl, withoutTrailingSlash } from '../http-url.js';

export interface CliEnv {
  generatorUrl?: string;
  cacheFile: string;
  browser?: string;
}

export interface CliVariables {
  TOKEN_GENERATOR_URL?: string | undefined;
  TOKEN_GENERATOR_CACHE?: string | undefined;
  XDG_CACHE_HOME?: string | undefined;
  BROWSER?: string | undefined;
}

export function cliEnvOf(vars: CliVariables): CliEnv {
  const cacheFile =
    vars.TOKEN_GENERATOR_CACHE ?? join(vars.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'entra-token-generator', 'tokens.json');
  return {
    cacheFile,
    ...(vars.TOKEN_GENERATOR_URL ? { generatorUrl: vars.TOKEN_GENERATOR_URL } : {}),
    ...(vars.BROWSER ? { browser: vars.BROWSER } : {}),
  };
}

/** The variables when each is unset or plainly right; undefined when one needs env.ts to say what is wrong with it. */
export function plainCliEnv(env: NodeJS.ProcessEnv): CliEnv | undefined {
  const value = (name: keyof CliVariables) => env[name]?.trim() || undefined;
  const url = value('TOKEN_GENERATOR_URL');
  if (url !== undefined && !isHttpUrl(url)) return undefined;
  return cliEnvOf({
    TOKEN_GENERATOR_URL: url === undefined ? undefined : withoutTrailingSlash(url),
    TOKEN_GENERATOR_CACHE: value('TOKEN_GENERATOR_CACHE'),
    XDG_CACHE_HOME: value('XDG_CACHE_HOME'),
    BROWSER: value('BROWSER'),
  });
}
