/**
 * The OpenAPI description of the generator's HTTP API, served at /openapi.json.
 * A test checks it against the routes the service really has.
 */

const audienceParameter = {
  name: 'aud',
  in: 'query',
  description: 'The app to get a token for: cluster:namespace:app, cluster.namespace.app or api://cluster.namespace.app/.default',
  schema: { type: 'string', maxLength: 253, example: 'dev-gcp:my-team:my-app' },
};

const tokenResponse = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string', description: 'A JWT for the target app' },
    token_type: { type: 'string', example: 'Bearer' },
    expires_in: { type: 'integer', description: 'Seconds left before the token expires' },
    scope: { type: 'string' },
  },
};

const problem = {
  type: 'object',
  required: ['error', 'error_description', 'correlation_id'],
  properties: {
    error: { type: 'string' },
    error_description: { type: 'string', description: 'What happened and what to do' },
    details: { type: 'string', description: 'Further advice, such as the access policy to add' },
    aadsts: { type: 'integer', description: 'The identity provider error code, when it refused' },
    upstream: { type: 'string' },
    correlation_id: { type: 'string' },
  },
};

const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      {
        description: ERROR_TEXT[code] ?? 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } }, 'text/plain': { schema: { type: 'string' } } },
      },
    ]),
  );

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed or missing audience, or an unreadable body',
  401: 'Not logged in (requests that are not a browser navigation)',
  403: 'The target has not authorized this generator, or the user is not allowed',
  404: 'The target does not exist in the tenant',
  405: 'Wrong method',
  413: 'Body too large',
  415: 'Unsupported content type',
  429: 'Rate limited',
  502: 'The identity provider is unreachable or answered something unreadable',
  503: 'The session store is unavailable',
  504: 'The identity provider did not answer in time',
};

const personToken = (summary: string) => ({
  get: {
    summary,
    parameters: [audienceParameter],
    responses: {
      '200': {
        description: 'The token response, as JSON or as an HTML page (Accept: text/html)',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } }, 'text/html': { schema: { type: 'string' } } },
      },
      '302': { description: 'A browser without a session is sent to log in' },
      ...errors(400, 401, 403, 404, 502, 503, 504),
    },
  },
});

const plain = (summary: string, description = 'OK') => ({ get: { summary, responses: { '200': { description } } } });

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Entra ID token generator',
    version: '1',
    description: 'Tokens from Microsoft Entra ID for development: on behalf of an employee, or as an application.',
  },
  paths: {
    '/api/public/m2m': {
      post: {
        summary: 'An app token (client credentials) for the audience',
        parameters: [{ ...audienceParameter, required: false }],
        requestBody: {
          required: false,
          content: {
            'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { aud: audienceParameter.schema } } },
            'multipart/form-data': { schema: { type: 'object', properties: { aud: audienceParameter.schema } } },
            'application/json': { schema: { type: 'object', properties: { aud: audienceParameter.schema } } },
          },
        },
        responses: {
          '200': {
            description: 'The bare access token, or the JSON token response when the client explicitly prefers application/json',
            content: { 'text/plain': { schema: { type: 'string' } }, 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } },
          },
          ...errors(400, 403, 404, 413, 415, 429, 502, 504),
        },
      },
      get: { summary: 'Not allowed: shows the right curl line', responses: errors(405) },
    },
    '/api/public/obo': {
      post: {
        summary: 'Against the Entra ID emulator only: a token on behalf of a test employee, through the same login and exchange a browser goes through',
        parameters: [{ ...audienceParameter, required: false }],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                required: ['NAVident'],
                properties: { aud: audienceParameter.schema, NAVident: { type: 'string', example: 'Z990001' }, name: { type: 'string' }, groups: { type: 'string', description: 'comma-separated group ids' } },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'The bare access token, or the JSON token response when the client explicitly prefers application/json',
            content: { 'text/plain': { schema: { type: 'string' } }, 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } },
          },
          ...errors(400, 403, 404, 429, 502, 504),
        },
      },
    },
    '/api/public/identity-provider': {
      get: {
        summary: 'The issuer and signing keys of the identity provider this generator gets tokens from',
        responses: {
          '200': {
            description: 'The issuer and its JWKS URI',
            content: { 'application/json': { schema: { type: 'object', properties: { issuer: { type: 'string' }, jwks_uri: { type: 'string' } } } } },
          },
        },
      },
    },
    '/api/obo': personToken('A token on behalf of the logged-in person'),
    '/api/m2m': personToken('An app token, for a logged-in person (older docs link this)'),
    '/oauth2/login': {
      get: {
        summary: 'Starts a login',
        parameters: [{ name: 'redirect', in: 'query', description: 'A relative path on this service to return to', schema: { type: 'string' } }],
        responses: { '302': { description: 'To the identity provider' }, ...errors(429) },
      },
    },
    '/oauth2/callback': {
      get: { summary: 'Where the identity provider sends the browser back', responses: { '302': { description: 'Back where the login started' }, ...errors(400, 403, 503) } },
    },
    '/oauth2/logout': { get: { summary: 'Ends the session here and at the identity provider', responses: { '302': { description: 'To the identity provider' } } } },
    '/oauth2/logged-out': plain('The page shown after logout'),
    '/oauth2/session': {
      get: {
        summary: 'Whether the caller is logged in, as whom, until when (never a token)',
        responses: {
          '200': {
            description: 'Session information',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    authenticated: { type: 'boolean' },
                    user: { type: 'object' },
                    ends_at: { type: 'string', format: 'date-time' },
                    login_url: { type: 'string' },
                  },
                },
              },
            },
          },
          ...errors(503),
        },
      },
    },
    '/oauth2/cli/login': {
      get: {
        summary: 'Login for the command-line client: sends the browser to a loopback redirect_uri with a one-time code',
        parameters: ['redirect_uri', 'state', 'code_challenge', 'code_challenge_method'].map((name) => ({ name, in: 'query', required: true, schema: { type: 'string' } })),
        responses: { '302': { description: 'To login, or to the loopback redirect_uri with code and state' }, ...errors(400, 503) },
      },
    },
    '/oauth2/cli/token': {
      post: {
        summary: 'Redeems a one-time code, with the PKCE verifier, for the session ticket',
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: { type: 'object', required: ['code', 'code_verifier', 'redirect_uri'], properties: { code: { type: 'string' }, code_verifier: { type: 'string' }, redirect_uri: { type: 'string' } } },
            },
          },
        },
        responses: {
          '200': { description: 'The session ticket', content: { 'application/json': { schema: { type: 'object', properties: { session: { type: 'string' }, expires_at: { type: 'string' } } } } } },
          ...errors(400, 503),
        },
      },
    },
    '/internal/isalive': plain('Liveness'),
    '/internal/isready': {
      get: {
        summary: 'Readiness: discovery and keys loaded, the session store reached at least once, not shutting down',
        responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready, and why (a store never reached names its variable)' } },
      },
    },
    '/internal/health': {
      get: {
        summary: 'Health detail: the identity provider keys, the session store (reachable, and why not), shutdown',
        responses: { '200': { description: 'Health detail', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/internal/metrics': plain('Prometheus metrics', 'Prometheus text format'),
    '/openapi.json': plain('This description'),
    '/static/app.css': plain('The pages\u2019 stylesheet'),
    '/static/app.js': plain('The pages\u2019 script'),
    '/static/favicon.svg': plain('The pages\u2019 icon', 'SVG'),
    '/favicon.ico': plain('The icon browsers ask for on their own', 'SVG'),
    '/': plain('The home page: an audience field, recent audiences, who is logged in', 'HTML'),
    '/api/public/audience': {
      get: {
        summary: 'Whether an audience is valid, as the generator reads it (the home page checks the field as one types)',
        parameters: [audienceParameter],
        responses: {
          '200': {
            description: '{"valid": true, "target", "scope"} or {"valid": false, "message"}',
            content: { 'application/json': { schema: { type: 'object', properties: { valid: { type: 'boolean' }, target: { type: 'string' }, scope: { type: 'string' }, message: { type: 'string' } }, required: ['valid'] } } },
          },
        },
      },
    },
  } as Record<string, Record<string, unknown>>,
  components: { schemas: { TokenResponse: tokenResponse, Problem: problem } },
};
