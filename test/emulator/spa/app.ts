/**
 * A single-page app as a team writes one with @azure/msal-browser, registered with the emulator as a `spa` client. Bundled
 * by esbuild for the browser, once for each major version (`msal-browser-5` stands for the one aliased in); the test
 * drives it through `globalThis.spa`, and reads a failure as `{ error, message }` (MSAL's code and words). Its
 * configuration comes in the page, as JSON.
 */
import { PublicClientApplication, type AuthenticationResult } from 'msal-browser-5';

/** The little of the DOM this file uses (the project's type-check has no DOM library). */
declare const document: { getElementById(id: string): { textContent: string | null } | null };

interface Config {
  clientId: string;
  authority: string;
  redirectUri: string;
  popupRedirectUri: string;
}

const config = JSON.parse(document.getElementById('config')?.textContent ?? '{}') as Config;
const app = new PublicClientApplication({
  auth: {
    clientId: config.clientId,
    authority: config.authority,
    knownAuthorities: [new URL(config.authority).host],
    redirectUri: config.redirectUri,
  },
  cache: { cacheLocation: 'sessionStorage' },
});

/** What the test reads of a result: never the refresh token, which MSAL keeps to itself. */
const summary = (result: AuthenticationResult | null) =>
  result && {
    accessToken: result.accessToken,
    idTokenClaims: result.idTokenClaims,
    scopes: result.scopes,
    username: result.account?.username,
    fromCache: result.fromCache,
  };

/** Runs `f`, answering its error as `{ error, message }` with MSAL's code and words, for the test to read. */
const caught = async <T>(f: () => Promise<T>) => {
  try {
    return await f();
  } catch (err) {
    const { errorCode, errorMessage, message } = err as { errorCode?: string; errorMessage?: string; message?: string };
    return { error: errorCode ?? 'error', message: errorMessage ?? message };
  }
};

const account = () => {
  const found = app.getActiveAccount() ?? app.getAllAccounts()[0];
  if (!found) throw new Error('no account: sign in first');
  return found;
};

/** Where a logout asks to come back to, when the test names a place. */
const backTo = (postLogoutRedirectUri?: string) => (postLogoutRedirectUri ? { postLogoutRedirectUri } : {});

(globalThis as unknown as { spa: unknown }).spa = {
  /** The answer to a loginRedirect, once the page is back; null on a page that was not signed in by redirect. */
  ready: app
    .initialize()
    .then(() => app.handleRedirectPromise())
    .then((result) => {
      if (result?.account) app.setActiveAccount(result.account);
      return summary(result);
    }),
  loginRedirect: (scopes: string[]) => app.loginRedirect({ scopes }),
  /** A sign-in by popup for `scopes`, with the employee's consent to `extraScopesToConsent` (other resources) up front. */
  loginPopup: (scopes: string[], extraScopesToConsent?: string[]) =>
    caught(async () => {
      const result = await app.loginPopup({
        scopes,
        redirectUri: config.popupRedirectUri,
        ...(extraScopesToConsent ? { extraScopesToConsent } : {}),
      });
      app.setActiveAccount(result.account);
      return summary(result);
    }),
  acquireTokenPopup: (scopes: string[], claims?: string) =>
    caught(async () =>
      summary(
        await app.acquireTokenPopup({ scopes, account: account(), redirectUri: config.popupRedirectUri, ...(claims ? { claims } : {}) }),
      ),
    ),
  /** A token from the cache, or (forceRefresh, a claims request, or none cached) through the refresh token. */
  silent: (scopes: string[], options: { forceRefresh?: boolean; claims?: string } = {}) =>
    caught(async () => summary(await app.acquireTokenSilent({ scopes, account: account(), ...options }))),
  logoutRedirect: (postLogoutRedirectUri?: string) => app.logoutRedirect({ account: account(), ...backTo(postLogoutRedirectUri) }),
  logoutPopup: (postLogoutRedirectUri?: string) =>
    caught(async () => {
      await app.logoutPopup({ account: account(), ...backTo(postLogoutRedirectUri) });
      return { accounts: app.getAllAccounts().length };
    }),
  accounts: () => app.getAllAccounts().length,
};
