/**
 * The schemas of the authorization server's routes, for /openapi.json. As elsewhere, a parameter
 * whose faults the route explains in its own words (RFC 6749's error codes, a redirect URI that is not
 * a loopback one) is a plain field here; the rules stay in the route, which says what is wrong.
 */
import { z } from 'zod';
import { answers, documentedBody, errors, Field, htmlPage, redirect, TokenResponse } from '../schemas.js';

const FORM = ['application/x-www-form-urlencoded'];
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

const OAuthErrorBody = z
  .object({
    error: z.string().meta({ description: 'An error code of RFC 6749 §5.2 or RFC 8628 §3.5, or rate_limited' }),
    error_description: z.string().meta({ description: 'What happened and what to do, on one line' }),
    reason: z.string().optional().meta({ description: "The generator's own name for the refusal, when it differs from error" }),
    error_codes: z.array(z.number().int()).optional(),
    message: z.string().optional().meta({ description: 'error_description without the lines of details, when there are such lines' }),
    details: z.string().optional().meta({ description: 'Further advice on several lines, such as the access policy to add' }),
    correlation_id: z.string(),
  })
  .meta({ id: 'OAuthError' });

/** Refusals of the endpoints tools call, as RFC 6749 bodies. */
function oauthErrors(...codes: number[]) {
  return Object.fromEntries(codes.map((code) => [code, { description: `Refused (HTTP ${code})`, content: json(OAuthErrorBody) }]));
}

const ToolTokenResponse = TokenResponse.extend({ refresh_token: z.string().optional() }).meta({ id: 'ToolTokenResponse' });

const field = (description: string) => Field.optional().meta({ description });

export const METADATA_SCHEMA = {
  summary: 'The authorization server metadata (RFC 8414) tools configure themselves from',
  response: answers({ 200: { description: 'The metadata document', content: json(z.record(z.string(), z.unknown())) } }),
};

export const AUTHORIZE_SCHEMA = {
  summary: 'A tool on this computer asks for the employee’s consent (authorization code with PKCE, RFC 8252 loopback redirect)',
  querystring: z.object({
    response_type: field('code'),
    response_mode: field('query, if sent: the code comes back in the redirect URI’s query'),
    client_id: field('Any name for the tool, shown to the employee'),
    redirect_uri: field('http://127.0.0.1:<port>/… or http://[::1]:<port>/…'),
    scope: field('The one target, for example dev-gcp:my-team:my-app'),
    state: field('Handed back to the tool'),
    code_challenge: field('PKCE challenge (S256)'),
    code_challenge_method: field('S256'),
  }),
  response: answers(
    {
      200: htmlPage('The page that asks the employee'),
      302: redirect('A browser without a session is sent to log in'),
      303: redirect('A refusal sent to the tool’s loopback redirect'),
    },
    errors(400, 401, 503),
  ),
};

const DECISION = { csrf_token: field('The token of the page that asked'), decision: field('allow or deny') };

export const CONSENT_SCHEMA = {
  summary: 'The employee’s answer on the page that asked: the browser is sent to the tool with a code, or a refusal',
  body: documentedBody(DECISION),
  consumes: FORM,
  response: answers({ 303: redirect('To the tool’s loopback redirect') }, errors(403, 503)),
};

export const TOKEN_SCHEMA = {
  summary: 'Tokens for tools (RFC 6749 §3.2): client credentials, authorization code, refresh token, device code',
  body: documentedBody({
    grant_type: field('client_credentials, authorization_code, refresh_token or urn:ietf:params:oauth:grant-type:device_code'),
    scope: field('The target, for client credentials and refresh'),
    code: field('The authorization code'),
    code_verifier: field('The PKCE verifier of the code'),
    redirect_uri: field('The redirect URI the code was issued for'),
    client_id: field('The tool’s name'),
    refresh_token: field('The refresh token'),
    device_code: field('The device code'),
  }),
  consumes: FORM,
  response: answers(
    { 200: { description: 'The token response', content: json(ToolTokenResponse) } },
    oauthErrors(400, 413, 415, 429, 500, 502, 503, 504),
  ),
};

export const REVOKE_SCHEMA = {
  summary: 'A tool ends its own session (RFC 7009)',
  body: documentedBody({ token: field('The refresh token') }),
  consumes: FORM,
  response: answers({ 200: redirect('Ended, or nothing to end') }, oauthErrors(400, 429)),
};

const DeviceAuthorizationResponse = z
  .object({
    device_code: z.string(),
    user_code: z.string(),
    verification_uri: z.string(),
    verification_uri_complete: z.string(),
    expires_in: z.number().int(),
    interval: z.number().int(),
  })
  .meta({ id: 'DeviceAuthorizationResponse' });

export const DEVICE_AUTHORIZATION_SCHEMA = {
  summary: 'A tool without a browser asks for the employee’s consent (RFC 8628)',
  body: documentedBody({ client_id: field('Any name for the tool'), scope: field('The one target') }),
  consumes: FORM,
  response: answers({ 200: { description: 'The codes', content: json(DeviceAuthorizationResponse) } }, oauthErrors(400, 429, 503)),
};

export const DEVICE_PAGE_SCHEMA = {
  summary: 'The page where the employee enters the user code and answers',
  querystring: z.object({ user_code: field('The code the tool shows') }),
  response: answers(
    { 200: htmlPage('The code form, or the page that asks'), 302: redirect('A browser without a session is sent to log in') },
    errors(401, 404, 429, 503),
  ),
};

export const DEVICE_DECISION_SCHEMA = {
  summary: 'The employee’s answer to a device’s request',
  body: documentedBody(DECISION),
  consumes: FORM,
  response: answers({ 200: htmlPage('Connected, or denied') }, errors(403, 409, 503)),
};
