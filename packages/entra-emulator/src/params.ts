/** Request parameters as Entra reads them: each sent at most once, as a string. */
import { errors } from './errors.js';

export type Params = Record<string, string | undefined>;

/**
 * The string parameters of a parsed query or form body. A parameter sent twice is ambiguous and
 * refused (AADSTS90100); anything that is not a plain object yields no parameters.
 */
export function singleValued(source: unknown): Params {
  const params: Params = {};
  if (!source || typeof source !== 'object') return params;
  for (const [key, value] of Object.entries(source as Record<string, unknown>)) {
    if (Array.isArray(value)) throw errors.duplicateParameter(key);
    if (typeof value === 'string') params[key] = value;
  }
  return params;
}

/** The parameters of a form-encoded body (Entra's API endpoints take no other), or AADSTS900144. */
export function formParams(body: unknown, contentType: string | undefined): Params {
  if (body !== undefined && !/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) throw errors.unsupportedContentType();
  return singleValued(body);
}
