/**
 * A single-page app with @azure/msal-browser 5, for the flows msal-browser.test.ts does not walk: logout by redirect and
 * by popup, acquireTokenPopup, the `claims` request. Driven by the test through
 * `globalThis.spa`; its configuration comes in the page, as JSON.
 */
import { PublicClientApplication, type AuthenticationResult } from 'msal-browser-5';

declare const document: { getElementById(id: string): { textContent: string | null } | null };

interface Config {
  clientId: string;
  authority: string;
  redirectUri: string;
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

const summary = (result: AuthenticationResult | null) =>
  result && {
    accessToken: result.accessToken,
    idTokenClaims: result.idTokenClaims,
    scopes: result.scopes,
    username: result.account?.username,
    fromCache: result.fromCache,
  };

/** Runs `f`, answering its error as `{ error }` with MSAL's code and message, for the test to read. */
const caught = async <T>(f: () => Promise<T>) => {
  try {
    return await f();
  } catch (err) {
    const { errorCode, errorMessage, message } = err as { errorCode?: string; errorMessage?: string; message?: string };
    return { error: errorCode ?? 'error', message: errorMessage ?? message };
  }
};

const account = () => app.getActiveAccount() ?? app.getAllAccounts()[0];

(globalThis as unknown as { spa: unknown }).spa = {
  ready: app
    .initialize()
    .then(() => app.handleRedirectPromise())
    .then((result) => {
      if (result?.account) app.setActiveAccount(result.account);
      return summary(result);
    }),
  loginRedirect: (scopes: string[]) => app.loginRedirect({ scopes }),
  loginPopup: (scopes: string[]) =>
    caught(async () => {
      const result = await app.loginPopup({ scopes });
      app.setActiveAccount(result.account);
      return summary(result);
    }),
  acquireTokenPopup: (scopes: string[], claims?: string) =>
    caught(async () => summary(await app.acquireTokenPopup({ scopes, account: account(), ...(claims ? { claims } : {}) }))),
  silent: (scopes: string[], options: { forceRefresh?: boolean; claims?: string; refreshTokenExpirationOffsetSeconds?: number } = {}) =>
    caught(async () => summary(await app.acquireTokenSilent({ scopes, account: account()!, ...options }))),
  logoutRedirect: (postLogoutRedirectUri?: string) =>
    app.logoutRedirect({ account: account(), ...(postLogoutRedirectUri ? { postLogoutRedirectUri } : {}) }),
  logoutPopup: (postLogoutRedirectUri?: string) =>
    caught(async () => {
      await app.logoutPopup({ account: account(), ...(postLogoutRedirectUri ? { postLogoutRedirectUri } : {}) });
      return { accounts: app.getAllAccounts().length };
    }),
  accounts: () => app.getAllAccounts().length,
};
