import { submitSignInForm, type SignInEmployee } from '../../../packages/entra-emulator/src/sign-in-client.js';

export { enterDeviceCode } from '../../../packages/entra-emulator/src/sign-in-client.js';

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
