/**
 * Reading environment variables, for every program of the project (the generator, the emulator,
 * the command line): each program's variables are one zod shape read by `readEnv`, and a mistake
 * is a ConfigError that names the variable, says what it must be and shows what it was:
 * `PORT must be a whole number from 0 to 65535, not "abc"`.
 */
import { z } from 'zod';
import { quoteInput } from './audience.js';
import { isHttpUrl, withoutTrailingSlash } from './http-url.js';
import { ConfigError } from './config-error.js';

export { ConfigError };

const blankIsUnset = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** A variable that may be unset; unset and blank are the same. */
export const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankIsUnset, schema.optional());

/** A variable that may be unset, taken as it is written. */
export const text = optional(z.string());

/** A variable with a default for unset or blank. */
export const withDefault = <T extends z.ZodType>(schema: T, fallback: z.output<T>) =>
  z.preprocess(blankIsUnset, schema.optional()).transform((value): z.output<T> => value ?? fallback);

const range = (min: number, max: number | undefined) => (max === undefined ? `of at least ${min}` : `from ${min} to ${max}`);

/** A whole number from `min` to `max` (no upper bound when `max` is left out). */
export function wholeNumber(min: number, max?: number) {
  const message = `must be a whole number ${range(min, max)}`;
  return z
    .string()
    .regex(/^\d+$/, message)
    .transform(Number)
    .refine((value) => value >= min && (max === undefined || value <= max), message);
}

/** A number, fractions allowed, from `min` to `max`. */
export function decimal(min: number, max?: number) {
  const message = `must be a number ${range(min, max)}`;
  return z
    .string()
    .regex(/^\d+(\.\d+)?$/, message)
    .transform(Number)
    .refine((value) => value >= min && (max === undefined || value <= max), message);
}

export const port = wholeNumber(0, 65535);

/** An http(s) URL, without trailing slashes. */
export const httpUrl = z.string().refine(isHttpUrl, 'must be an http(s) URL').transform(withoutTrailingSlash);

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

export const LOG_LEVEL = withDefault(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info');

/**
 * Reads the variables of `shape` from `env`. The first variable that does not fit throws a
 * ConfigError naming it; the value is shown unless the variable is one of `secrets`.
 */
export function readEnv<S extends z.ZodRawShape>(
  env: NodeJS.ProcessEnv,
  shape: S,
  secrets: readonly string[] = [],
): z.output<z.ZodObject<S>> {
  const parsed = z.object(shape).safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const variable = String(issue.path[0]);
  const value = env[variable]?.trim();
  const shown =
    value === undefined || value === '' ? ', but it is not set' : secrets.includes(variable) ? '' : `, not ${quoteInput(value)}`;
  throw new ConfigError(variable, `${issue.message}${shown}`);
}

/** What to print for a fault found while reading the configuration: the sentence of a ConfigError, else the message. */
export function faultSentence(err: unknown): string {
  if (err instanceof ConfigError) return err.sentence;
  return err instanceof Error ? err.message : String(err);
}
