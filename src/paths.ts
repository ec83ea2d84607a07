/**
 * The token generator's paths and cookie names, said once: its routes, the command line, the
 * wiring that registers it with the emulator and its pages all take them from here.
 */
import { digest } from './digest.js';

export const PATHS = {
  /** App tokens (client credentials) for scripts. */
  m2m: '/api/public/m2m',
  /** Which identity provider issues the tokens (its issuer and keys), for clients that check signatures. */
  identityProvider: '/api/public/identity-provider',
  /** Employee tokens for scripts, against the emulator only. */
  publicObo: '/api/public/obo',
  /** Tokens on behalf of the logged-in employee. */
  obo: '/api/obo',
  /** An app token for a logged-in employee (older docs link it). */
  employeeM2m: '/api/m2m',
  login: '/oauth2/login',
  /** The login's redirect URI: where the identity provider sends the browser back. */
  callback: '/oauth2/callback',
  logout: '/oauth2/logout',
  /** Where the identity provider sends the browser after logout. */
  loggedOut: '/oauth2/logged-out',
  session: '/oauth2/session',
  /** The authorization server's metadata (RFC 8414). */
  authorizationServerMetadata: '/.well-known/oauth-authorization-server',
  authorize: '/oauth2/authorize',
  token: '/oauth2/token',
  deviceAuthorization: '/oauth2/device_authorization',
  /** Where an employee enters or confirms a device's user code. */
  deviceVerification: '/oauth2/device',
  revoke: '/oauth2/revoke',
  /** Where the home page's button ends one tool's access. */
  endTool: '/oauth2/tools/end',
  openapi: '/openapi.json',
  /** The home page. */
  home: '/',
  /** Whether an audience is valid, for the home page's field. */
  audienceCheck: '/api/public/audience',
  stylesheet: '/static/app.css',
  script: '/static/app.js',
  icon: '/static/favicon.svg',
  /** Where browsers look for an icon on their own. */
  favicon: '/favicon.ico',
  isAlive: '/internal/isalive',
  isReady: '/internal/isready',
  health: '/internal/health',
  metrics: '/internal/metrics',
} as const;

/** The login cookies live under this path only. */
export const LOGIN_COOKIE_PATH = '/oauth2';

/** The session ticket; the command line sends it as this cookie too. */
export const SESSION_COOKIE = 'tg_session';
/**
 * The sealed login state, from the start of a login to its callback: one cookie per login, this name
 * followed by a digest of the login's state, so that logins a browser runs at once (two tabs, a tool
 * and a link) each find their own at their callback.
 */
export const LOGIN_COOKIE = 'tg_login_';
/** How many characters of the state's digest (base64url: 96 bits) a login cookie's name carries. */
const LOGIN_DIGEST_LENGTH = 16;
/** The logins this browser started lately, for the login-loop guard. */
export const LOOP_COOKIE = 'tg_login_loop';

/** The names and the scope of this service's cookies, as `cookieNames` chooses them. */
export interface CookieNames {
  session: string;
  /** The cookie of the login whose state is `state` (any string a callback brings names one). */
  login(state: string): string;
  /** Whether `name` is a login's cookie. */
  isLogin(name: string): boolean;
  /** Whether `name` is one of this service's cookies: the session's, the loop guard's or a login's. */
  isOurs(name: string): boolean;
  loop: string;
  /** The login cookies' path: a `__Host-` cookie must be on `/`. */
  loginPath: string;
  /** `Secure`, as a `__Host-` cookie must be. */
  secure: boolean;
  /** Whether the names are `__Host-` ones. */
  hostOnly: boolean;
}

const HOST_PREFIX = '__Host-';

/** Hosts that browsers treat as secure over http (Chromium takes `Secure` cookies from them). */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '[::1]';
}

/**
 * `__Host-` names wherever the browser takes them, on https and on loopback: such a cookie is
 * `Secure`, on `/` and host-only, so no page of a sibling domain (on NAIS, any app on `*.nav.no`) can
 * set one to log a visitor in as someone else. Elsewhere (plain http) the plain names.
 */
export function cookieNames(publicUrl: string): CookieNames {
  const url = new URL(publicUrl);
  const hostOnly = url.protocol === 'https:' || isLoopbackHost(url.hostname);
  const prefix = hostOnly ? HOST_PREFIX : '';
  const loginPrefix = `${prefix}${LOGIN_COOKIE}`;
  const session = `${prefix}${SESSION_COOKIE}`;
  const loop = `${prefix}${LOOP_COOKIE}`;
  const isLogin = (name: string) =>
    name.length === loginPrefix.length + LOGIN_DIGEST_LENGTH &&
    name.startsWith(loginPrefix) &&
    /^[\w-]+$/.test(name.slice(loginPrefix.length));
  return {
    session,
    // A digest, not the state itself: whatever a callback's state holds, the name is a valid, short one.
    login: (state) => loginPrefix + digest(state).slice(0, LOGIN_DIGEST_LENGTH),
    isLogin,
    isOurs: (name) => name === session || name === loop || isLogin(name),
    loop,
    loginPath: hostOnly ? '/' : LOGIN_COOKIE_PATH,
    secure: hostOnly,
    hostOnly,
  };
}

/**
 * Where a login starts that returns to `returnTo` (a path on this service); `prompt: 'login'` asks the
 * identity provider for a new sign-in even when it has one (to be someone else).
 */
export function loginUrl(returnTo: string, prompt?: 'login'): string {
  return `${PATHS.login}?redirect=${encodeURIComponent(returnTo)}${prompt ? `&prompt=${prompt}` : ''}`;
}
