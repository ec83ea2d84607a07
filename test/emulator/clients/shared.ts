import { submitSignInForm, type SignInEmployee } from '../../../src/emulator/sign-in-client.js';

/** What the client scripts share; they run as processes of their own, configured by their environment. */

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Signs in on the emulator's page with an employee, as a browser without script would; the code it sends back. */
export async function signIn(authorizeUrl: string, employee: SignInEmployee): Promise<string> {
  const posted = await submitSignInForm(authorizeUrl, employee, { headers: { origin: new URL(authorizeUrl).origin } });
  const location = posted.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`no code: ${posted.status} ${location ?? (await posted.text()).slice(0, 300)}`);
  return code;
}

const hiddenFields = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]),
  );

const decodeEntities = (value: string) =>
  value.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

/**
 * The employee's part of the device code flow, as a browser without script would do it: open the device login page, enter
 * the code, then sign in as `employee` (or decline). The final page's text.
 */
export async function enterDeviceCode(
  verificationUri: string,
  userCode: string,
  employee: SignInEmployee,
  action: 'approve' | 'decline' = 'approve',
): Promise<string> {
  const origin = new URL(verificationUri).origin;
  const page = await fetch(verificationUri);
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const post = (form: Record<string, string>) =>
    fetch(verificationUri, { method: 'POST', headers: { cookie, origin }, body: new URLSearchParams(form) }).then((res) => res.text());
  const signInPage = await post({ ...hiddenFields(await page.text()), user_code: userCode });
  if (!signInPage.includes('value="approve"')) throw new Error(`the code was not taken: ${signInPage.slice(0, 300)}`);
  return post({ ...hiddenFields(signInPage), ...employee, action });
}
