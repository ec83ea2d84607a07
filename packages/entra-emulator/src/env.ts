/**
 * Every environment variable the emulator reads, in one place, with the project's one helper
 * (`readEnv`, src/env.ts): a mistake is a ConfigError that names the variable.
 */
import { z } from 'zod';
import { ConfigError, httpUrl, LOG_LEVEL, optional, port, readEnv, wholeNumber } from '../../../src/env.js';
import type { EmulatorOptions } from './options.js';
import { NAME_PATTERN, TARGET_PATTERN, TENANT_PATTERN } from './names.js';

const targets = z
  .string()
  .transform((raw) =>
    raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .superRefine((items, context) => {
    const bad = items.find((item) => !TARGET_PATTERN.test(item));
    if (bad)
      context.addIssue({
        code: 'custom',
        message: `must be cluster:namespace:app targets separated by commas (${JSON.stringify(bad)} is not one)`,
      });
  });

export const VARIABLES = {
  LOG_LEVEL,
  EMULATOR_PORT: optional(port),
  EMULATOR_HOST: optional(z.string()),
  EMULATOR_PUBLIC_URL: optional(httpUrl),
  EMULATOR_TENANT_ID: optional(z.string().regex(TENANT_PATTERN, 'must be a tenant id (letters, digits, "-" and ".")')),
  EMULATOR_UNAUTHORIZED_TARGETS: optional(targets),
  EMULATOR_MISSING_TARGETS: optional(targets),
  EMULATOR_DIRECTORY: optional(z.string()),
  EMULATOR_MANIFESTS: optional(
    z.string().transform((raw) =>
      raw
        .split(',')
        .map((path) => path.trim())
        .filter(Boolean),
    ),
  ),
  EMULATOR_CLUSTER: optional(z.string().regex(NAME_PATTERN, 'must be a lower-case cluster name, such as dev-gcp')),
  EMULATOR_STATE_DIR: optional(z.string()),
  EMULATOR_TLS: optional(
    z.literal('self-signed', {
      error: 'must be "self-signed" (or unset, with EMULATOR_TLS_CERT and EMULATOR_TLS_KEY for a certificate of your own)',
    }),
  ),
  EMULATOR_CA_FILE: optional(z.string()),
  EMULATOR_TLS_CERT: optional(z.string()),
  EMULATOR_TLS_KEY: optional(z.string()),
  EMULATOR_TOKEN_LIFETIME_SECONDS: optional(wholeNumber(1, 86_400)),
  EMULATOR_SIGN_IN_RATE_LIMIT: optional(wholeNumber(0, 1_000_000)),
};

/** The emulator's options from its environment; a mistake throws a ConfigError naming the variable. */
export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  return emulatorEnv(env).options;
}

/** The emulator's options and its log level, from its environment. */
export function emulatorEnv(env: NodeJS.ProcessEnv): { options: EmulatorOptions; logLevel: string } {
  const vars = readEnv(env, VARIABLES);
  if (!vars.EMULATOR_TLS && Boolean(vars.EMULATOR_TLS_CERT) !== Boolean(vars.EMULATOR_TLS_KEY)) {
    throw new ConfigError(
      vars.EMULATOR_TLS_CERT ? 'EMULATOR_TLS_KEY' : 'EMULATOR_TLS_CERT',
      'must be set with EMULATOR_TLS_CERT and EMULATOR_TLS_KEY together',
    );
  }
  const options: EmulatorOptions = {};
  if (vars.EMULATOR_PORT !== undefined) options.port = vars.EMULATOR_PORT;
  if (vars.EMULATOR_HOST) options.host = vars.EMULATOR_HOST;
  if (vars.EMULATOR_PUBLIC_URL) options.publicUrl = vars.EMULATOR_PUBLIC_URL;
  if (vars.EMULATOR_TENANT_ID) options.tenantId = vars.EMULATOR_TENANT_ID;
  if (vars.EMULATOR_UNAUTHORIZED_TARGETS?.length) options.unauthorizedTargets = vars.EMULATOR_UNAUTHORIZED_TARGETS;
  if (vars.EMULATOR_MISSING_TARGETS?.length) options.missingTargets = vars.EMULATOR_MISSING_TARGETS;
  if (vars.EMULATOR_DIRECTORY) options.directoryFile = vars.EMULATOR_DIRECTORY;
  if (vars.EMULATOR_MANIFESTS?.length) options.manifests = vars.EMULATOR_MANIFESTS;
  if (vars.EMULATOR_CLUSTER) options.cluster = vars.EMULATOR_CLUSTER;
  if (vars.EMULATOR_STATE_DIR) options.stateDir = vars.EMULATOR_STATE_DIR;
  // The CA goes in the state folder (or a folder of its own) unless EMULATOR_CA_FILE says where.
  if (vars.EMULATOR_TLS) options.tls = { selfSigned: vars.EMULATOR_CA_FILE ? { caFile: vars.EMULATOR_CA_FILE } : {} };
  else if (vars.EMULATOR_TLS_CERT && vars.EMULATOR_TLS_KEY)
    options.tls = { certFile: vars.EMULATOR_TLS_CERT, keyFile: vars.EMULATOR_TLS_KEY };
  if (vars.EMULATOR_TOKEN_LIFETIME_SECONDS !== undefined) options.accessTokenLifetimeSeconds = vars.EMULATOR_TOKEN_LIFETIME_SECONDS;
  if (vars.EMULATOR_SIGN_IN_RATE_LIMIT !== undefined) options.signInRateLimit = vars.EMULATOR_SIGN_IN_RATE_LIMIT;
  return { options, logLevel: vars.LOG_LEVEL };
}
