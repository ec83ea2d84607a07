/**
 * Tokens for test suites, made directly (no HTTP, no login page) through the same grants and access
 * policies as the token endpoint, with claims added or removed for the one token.
 */
import { parseAudience } from '../../../src/audience.js';
import type { Apps } from './apps.js';
import type { ClaimValues, ClaimOverrides } from './claim-overrides.js';
import type { TestEmployee } from './model.js';
import type { GrantContext } from './grants/index.js';
import { signInTokens } from './grants/sign-in-tokens.js';
import { issueTokensFor } from './token-endpoint.js';
import { randomUUID } from 'node:crypto';

export interface AppTokenRequest {
  /** The app asking, `cluster:namespace:app`. */
  caller: string;
  /** The app the token is for, in any audience form (`dev-gcp:team:api`, `api://dev-gcp.team.api/.default`). */
  target: string;
  /** ClaimValues to set on this token; undefined removes one. */
  claims?: ClaimValues;
}

/** What `userToken` takes: an employee token (the published name says user, as other teams' tests call it). */
export interface UserTokenRequest {
  /** A NAVident of the directory's employees (or a new one), or a whole employee. */
  employee?: string | TestEmployee;
  /** The app the token is for. */
  target: string;
  /** The app the employee signed in to; the target itself by default (a login to the app). */
  client?: string;
  claims?: ClaimValues;
}

export interface TestTokens {
  appToken(request: AppTokenRequest): Promise<string>;
  userToken(request: UserTokenRequest): Promise<string>;
}

function audienceOf(target: string) {
  const parsed = parseAudience(target);
  if (!parsed.ok) throw new Error(`target: ${parsed.message}`);
  return parsed.value;
}

export function testTokens(context: GrantContext, apps: Apps, overrides: ClaimOverrides): TestTokens {
  const { directory } = context;
  const employeeOf = (employee: string | TestEmployee | undefined): TestEmployee => {
    if (typeof employee === 'object') return employee;
    const navIdent = employee ?? directory.employees[0]!.navIdent;
    const known = directory.employees.find((e) => e.navIdent.toUpperCase() === navIdent.toUpperCase());
    return known ?? { navIdent, name: navIdent, email: `${navIdent.toLowerCase()}@example.test`, groups: [] };
  };
  // The one-token claims go in as "next" right before the grant signs: nothing else is signed between,
  // as the grants sign before their first await.
  const withClaims = async (claims: ClaimValues | undefined, issue: () => Promise<{ access_token: string }>): Promise<string> => {
    const remove = claims ? overrides.add(claims) : undefined;
    try {
      return (await issue()).access_token;
    } finally {
      remove?.();
    }
  };
  return {
    appToken: async (request) => {
      const { scope } = audienceOf(request.target);
      const client = apps.client(request.caller);
      return withClaims(request.claims, () => issueTokensFor(context, client, { grant_type: 'client_credentials', scope }));
    },
    userToken: async (request) => {
      const { scope, target } = audienceOf(request.target);
      const client = apps.client(request.client ?? target);
      const signIn = { scopes: [scope], employee: employeeOf(request.employee), sessionId: randomUUID(), publicClient: false };
      return withClaims(request.claims, () => signInTokens(context, { client, acr: '2' }, signIn, {}));
    },
  };
}
