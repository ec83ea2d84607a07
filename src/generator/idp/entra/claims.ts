/**
 * Entra ID's claims, read for the generator: the employee its ID token names, and what the claims of
 * its tokens mean, in plain words, as NAIS apps meet them (one line each; the context, the target
 * asked for, makes the line concrete where it can).
 */
import type { SessionEmployee } from '../../../session/store.js';
import type { ClaimContext, LoginClaims } from '../identity-provider.js';

/** The employee as Entra's ID token names them: its object id (oid), NAV's ident (NAVident), the tenant (tid). */
export function employeeFrom(claims: LoginClaims): SessionEmployee {
  const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    oid: str(claims.oid) ?? str(claims.sub) ?? 'unknown',
    ...(str(claims.name) ? { name: str(claims.name) } : {}),
    ...(str(claims.preferred_username) ? { preferredUsername: str(claims.preferred_username) } : {}),
    ...(str(claims.NAVident) ? { navIdent: str(claims.NAVident) } : {}),
    ...(str(claims.tid) ? { tid: str(claims.tid) } : {}),
  };
}

type Describe = string | ((value: unknown, context: ClaimContext) => string);

const DESCRIPTIONS: Record<string, Describe> = {
  aud: (_value, { target }) => `The app the token is for: the client id of ${target}. That app checks that aud is its own client id.`,
  iss: 'Who issued the token: Entra ID, for this tenant. APIs accept tokens only from this issuer.',
  exp: 'When the token expires. After this, the API refuses it: get a new one.',
  iat: 'When the token was issued.',
  nbf: 'Not valid before this time.',
  azp: 'The client id of the app that asked for the token (here the token generator).',
  azp_name:
    'Who asked: the app that asked for the token, as cluster:namespace:app (NAIS sets this from its access policy). APIs can ' +
    'check it against the callers they allow.',
  appid: 'The client id of the app that asked for the token (older tokens; azp in v2.0 tokens).',
  azpacr: 'How the app that asked proved who it is: 0 no credential (a public client), 1 a client secret, 2 a certificate or key.',
  appidacr: 'How the app that asked proved who it is (older tokens): 0 none, 1 secret, 2 certificate or key.',
  idtyp: (value) =>
    value === 'app'
      ? 'app: an app token (client credentials). It carries no employee: it is the asking app acting for itself.'
      : `${String(value)}: a token on behalf of an employee.`,
  roles: (_value, { target }) =>
    `What the token allows the asking app in ${target}: the app roles it was given (access_as_application for any app the access ` +
    `policy lets in).`,
  scp: (_value, { target }) =>
    `What the token allows on the employee's behalf in ${target}: the scopes (defaultaccess for any app the access policy lets in).`,
  oid:
    'The object id of the employee in Entra ID; in an app token, of the asking app\u2019s service principal. Stable: use it to ' +
    'identify an employee.',
  sub:
    'The subject: in an employee\u2019s token unique per employee and app (so it differs between apps); in an app token the asking ' +
    'app\u2019s object id.',
  tid: 'The tenant (the organisation\u2019s Entra ID) the token comes from.',
  NAVident: 'The employee\u2019s NAV ident, which NAV\u2019s systems know people by.',
  name: 'The employee\u2019s display name.',
  preferred_username: 'The employee\u2019s user name (usually their e-mail address). It can change: do not use it as a key.',
  email: 'The employee\u2019s e-mail address.',
  groups:
    'The groups of the employee that the app lists in its manifest ' +
    '(claims.groups), as object ids; all of them when the app allows all users.',
  ver: 'The token format: 2.0 for Entra ID\u2019s v2.0 endpoint.',
  uti: 'An id of this token, for Entra ID\u2019s own logs.',
  rh: 'Used by Entra ID internally; ignore it.',
  aio: 'Used by Entra ID internally; ignore it.',
  sid: 'The id of the employee\u2019s sign-in session.',
  auth_time: 'When the employee signed in.',
  amr: 'How the employee signed in (pwd: password, mfa: multi-factor, and so on).',
  nonce: 'A value the login sent, to tie this token to it.',
};

/** The plain-words line for a claim, or undefined for one not described here. */
export function describeClaim(name: string, value: unknown, context: ClaimContext): string | undefined {
  const description = DESCRIPTIONS[name];
  if (description === undefined) return undefined;
  return typeof description === 'string' ? description : description(value, context);
}
