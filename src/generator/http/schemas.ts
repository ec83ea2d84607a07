/**
 * The schemas of the generator's routes (zod, through fastify-type-provider-zod): they type what a
 * handler reads and are the source of /openapi.json (@fastify/swagger). A request field whose
 * faults the route explains in its own words (an audience, a redirect URI) is a plain string here,
 * or a list when a client repeats it; its rules stay in the route, which says what is wrong.
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { FastifyValidationResult } from 'fastify/types/schema.js';
import { z } from 'zod';
import { AUDIENCE_EXAMPLE } from '../../audience.js';

/** A query or form field as parsers give it: once a string, repeated a list. */
export const Field = z.union([z.string(), z.array(z.string())]);

export const Audience = Field.meta({
  description:
    'The app to get a token for: cluster:namespace:app, cluster.namespace.app or api://cluster.namespace.app/.default; ' +
    'upper-case letters are read as lower case, as NAIS names are',
  examples: [AUDIENCE_EXAMPLE],
});

/**
 * Schemas that describe a request part for /openapi.json but cannot refuse anything Fastify's
 * parsers produce: the validator does not run them (see `skipDocumentationOnly`).
 */
const DOCUMENTATION_ONLY = new WeakSet<object>();

function documentationOnly<T extends z.ZodType>(schema: T): T {
  DOCUMENTATION_ONLY.add(schema);
  return schema;
}

/**
 * Fastify's validator compiler, which leaves out the schemas that only document: a route that reads
 * a part by its own rules does no work validating it on every request (a cached token, BENCHMARKS.md).
 */
export function skipDocumentationOnly(compiler: FastifySchemaCompiler<z.ZodType>): FastifySchemaCompiler<z.ZodType> {
  return (route) => (DOCUMENTATION_ONLY.has(route.schema) ? (undefined as unknown as FastifyValidationResult) : compiler(route));
}

/**
 * Where the audience may be given in a query: `aud`, optional when the body carries it. A query
 * parser gives every field as a string, or a list of them, so this schema refuses nothing.
 */
export const AudienceQuery = documentationOnly(z.object({ aud: Audience.optional() }));

/**
 * A body whose audience the route reads by its own rules (the m2m route's: query and body must
 * agree, a plain-text body is refused with its reason): any body parses, as a form, a multipart
 * form or JSON, and the rules say what is wrong with it. Documented as the object it should be.
 */
export function documentedBody<T extends z.ZodRawShape>(shape: T) {
  const documented = z.toJSONSchema(z.object(shape), { io: 'input', unrepresentable: 'any' });
  const required = documented.required ? { required: documented.required } : {};
  return documentationOnly(z.unknown().meta({ type: 'object', properties: documented.properties, ...required }));
}

export const AUDIENCE_BODY_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'];

export const TokenResponse = z
  .object({
    access_token: z.string().meta({ description: 'A JWT for the target app' }),
    token_type: z.string().meta({ examples: ['Bearer'] }),
    expires_in: z.number().int().meta({ description: 'Seconds left before the token expires' }),
    scope: z.string().optional(),
  })
  .meta({ id: 'TokenResponse' });

export const ProblemBody = z
  .object({
    error: z.string(),
    error_description: z.string().meta({ description: 'What happened and what to do' }),
    details: z.string().optional().meta({ description: 'Further advice, such as the access policy to add' }),
    aadsts: z.number().int().optional().meta({ description: 'The identity provider error code, when it refused' }),
    error_codes: z.array(z.number().int()).optional(),
    upstream: z.string().optional(),
    retry: z.boolean().meta({ description: 'Whether the same request may succeed later (after Retry-After, when given)' }),
    advice: z.string().meta({ description: 'What to do about this kind of error, in general; error_description says it for this case' }),
    correlation_id: z.string(),
  })
  .meta({ id: 'Problem' });

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed or missing input, or an unreadable body',
  401: 'Not logged in (requests that are not a browser navigation)',
  403: 'The target has not authorized this generator, or the employee is not allowed',
  404: 'Not found, or the target does not exist in the tenant',
  405: 'Wrong method',
  413: 'Body too large',
  415: 'Unsupported content type',
  429: 'Rate limited',
  502: 'The identity provider is unreachable or answered something unreadable',
  503: 'The session store is unavailable',
  504: 'The identity provider did not answer in time',
};

const text = z.string();
const html = z.string().meta({ description: 'An HTML page' });

/** The answers of a route's failures, in the formats the error handler renders them in. */
export function errors(...codes: number[]) {
  return Object.fromEntries(
    codes.map((code) => [
      code,
      {
        description: ERROR_TEXT[code] ?? 'Error',
        content: { 'text/plain': { schema: text }, 'application/json': { schema: ProblemBody }, 'text/html': { schema: html } },
      },
    ]),
  );
}

/** A token: bare, or as the JSON token response for a client that prefers JSON. */
export const TOKEN_ANSWER = {
  description: 'The bare access token, or the JSON token response when the client explicitly prefers application/json',
  content: { 'text/plain': { schema: text }, 'application/json': { schema: TokenResponse } },
};

/** A token for an employee: the JSON token response, or a page with it (Accept: text/html). */
export const TOKEN_PAGE = {
  description: 'The token response, as JSON or as an HTML page (Accept: text/html)',
  content: { 'application/json': { schema: TokenResponse }, 'text/html': { schema: html } },
};

/** A redirect, whose body is empty. */
export const redirect = (description: string) => z.undefined().describe(description);
export const plain = (description: string) => ({ description, content: { 'text/plain': { schema: text } } });
export const htmlPage = (description: string) => ({ description, content: { 'text/html': { schema: html } } });

/**
 * A route's answers, for /openapi.json. Typed as unknown on purpose: the handlers and the error
 * handler write the bodies themselves (with the serializer that writes JSON as it is), so the
 * answers document what goes out without narrowing what a handler may return.
 */
export function answers(...parts: Record<string | number, unknown>[]): unknown {
  return Object.assign({}, ...parts);
}
