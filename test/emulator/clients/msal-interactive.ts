/**
 * @azure/msal-node's acquireTokenInteractive, as a desktop app or command-line tool signs in: MSAL listens on
 * http://localhost:<a free port> for the answer, which the emulator posts there (form_post), the employee's
 * browser played by fetch. Then a silent renewal. Prints the redirect URI MSAL chose and the tokens' claims,
 * or MSAL's error, as JSON.
 */
import { PublicClientApplication } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { deliverToClient, submitSignInForm } from '../../../packages/entra-emulator/src/sign-in-client.js';
import { env } from './shared.js';

const baseUrl = env('EMULATOR_BASE_URL');
const app = new PublicClientApplication({
  auth: { clientId: env('CLIENT_ID'), authority: `${baseUrl}/${env('EMULATOR_TENANT')}`, knownAuthorities: [new URL(baseUrl).host] },
  system: { loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false } },
});
const scopes = [env('SCOPE')];
let redirectUri = '';
try {
  const login = await app.acquireTokenInteractive({
    scopes,
    openBrowser: async (url) => {
      redirectUri = new URL(url).searchParams.get('redirect_uri') ?? '';
      const employee = { navIdent: 'Z990082', name: 'Desk Top', email: 'desk.top@trygdeetaten.no', groups: '' };
      await deliverToClient(await submitSignInForm(url, employee, { headers: { origin: new URL(url).origin } }));
    },
    successTemplate: 'Signed in.',
    errorTemplate: 'Not signed in.',
  });
  const silent = await app.acquireTokenSilent({ account: login.account!, scopes, forceRefresh: true });
  process.stdout.write(JSON.stringify({ redirectUri, login: decodeJwt(login.accessToken), silent: decodeJwt(silent.accessToken) }));
} catch (err) {
  const { errorCode, errorMessage, message } = err as { errorCode?: string; errorMessage?: string; message: string };
  process.stdout.write(JSON.stringify({ redirectUri, error: errorCode ?? 'error', message: errorMessage ?? message }));
}
