/**
 * The command line's environment, read at every start without loading zod (some 60 ms of a cached
 * token's run, BENCHMARKS.md figure 8): values that certainly pass are taken here; anything else goes
 * through the zod shape in env.ts, which says what is wrong in the project's words.
 */
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
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

/**
 * The user's cache folder: XDG_CACHE_HOME when it is an absolute path (the XDG spec says to ignore a relative one), else
 * ~/.cache. A relative folder, or an empty HOME (Node's home then is ""), put the file of refresh tokens under the current
 * folder, a project's checkout, where it could be committed; the home then is the one the user database names.
 */
function cacheFolder(xdgCacheHome: string | undefined): string {
  if (xdgCacheHome && isAbsolute(xdgCacheHome)) return xdgCacheHome;
  const home = homedir();
  return join(isAbsolute(home) ? home : homeOfUser(home), '.cache');
}

/** The user database's home, or `fallback` for a user it does not have (a container's arbitrary uid). */
function homeOfUser(fallback: string): string {
  try {
    return userInfo().homedir;
  } catch {
    return fallback;
  }
}

export function cliEnvOf(vars: CliVariables): CliEnv {
  const cacheFile = vars.TOKEN_GENERATOR_CACHE ?? join(cacheFolder(vars.XDG_CACHE_HOME), 'entra-token-generator', 'tokens.json');
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
