import { submitSignInForm } from '../../packages/entra-emulator/src/sign-in-client.js';

/**
 * Logging in without a browser: follow the generator's redirect to the emulator, submit its
 * login form as an employee would, and stop at the callback so that tests can look at it or tamper with it.
 */
import { cookieNames } from '../../src/paths.js';

export interface PendingLogin {
  /** The generator URL the emulator sends the browser back to (with code and state). */
  callbackUrl: string;
  /** The sealed login-state cookie the generator set for this login, as `name=value`. */
  loginCookie: string;
}

function cookiesFrom(response: Response): string[] {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]!);
}

let browsers = 0;

/**
 * Starts a login as a browser of its own (its own user agent), so that many logins in a test do
 * not look like one browser caught in a login loop.
 */
export async function startLogin(
  generatorUrl: string,
  returnTo = '/oauth2/session',
  employee = { navIdent: 'Z990001', name: 'Kari Nordmann', email: 'kari.nordmann@trygdeetaten.no', groups: '' },
  userAgent = `test-browser/${++browsers}`,
): Promise<PendingLogin> {
  return startLoginAt(`${generatorUrl}/oauth2/login?redirect=${encodeURIComponent(returnTo)}`, employee, userAgent);
}

/** As `startLogin`, from a login URL written as it is to be sent (say, with a query that is not valid UTF-8). */
export async function startLoginAt(
  loginUrl: string,
  employee = { navIdent: 'Z990001', name: 'Kari Nordmann', email: 'kari.nordmann@trygdeetaten.no', groups: '' },
  userAgent = `test-browser/${++browsers}`,
): Promise<PendingLogin> {
  const start = await fetch(loginUrl, { redirect: 'manual', headers: { 'user-agent': userAgent } });
  if (start.status !== 302) throw new Error(`login did not redirect: ${start.status}`);
  const names = cookieNames(loginUrl);
  const loginCookie = cookiesFrom(start).find((c) => names.isLogin(c.slice(0, c.indexOf('='))));
  if (!loginCookie) throw new Error('no login cookie');
  const authorize = new URL(start.headers.get('location')!);
  const signedIn = await submitSignInForm(authorize.href, employee, { headers: { 'user-agent': userAgent } });
  if (signedIn.status !== 302) throw new Error(`emulator did not sign in: ${signedIn.status} ${await signedIn.text()}`);
  return { callbackUrl: signedIn.headers.get('location')!, loginCookie };
}

/** Completes a login: the session cookie as `name=value`. */
export async function login(generatorUrl: string, returnTo?: string): Promise<string> {
  const pending = await startLogin(generatorUrl, returnTo);
  const callback = await fetch(pending.callbackUrl, { headers: { cookie: pending.loginCookie }, redirect: 'manual' });
  const name = cookieNames(generatorUrl).session;
  const session = cookiesFrom(callback).find((c) => c.startsWith(`${name}=`) && c !== `${name}=`);
  if (callback.status !== 302 || !session) throw new Error(`callback failed: ${callback.status}`);
  return session;
}

/** Logs out as the log-out page does: its token fetched with the session cookie, then posted back. */
export async function logout(generatorUrl: string, cookie: string, options: { everywhere?: boolean } = {}): Promise<Response> {
  const headers = { cookie, accept: 'application/json' };
  const { csrf_token: token } = (await (await fetch(`${generatorUrl}/oauth2/logout`, { headers })).json()) as { csrf_token?: string };
  return fetch(`${generatorUrl}/oauth2/logout`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ csrf_token: token ?? '', ...(options.everywhere ? { everywhere: 'true' } : {}) }),
    redirect: 'manual',
  });
}
