/**
 * The token generator's paths and cookie names, said once: its routes, the command line, the
 * wiring that registers it with the emulator and its pages all take them from here.
 */

export const PATHS = {
  /** App tokens (client credentials) for scripts. */
  m2m: '/api/public/m2m',
  /** Employee tokens for scripts, against the emulator only. */
  publicObo: '/api/public/obo',
  /** Tokens on behalf of the logged-in person. */
  obo: '/api/obo',
  /** An app token for a logged-in person (older docs link it). */
  personM2m: '/api/m2m',
  login: '/oauth2/login',
  /** The login's redirect URI: where the identity provider sends the browser back. */
  callback: '/oauth2/callback',
  logout: '/oauth2/logout',
  /** Where the identity provider sends the browser after logout. */
  loggedOut: '/oauth2/logged-out',
  session: '/oauth2/session',
  cliLogin: '/oauth2/cli/login',
  cliToken: '/oauth2/cli/token',
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
/** The sealed login state, from the start of a login to its callback. */
export const LOGIN_COOKIE = 'tg_login';

/**
 * Where a login starts that returns to `returnTo` (a path on this service); `prompt: 'login'` asks the
 * identity provider for a new sign-in even when it has one (to be someone else).
 */
export function loginUrl(returnTo: string, prompt?: 'login'): string {
  return `${PATHS.login}?redirect=${encodeURIComponent(returnTo)}${prompt ? `&prompt=${prompt}` : ''}`;
}
