/**
 * The emulator's shared model: the types the directory, the manifests, the stores, the grants and the pages all speak
 * of, in one file that imports none of them, so that none of them imports another for a type.
 */
import type { JWK } from 'jose';

/** Who is in the tenant: employees, client apps and their registrations, the resources tokens are for, and the directory's answers. */

export interface TestEmployee {
  navIdent: string;
  name: string;
  email: string;
  groups: string[];
}

export interface ClientRegistration {
  /** `cluster:namespace:app` of the client app. */
  target: string;
  clientId?: string;
  /** Public keys (with kid) for private_key_jwt. */
  jwks?: JWK[];
  /** Certificates (PEM) for private_key_jwt, named in assertions by their thumbprints. */
  certificates?: string[];
  secrets?: string[];
  /** Redirect URIs of a web app (Entra's `web` platform): a code sent there is redeemed with the client's credential. */
  redirectUris?: string[];
  /** Redirect URIs of a single-page app (`spa`): the client is public, redeems from the browser with PKCE, and gets CORS. */
  spaRedirectUris?: string[];
  /** Redirect URIs of a desktop or mobile app (`native`): the client is public, as for the device code flow. */
  nativeRedirectUris?: string[];
  /** Where logout may send the browser back (`post_logout_redirect_uri`): elsewhere it shows a signed-out page. */
  postLogoutRedirectUris?: string[];
}

/** Entra's platforms of a redirect URI. */
export type RedirectType = 'web' | 'spa' | 'native';

export interface ClientRecord {
  clientId: string;
  target: string;
  keys: Map<string, JWK>;
  /** `x5t:…` and `x5t#S256:…` of the keys that have a certificate, to the key's id. */
  thumbprints: Map<string, string>;
  secrets: string[];
  /** Each redirect URI with its platform. */
  redirectUris: Map<string, RedirectType>;
  /** A client with a `spa` or `native` redirect is public: it may ask for tokens without a credential. */
  publicClient: boolean;
  postLogoutRedirectUris: Set<string>;
}

export type TargetStatus = 'open' | 'unauthorized' | 'missing';

/** Why the directory refuses a token: the grant turns it into Entra's error. */
export type Refusal = 'role-not-assigned' | 'consent-required' | 'user-not-assigned';

export type AppAccess = { roles: string[] } | { refusal: 'role-not-assigned' };

export type EmployeeAccess = { scp: string; groups: string[] } | { refusal: 'consent-required' | 'user-not-assigned' };

export interface Resource {
  target: string;
  clientId: string;
  /** The token's aud when it is not the client id (Microsoft Graph asked for by its URL). */
  audience?: string;
}

/** What NAIS manifests and the directory file say. */

export interface InboundRule {
  application: string;
  namespace: string;
  cluster: string;
  scopes: string[];
  roles: string[];
}

export interface ManifestApp {
  target: string;
  cluster: string;
  namespace: string;
  app: string;
  /** spec.azure.application.enabled: without it the app does not exist in Entra ID. */
  enabled: boolean;
  allowAllUsers: boolean;
  groups: string[];
  rules: InboundRule[];
  /** spec.azure.application.replyURLs: where logins may return to. */
  replyUrls: string[];
  source: string;
}

/** An app's credentials and reply URLs as the directory file declares them. */
export interface DeclaredApp {
  target: string;
  secrets: string[];
  /** PEM text of each certificate. */
  certificates: string[];
  /** Entra's `web` platform, as a manifest's reply URLs are. */
  replyUrls: string[];
  spaRedirectUris: string[];
  nativeRedirectUris: string[];
}

export interface LoadedDirectory {
  apps: Map<string, ManifestApp>;
  employees: TestEmployee[];
  clients: DeclaredApp[];
  files: string[];
}

/** What the emulator keeps between requests (stores.ts bounds them). */

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  /** The platform of the redirect URI: a `web` one's code is redeemed with the client's credential. */
  redirectType: RedirectType;
  /** Absent for a request without PKCE, which only confidential clients may make. */
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  nonce?: string;
  /** The sign-in's `auth_time`, for a request that asked for `max_age`: its ID token carries it, as OpenID Connect says. */
  authTime?: number;
  scopes: string[];
  employee: TestEmployee;
  /** The `sid` of the single sign-on session the code was issued in, which its tokens carry. */
  sessionId: string;
  expiresAt: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  /** The tenant that issued it: an emulator started on the same state folder with another tenant refuses it, as Entra does. */
  tenantId: string;
  clientId: string;
  scopes: string[];
  employee: TestEmployee;
  sessionId: string;
  /** Issued to a public client (a `spa` or `native` redirect, the device code flow): redeemed without a credential. */
  publicClient: boolean;
  /** A single-page app's refresh tokens end 24 hours after the sign-in, however often they are used. */
  spaUntil?: number;
}

/** A device code flow's sign-in (RFC 8628, as Entra runs it), kept under its device code; its user code names that device code. */
export interface DeviceAuthorization {
  tenantId: string;
  clientId: string;
  scopes: string[];
  userCode: string;
  expiresAt: number;
  intervalSeconds: number;
  /** When the client last asked, to tell it to slow down. */
  lastPolledAt?: number;
  /** Pending until the employee signs in or declines on the device login page; redeemed once. */
  status: 'pending' | 'approved' | 'declined' | 'redeemed';
  employee?: TestEmployee;
  sessionId?: string;
}

export interface SignOnSession {
  tenantId: string;
  /** The cookie's value: a secret of the browser's, never put in a token. */
  id: string;
  /** The session's id in tokens (`sid`). */
  sid: string;
  employee: TestEmployee;
  /** When the employee signed in, in seconds since the epoch: an ID token's `auth_time`, and what `max_age` is held against. */
  authTime?: number;
  /** The clients it signed the employee in to: where a logout that names no client may go back to. */
  clients?: string[];
}

/** A sign-in rate limit's window for one address. */
export interface Attempts {
  count: number;
  endsAt: number;
}
