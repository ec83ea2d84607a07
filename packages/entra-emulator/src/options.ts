/** What `startEmulator` takes, each option checked where it is read (the token lifetime here). */
import type { Logger } from 'pino';
import type { DirectoryInput } from './manifests.js';
import type { TestEmployee } from './model.js';
import type { StoreSettings } from './stores.js';
import type { TlsOptions } from './tls.js';

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** The base URL clients use; by default http://localhost:<port>. */
  publicUrl?: string;
  tenantId?: string;
  logger?: Logger | false;
  /** Targets (`cluster:namespace:app`) that exist but have authorized nobody. */
  unauthorizedTargets?: string[];
  /** Targets that do not exist in the tenant. */
  missingTargets?: string[];
  accessTokenLifetimeSeconds?: number;
  /** Selectable on the login page; the first is filled in. */
  employees?: TestEmployee[];
  /** A directory file naming NAIS manifests, employees and client credentials (see manifests.ts). */
  directoryFile?: string;
  /** NAIS manifests (files or folders of `kind: Application`) as the directory, deployed to `cluster`. */
  manifests?: (string | { path: string; cluster?: string })[];
  /** The cluster of `manifests` given as paths; dev-gcp by default. */
  cluster?: string;
  /** A directory as an object of the directory file's shape; its paths are relative to the working directory. */
  directory?: DirectoryInput;
  /** Keep the tenant id, the signing keys and the apps' keys in this folder between starts; without it all is made afresh. */
  stateDir?: string;
  /** Serve HTTPS, with a certificate made at start or a given one. */
  tls?: TlsOptions;
  /**
   * The seconds a device polls the token endpoint at in the device code flow: Entra's 5 unless told; a test suite that
   * drives a client library through the flow waits less with 1.
   */
  deviceCodeIntervalSeconds?: number;
  /** Sign-in requests an address may make in a minute (600 unless told; 0 is no limit). */
  signInRateLimit?: number;
  /** Bounds and lifetimes of what the emulator keeps (codes, refresh tokens, sessions...), shorter in tests. */
  stores?: Partial<StoreSettings>;
}

/** The device code flow's polling interval in seconds: Entra's five unless told, at most a minute. */
export function deviceCodeInterval(options: EmulatorOptions): number {
  const interval = options.deviceCodeIntervalSeconds ?? 5;
  if (!Number.isInteger(interval) || interval < 1 || interval > 60) {
    throw new Error('deviceCodeIntervalSeconds: must be a whole number of seconds from 1 to 60');
  }
  return interval;
}

/** The access tokens' lifetime in seconds: an hour unless told, at most a day. */
export function accessTokenLifetime(options: EmulatorOptions): number {
  const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 86_400) {
    throw new Error('accessTokenLifetimeSeconds: must be a whole number of seconds from 1 to 86400');
  }
  return lifetime;
}
