/**
 * Every app of the directory as a whole Entra app: its client id (derived from its name, the same
 * on every start), its own RSA key pair (made when first needed, kept in the state folder), the
 * secrets, certificates and reply URLs the directory file or its manifest gives, and the
 * environment NAIS would inject into it.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';
import type { Directory } from './directory.js';
import type { ClientRecord, DeclaredApp } from './model.js';
import { ruleFor } from './manifests.js';
import { TARGET_PATTERN } from './names.js';
import type { StateFolder } from './state.js';

const FILE = 'apps.json';

const Stored = z.object({
  apps: z.record(z.string(), z.object({ privateJwk: z.looseObject({ kty: z.literal('RSA'), kid: z.string(), d: z.string() }) })),
});

export interface TenantUrls {
  baseUrl: string;
  issuer: string;
  tokenEndpoint: string;
  wellKnownUrl: string;
  jwksUri: string;
}

export class UnknownAppError extends Error {}

const publicPart = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...jwk }: JWK): JWK => jwk;

const JWK_MEMBERS = ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'kid', 'alg', 'use'] as const;
/** The JWK with its members in one order, so that the app's environment reads the same after a restart. */
const inOrder = (jwk: JWK): JWK =>
  Object.fromEntries(JWK_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]));

export class Apps {
  private readonly privateKeys = new Map<string, JWK>();
  private readonly making = new Map<string, Promise<JWK>>();

  private constructor(
    private readonly directory: Directory,
    private readonly state: StateFolder | undefined,
  ) {}

  /** The apps of the directory with what the file declares, and the keys kept from before. */
  static async open(directory: Directory, declared: DeclaredApp[], state: StateFolder | undefined): Promise<Apps> {
    const apps = new Apps(directory, state);
    for (const [target, app] of directory.manifests ?? []) {
      if (app.enabled) directory.register({ target, redirectUris: app.replyUrls });
    }
    for (const app of declared) {
      directory.register({
        target: app.target,
        secrets: app.secrets,
        redirectUris: app.replyUrls,
        spaRedirectUris: app.spaRedirectUris,
        nativeRedirectUris: app.nativeRedirectUris,
        certificates: app.certificates,
      });
    }
    const stored = await state?.read(FILE, Stored);
    for (const [target, { privateJwk }] of Object.entries(stored?.apps ?? {})) {
      apps.privateKeys.set(target, inOrder(privateJwk as JWK));
      // A kept key is the app's even when its manifest is gone for now: an old .env keeps working.
      directory.register({ target, jwks: [publicPart(privateJwk as JWK)] });
    }
    return apps;
  }

  /** The apps the directory names (in the open directory: those registered or given a key so far). */
  targets(): string[] {
    const names = new Set<string>();
    for (const [target, app] of this.directory.manifests ?? []) if (app.enabled) names.add(target);
    for (const client of this.directory.clients.values()) names.add(client.target);
    return [...names].sort();
  }

  /** Throws UnknownAppError, naming the apps there are, when `target` is not an app of the directory. */
  check(target: string): void {
    if (!TARGET_PATTERN.test(target))
      throw new UnknownAppError(`${JSON.stringify(target.slice(0, 100))} is not an app: write it cluster:namespace:app`);
    if (this.targets().includes(target)) return;
    if (!this.directory.manifests && this.directory.status(target) !== 'missing') return;
    const known = this.targets();
    throw new UnknownAppError(
      `${target} is not an app of this emulator's directory; it has ${known.length ? known.join(', ') : 'no apps'}`,
    );
  }

  /** The app's client record; in the open directory an app is registered the first time it is named. */
  client(target: string): ClientRecord {
    this.check(target);
    const clientId = this.directory.clientIdFor(target);
    const known = this.directory.clients.get(clientId);
    if (known) return known;
    this.directory.register({ target });
    return this.directory.clients.get(clientId)!;
  }

  /** The app's private key (as NAIS gives it in AZURE_APP_JWK), made and registered the first time. */
  async privateKey(target: string): Promise<JWK> {
    this.check(target);
    const known = this.privateKeys.get(target);
    if (known) return known;
    let making = this.making.get(target);
    if (!making) {
      making = this.makeKey(target).finally(() => this.making.delete(target));
      this.making.set(target, making);
    }
    return making;
  }

  private async makeKey(target: string): Promise<JWK> {
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(privateKey);
    const privateJwk = inOrder({ ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' });
    this.privateKeys.set(target, privateJwk);
    this.directory.register({ target, jwks: [publicPart(privateJwk)] });
    await this.save();
    return privateJwk;
  }

  private async save(): Promise<void> {
    if (!this.state) return;
    const apps: Record<string, { privateJwk: JWK }> = {};
    for (const [target, privateJwk] of [...this.privateKeys].sort(([a], [b]) => a.localeCompare(b))) apps[target] = { privateJwk };
    await this.state.write(FILE, { apps });
  }

  /** The apps an app's inbound rules let in, as NAIS lists them in AZURE_APP_PRE_AUTHORIZED_APPS. */
  preAuthorized(target: string): { name: string; clientId: string }[] {
    const app = this.directory.manifests?.get(target);
    if (!app) return [];
    const names = new Set<string>();
    for (const rule of app.rules) {
      if (rule.application !== '*' && rule.namespace !== '*') names.add(`${rule.cluster}:${rule.namespace}:${rule.application}`);
    }
    // A wildcard rule lets in every app of the directory that it matches.
    for (const other of this.targets()) if (other !== target && ruleFor(app, other)) names.add(other);
    return [...names].sort().map((name) => ({ name, clientId: this.directory.clientIdFor(name) }));
  }

  /** What NAIS injects into the app for Entra ID and Texas, with this emulator's URLs. */
  async environment(target: string, urls: TenantUrls): Promise<Record<string, string>> {
    const privateJwk = await this.privateKey(target);
    const client = this.directory.clients.get(this.directory.clientIdFor(target));
    const [cluster, namespace, app] = target.split(':') as [string, string, string];
    const texas = `${urls.baseUrl}${texasPath(target)}`;
    return {
      AZURE_APP_CLIENT_ID: this.directory.clientIdFor(target),
      ...(client?.secrets[0] ? { AZURE_APP_CLIENT_SECRET: client.secrets[0] } : {}),
      AZURE_APP_JWK: JSON.stringify(privateJwk),
      AZURE_APP_JWKS: JSON.stringify({ keys: [privateJwk] }),
      AZURE_APP_PRE_AUTHORIZED_APPS: JSON.stringify(this.preAuthorized(target)),
      AZURE_APP_TENANT_ID: this.directory.tenantId,
      AZURE_APP_WELL_KNOWN_URL: urls.wellKnownUrl,
      AZURE_OPENID_CONFIG_ISSUER: urls.issuer,
      AZURE_OPENID_CONFIG_JWKS_URI: urls.jwksUri,
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: urls.tokenEndpoint,
      NAIS_TOKEN_ENDPOINT: `${texas}/api/v1/token`,
      NAIS_TOKEN_EXCHANGE_ENDPOINT: `${texas}/api/v1/token/exchange`,
      NAIS_TOKEN_INTROSPECTION_ENDPOINT: `${texas}/api/v1/introspect`,
      NAIS_CLUSTER_NAME: cluster,
      NAIS_NAMESPACE: namespace,
      NAIS_APP_NAME: app,
    };
  }
}

/** Where an app's Texas API and environment are served: the app's name in the path. */
export function texasPath(target: string): string {
  return `/apps/${target}`;
}

/**
 * Environment variables as dotenv lines that dotenv, Node's --env-file and a shell read alike:
 * single-quoted, as JSON values hold double quotes; a value with a single quote double-quoted.
 */
export function dotenv(variables: Record<string, string>): string {
  const quote = (value: string) => (value.includes("'") ? `"${value.replace(/["\\$`]/g, '\\$&')}"` : `'${value}'`);
  return Object.entries(variables)
    .map(([name, value]) => `${name}=${quote(value)}`)
    .join('\n')
    .concat('\n');
}
