/** The grants of the token endpoint, by grant_type. */
import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { deviceCode } from './device-code.js';
import type { Grant } from './grant.js';
import { onBehalfOf } from './on-behalf-of.js';
import { refreshToken } from './refresh-token.js';

export { JWT_BEARER } from './on-behalf-of.js';
export { DEVICE_CODE_GRANT } from './device-code.js';
export type { Grant, GrantContext, TokenResponse } from './grant.js';

export const GRANTS: ReadonlyMap<string, Grant> = new Map(
  [clientCredentials, authorizationCode, refreshToken, onBehalfOf, deviceCode].flatMap((grant) =>
    [grant.type, ...(grant.aliases ?? [])].map((name) => [name, grant] as const),
  ),
);
