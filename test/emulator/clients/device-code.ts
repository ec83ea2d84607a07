/**
 * The device code flow as a command-line tool runs it, against the emulator over HTTPS: @azure/msal-node's
 * acquireTokenByDeviceCode and @azure/identity's DeviceCodeCredential, each a public client with no
 * credential. Where a person would read the message and type the code in a browser, the employee's part
 * is done on the emulator's device login page by `enterDeviceCode`. Prints each flow's message and token.
 */
import { DeviceCodeCredential } from '@azure/identity';
import { PublicClientApplication } from '@azure/msal-node';
import { enterDeviceCode, env } from './shared.js';

const baseUrl = env('EMULATOR_BASE_URL');
const tenantId = env('EMULATOR_TENANT');
const clientId = env('CLIENT_ID');
const scope = env('SCOPE');
const employee = (navIdent: string) => ({
  navIdent,
  name: `Device ${navIdent}`,
  email: `${navIdent.toLowerCase()}@trygdeetaten.no`,
  groups: '',
});

/** The employee's part, started when the library shows its message; awaited with the token. */
let entered: Promise<string> | undefined;

const msal = new PublicClientApplication({
  auth: { clientId, authority: `${baseUrl}/${tenantId}`, knownAuthorities: [new URL(baseUrl).host] },
  system: { loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false } },
});
let msalMessage = '';
const msalResult = await msal.acquireTokenByDeviceCode({
  scopes: [scope],
  deviceCodeCallback: (response) => {
    msalMessage = response.message;
    entered = enterDeviceCode(response.verificationUri, response.userCode, employee('Z990201'));
  },
});
await entered;

let identityMessage = '';
const credential = new DeviceCodeCredential({
  tenantId,
  clientId,
  authorityHost: baseUrl,
  disableInstanceDiscovery: true,
  userPromptCallback: (info) => {
    identityMessage = info.message;
    entered = enterDeviceCode(info.verificationUri, info.userCode, employee('Z990202'));
  },
} as ConstructorParameters<typeof DeviceCodeCredential>[0] & { disableInstanceDiscovery: boolean });
const identityToken = await credential.getToken(scope);
await entered;

process.stdout.write(
  JSON.stringify({
    msal: { message: msalMessage, accessToken: msalResult?.accessToken, username: msalResult?.account?.username },
    identity: { message: identityMessage, accessToken: identityToken?.token },
  }),
);
