/**
 * The emulator's published API (`entra-token-generator/emulator`): an identity provider that answers like Entra ID v2.0,
 * under Entra's own paths, so that any Entra client (the token generator among them) runs against it offline. This file
 * only says what is published; start.ts starts it.
 */
export { startEmulator, type Emulator } from './start.js';
export type { EmulatorOptions } from './options.js';
export type { ClientRegistration, TestEmployee } from './model.js';
export { emulatorEnv, emulatorOptionsFromEnv } from './env.js';
export { ConfigError } from '../env.js';
export type { DirectoryInput } from './manifests.js';
export type { ClaimValues } from './claim-overrides.js';
export type { AppTokenRequest, UserTokenRequest } from './test-tokens.js';
export { defaultStateDir } from './state.js';
