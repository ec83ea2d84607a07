/** What every command works with: the generator to ask, the cache, the login's settings and the streams. */
import { isHttpUrl, withoutTrailingSlash } from '../http-url.js';
import type { Options } from './args.js';
import { TokenCacheFile } from './cache.js';
import { plainCliEnv, type CliEnv } from './variables.js';
import { CliError, NAME } from './errors.js';

/** Where the generator is when neither --url nor TOKEN_GENERATOR_URL says: `npm start`'s address. */
export const DEFAULT_URL = 'http://localhost:8080';

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export interface Context extends Io {
  base: string;
  cache: TokenCacheFile;
  useCache: boolean;
  /** Log in by the device flow instead of a browser on this machine. */
  device: boolean;
  timeoutMs: number;
  /** BROWSER: the command that opens the login page; `none` only prints its URL. */
  browser?: string;
}

/** The variables, or the line saying which is wrong (from the zod shape, loaded only then). */
async function variablesOf(env: NodeJS.ProcessEnv): Promise<CliEnv> {
  const plain = plainCliEnv(env);
  if (plain) return plain;
  const [{ readCliEnv }, { ConfigError }] = await Promise.all([import('./env.js'), import('../env.js')]);
  try {
    return readCliEnv(env);
  } catch (err) {
    throw err instanceof ConfigError ? new CliError(err.sentence, 2) : err;
  }
}

export async function contextOf(values: Options, io: Io): Promise<Context> {
  const variables = await variablesOf(io.env);
  const base = withoutTrailingSlash(values.url ?? variables.generatorUrl ?? DEFAULT_URL);
  if (!isHttpUrl(base)) throw new CliError(`--url must be an http(s) URL, not ${JSON.stringify(base)}`, 2);
  // The generator's paths are appended to it: after a query or fragment (a page's address, copied) they went to its home page.
  if (/[?#]/.test(base))
    throw new CliError(
      `--url and TOKEN_GENERATOR_URL take the generator's root URL, such as ${new URL(base).origin}, ` +
        `without a query or fragment: not ${base}`,
      2,
    );
  const timeoutSeconds = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CliError('--timeout must be a number of seconds', 2);
  return {
    base,
    cache: new TokenCacheFile(variables.cacheFile, (line) => io.err.write(`${NAME}: ${line}\n`)),
    ...(variables.browser ? { browser: variables.browser } : {}),
    useCache: !values['no-cache'],
    device: values.device ?? false,
    timeoutMs: timeoutSeconds * 1000,
    ...io,
  };
}

/** --no-cache skips the generator's cache too. */
export const freshness = (ctx: Context): Record<string, string> => (ctx.useCache ? {} : { 'cache-control': 'no-cache' });
