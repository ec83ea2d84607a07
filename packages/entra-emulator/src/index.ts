/**
 * The emulator's published API (the `entra-emulator` package): an identity provider that answers like Entra ID v2.0,
 * under Entra's own paths, so that any Entra client (the token generator among them) runs against it offline. This file
 * only says what is published; start.ts starts it. The token generator uses this entry alone: its `npm start` starts
 * the emulator, and its headless employee tokens sign in with the sign-in client.
 */
export { startEmulator, type Emulator } from './start.js';
export type { EmulatorOptions } from './options.js';
export type { ClientRegistration, TestEmployee } from './model.js';
export { emulatorEnv, emulatorOptionsFromEnv } from './env.js';
export { withCommandPort } from './command-port.js';
export { ConfigError } from '../../../src/config-error.js';
export type { DirectoryInput } from './manifests.js';
export type { ClaimValues } from './claim-overrides.js';
export type { AppTokenRequest, UserTokenRequest } from './test-tokens.js';
export { enterDeviceCode, SignInPageError, submitSignInForm, type SignInEmployee } from './sign-in-client.js';
export { relaunchTrustingEmulatorCa } from './trust.js';
export { defaultStateDir, StateFolder } from './state.js';
