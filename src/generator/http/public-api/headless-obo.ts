/**
 * Employee tokens for scripts and CI, when the identity provider is the emulator:
 * `POST /api/public/obo` with `aud` and `NAVident` logs that test employee in on the emulator's login
 * page and completes the login with the core's steps (`core/login.ts`), as a browser login does, then
 * gets the token on-behalf-of through `core/tokens.ts`, with the limits and advice of every other
 * surface, so that every check and access policy of the emulator applies. The session lives for that
 * one token, in this request's memory: the store never sees it. Against real Entra ID no service can
 * log an employee in without them, so there it answers 404 and says why.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdpError, type IdentityProvider } from '../../idp/identity-provider.js';
import { PATHS } from '../../../paths.js';
import type { GeneratorContext } from '../context.js';
import { refuse } from '../../core/problem.js';
import { ask } from '../../core/provider.js';
import { loginRefusal, type Logins } from '../../core/login.js';
import { answersIn, formatOf } from '../negotiate.js';
import { responseBody } from '../../core/tokens.js';
import { answers, Audience, AUDIENCE_BODY_TYPES, documentedBody, errors, Field, TOKEN_ANSWER } from '../schemas.js';
import { audienceFrom } from './m2m.js';

const NAV_IDENT = /^[A-Za-z][0-9]{6}$/;

const EMPLOYEE_FIELDS = {
  aud: Audience.optional(),
  NAVident: Field.optional().meta({ description: 'The test employee: a letter and six digits', examples: ['Z990001'] }),
  name: Field.optional(),
  groups: Field.optional().meta({ description: 'Comma-separated group ids' }),
};
const EmployeeQuery = z.object(EMPLOYEE_FIELDS);
/** The fields of a body of any kind: a form's, a multipart form's or a JSON object's. */
const BodyFields = z.record(z.string(), z.unknown());

const SCHEMA = {
  summary:
    'Against the Entra ID emulator only: a token on behalf of a test employee, through the same login and exchange a browser goes through',
  querystring: EmployeeQuery,
  body: documentedBody(EMPLOYEE_FIELDS),
  consumes: AUDIENCE_BODY_TYPES,
  response: answers({ 200: TOKEN_ANSWER }, errors(400, 403, 404, 415, 429, 502, 504)),
};

/** A field from the body, else from the query, when it is given once. */
function field(query: z.infer<typeof EmployeeQuery>, body: unknown, name: 'NAVident' | 'name' | 'groups'): string | undefined {
  const fields = BodyFields.safeParse(body);
  const value = (fields.success ? fields.data[name] : undefined) ?? query[name];
  return typeof value === 'string' ? value : undefined;
}

const NOT_AVAILABLE =
  'Employee tokens without a browser exist only against the Entra ID emulator: real Entra ID logs an employee in only with that ' +
  'employee at the keyboard. ' +
  `Open ${PATHS.obo}?aud=<cluster>:<namespace>:<app> in a browser instead.`;

interface TestEmployee {
  navIdent: string;
  name: string;
  groups: string;
}

/** The test employee the request names, or a 400. */
function testEmployee(query: z.infer<typeof EmployeeQuery>, body: unknown): TestEmployee {
  const navIdent = field(query, body, 'NAVident');
  if (!navIdent || !NAV_IDENT.test(navIdent)) {
    throw refuse('invalid_navident', 'Send the test employee as NAVident: a letter and six digits, for example Z990001.');
  }
  const name = field(query, body, 'name') ?? navIdent;
  const groups = field(query, body, 'groups') ?? '';
  if (name.length > 200 || groups.length > 4000) throw refuse('invalid_request', 'name or groups is too long.');
  return { navIdent, name, groups };
}

/** What the emulator's sign-in form is sent: the test employee, and the address of the tenant the generator logs in to. */
export interface SignInForm {
  navIdent: string;
  name: string;
  email: string;
  groups: string;
}

/**
 * Signs a test employee in on the emulator's login page at `authorize`, as a browser would, and returns the page's answer
 * (a redirect back to the generator). Given by the wiring, which alone knows the emulator; throws IdpError when the page
 * is not the emulator's sign-in.
 */
export type TestSignIn = (authorize: string, form: SignInForm, signal: AbortSignal) => Promise<Response>;

export interface HeadlessDeps {
  ctx: GeneratorContext;
  logins: Logins;
  /** With the emulator only: there is no signing an employee in without them anywhere else. */
  signIn: TestSignIn | undefined;
}

export async function headlessOboRoutes(fastify: FastifyInstance, deps: HeadlessDeps): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { ctx, logins } = deps;

  /** The browser's way: the login page at the authorize URL, its form; returns the URL the emulator sends the browser back to. */
  const signIn = async (testSignIn: TestSignIn, employee: TestEmployee, authorize: string): Promise<URL> => {
    // A user of the tenant the generator logs in to, as a browser's employee signs in with; the emulator refuses another's (AADSTS50020).
    const email = `${employee.navIdent.toLowerCase()}@${ctx.config.loginDomain}`;
    let signedIn: Response;
    try {
      const form = { navIdent: employee.navIdent, name: employee.name, email, groups: employee.groups };
      signedIn = await testSignIn(authorize, form, AbortSignal.timeout(ctx.config.idp.timeoutMs));
    } catch (err) {
      if (err instanceof IdpError) throw err;
      throw new IdpError({ kind: 'unreachable', detail: err instanceof Error ? err.message : 'fetch failed' });
    }
    return callbackOf(signedIn, authorize, ctx.provider, ctx.config.loginDomain);
  };

  app.post(
    PATHS.publicObo,
    { schema: SCHEMA, onRequest: ctx.limitPublic, config: answersIn(['text', 'json'], 'text') },
    async (request, reply) => {
      const testSignIn = deps.signIn;
      if (!testSignIn) throw refuse('not_available', NOT_AVAILABLE);
      const audience = audienceFrom(request);
      const employee = testEmployee(request.query, request.body);
      const started = await logins.start({ returnTo: '/', prompt: 'login' });
      const callback = await ask(ctx.provider, 'login', audience, () => signIn(testSignIn, employee, started.url));
      const session = await logins.completeOnce(callback, started.login, { target: audience, surface: 'headless' });
      const token = await ctx.tokens.employeeToken(session, audience, { address: request.ip });
      const body = responseBody(token);
      reply.header('cache-control', 'no-store');
      if (formatOf(request) === 'json') return reply.type('application/json; charset=utf-8').send(body);
      return reply.type('text/plain; charset=utf-8').send(body.access_token);
    },
  );
}

/**
 * Where the emulator's sign-in sends the browser back, resolved as a browser would against the page
 * that answered; a refusal said there is read by the core's one rule for a login's refusals.
 */
export function callbackOf(signedIn: Response, authorize: string, provider: IdentityProvider, loginDomain: string): URL {
  const location = signedIn.headers.get('location');
  const base = signedIn.url || authorize;
  if (signedIn.status !== 302 || !location || !URL.canParse(location, base)) {
    const why = signedIn.status !== 302 ? '' : location ? ' with a Location that is no URL' : ' without a Location';
    const detail = `the login page answered HTTP ${signedIn.status}${why}`;
    throw new IdpError({ kind: 'bad-response', detail, status: signedIn.status });
  }
  const callback = new URL(location, base);
  const { searchParams } = callback;
  const refusal = loginRefusal(provider, searchParams.get('error'), searchParams.get('error_description'), {
    loginDomain,
    surface: 'headless',
  });
  if (refusal) throw refusal;
  return callback;
}
