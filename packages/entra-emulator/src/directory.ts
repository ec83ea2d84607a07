/**
 * Who exists in the emulated tenant: registered client apps with their credentials, the targets
 * tokens can be asked for, and test employees. Ids are derived from names, so that the same
 * `cluster:namespace:app` has the same client id across restarts.
 */
import { LRUCache } from 'lru-cache';
import { createHash, timingSafeEqual } from 'node:crypto';
import { importJWK, type CryptoKey } from 'jose';
import { parseAudience } from '../../../src/audience.js';
import type {
  AppAccess,
  ClientRecord,
  ClientRegistration,
  EmployeeAccess,
  RedirectType,
  Resource,
  TargetStatus,
  TestEmployee,
} from './model.js';
import { keyFromCertificate, keyFromJwk } from './client-keys.js';
import { GRAPH_APP_ID, GRAPH_DELEGATED_SCOPE } from './graph.js';
import { ruleFor } from './manifests.js';
import type { ManifestApp } from './model.js';
import { BoundedStore, DEFAULT_STORE_SETTINGS } from './stores.js';

export const DEFAULT_ROLE = 'access_as_application';
/** The domain of the tenant the emulator stands in for, NAV's test tenant, whose users anyone may sign in as. */
export const TEST_TENANT_DOMAIN = 'trygdeetaten.no';
export const DEFAULT_SCOPE = 'defaultaccess';

export const DEFAULT_EMPLOYEES: TestEmployee[] = [
  { navIdent: 'Z990001', name: 'Kari Nordmann', email: 'kari.nordmann@trygdeetaten.no', groups: [] },
  { navIdent: 'Z990002', name: 'Ola Nordmann', email: 'ola.nordmann@trygdeetaten.no', groups: [] },
  { navIdent: 'Z990003', name: 'Test Testesen', email: 'test.testesen@trygdeetaten.no', groups: [] },
];

const derived = new LRUCache<string, string>({ max: 10_000 });

/** A UUID (version 5 layout) derived from a name (the 10,000 used last are remembered: every token needs a few). */
export function uuidFrom(name: string): string {
  const known = derived.get(name);
  if (known !== undefined) return known;
  const id = deriveUuid(name);
  derived.set(name, id);
  return id;
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

const clientIdOf = (target: string) => uuidFrom(`client-id:${target}`);

function deriveUuid(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class Directory {
  readonly clients = new Map<string, ClientRecord>();
  private readonly targetsById = new Map<string, string>();
  readonly unauthorized: Set<string>;
  readonly missing: Set<string>;
  private readonly keyCache = new Map<string, CryptoKey>();
  /** The origins of every `spa` redirect URI: the token endpoint answers their cross-origin requests. */
  readonly spaOrigins = new Set<string>();

  /** With manifests the directory holds exactly the apps they describe; without, every target exists. */
  readonly manifests: Map<string, ManifestApp> | undefined;

  constructor(
    readonly tenantId: string,
    options: {
      unauthorizedTargets?: string[];
      missingTargets?: string[];
      employees?: TestEmployee[];
      manifests?: Map<string, ManifestApp>;
    },
    readonly employees: TestEmployee[] = options.employees?.length ? options.employees : DEFAULT_EMPLOYEES,
    /** Targets of the open directory made up on demand, by client id: bounded, as anyone may name any. */
    private readonly targetsOnDemand = new BoundedStore<string>(DEFAULT_STORE_SETTINGS.targets),
  ) {
    this.unauthorized = new Set(options.unauthorizedTargets ?? []);
    this.missing = new Set(options.missingTargets ?? []);
    this.manifests = options.manifests;
    for (const target of this.manifests?.keys() ?? []) this.clientIdFor(target);
  }

  get mode(): 'open' | 'manifests' {
    return this.manifests ? 'manifests' : 'open';
  }

  /**
   * A target that gives `caller` tokens, with an employee who may use it, for examples that work as
   * printed: undefined when no app of the directory has authorized the caller.
   */
  exampleFor(caller: string, preferred: string): { target: string; employee?: TestEmployee } | undefined {
    if (!this.manifests) {
      const target = this.status(preferred) === 'open' ? preferred : undefined;
      return target ? { target, ...(this.employees[0] ? { employee: this.employees[0] } : {}) } : undefined;
    }
    const apps = [...this.manifests.values()].filter((app) => app.enabled && ruleFor(app, caller));
    const withEmployee = apps.map((app) => ({ app, employee: this.employees.find((e) => this.employeeAllowed(app, e)) }));
    const best = withEmployee.find((option) => option.employee) ?? withEmployee[0];
    return best ? { target: best.app.target, ...(best.employee ? { employee: best.employee } : {}) } : undefined;
  }

  /** The roles an app token for `resource` carries for `caller`, or why the resource has not authorized it. */
  appAccess(resource: Resource, caller: ClientRecord): AppAccess {
    // No application permission of Microsoft Graph is granted: its app tokens carry no roles.
    if (resource.clientId === GRAPH_APP_ID) return { roles: [] };
    if (resource.clientId === caller.clientId) return { roles: [DEFAULT_ROLE] };
    const app = this.manifests?.get(resource.target);
    if (!app) return this.status(resource.target) === 'unauthorized' ? { refusal: 'role-not-assigned' } : { roles: [DEFAULT_ROLE] };
    const rule = ruleFor(app, caller.target);
    return rule ? { roles: [DEFAULT_ROLE, ...rule.roles] } : { refusal: 'role-not-assigned' };
  }

  /**
   * The scopes and groups an employee token for `resource`, asked for by `caller` on behalf of `employee`,
   * carries; or why not: the resource has not authorized the caller, or the employee may not use it.
   */
  employeeAccess(resource: Resource, caller: ClientRecord, employee: TestEmployee): EmployeeAccess {
    if (resource.clientId === GRAPH_APP_ID) return { scp: GRAPH_DELEGATED_SCOPE, groups: employee.groups };
    const app = this.manifests?.get(resource.target);
    const own = resource.clientId === caller.clientId;
    if (!app) {
      if (!own && this.status(resource.target) === 'unauthorized') return { refusal: 'consent-required' };
      return { scp: DEFAULT_SCOPE, groups: employee.groups };
    }
    const rule = own ? undefined : ruleFor(app, caller.target);
    if (!own && !rule) return { refusal: 'consent-required' };
    if (!this.employeeAllowed(app, employee)) return { refusal: 'user-not-assigned' };
    const scopes = [DEFAULT_SCOPE, ...(rule?.scopes ?? [])];
    const groups = app.allowAllUsers ? employee.groups : employee.groups.filter((group) => app.groups.includes(group));
    return { scp: [...new Set(scopes)].join(' '), groups };
  }

  /**
   * Whether an account is a user of this tenant: its users have the test tenant's domain or one of the directory's
   * employees'. Another's, such as a nav.no account, Entra refuses at sign-in (AADSTS50020).
   */
  inTenant(email: string): boolean {
    return this.isDomain(domainOf(email));
  }

  /** Whether a (lower-case) domain is one of this tenant's, which a path may name it by as by its id. */
  isDomain(domain: string): boolean {
    return domain === TEST_TENANT_DOMAIN || this.employees.some((employee) => domainOf(employee.email) === domain);
  }

  /** Whether `employee` may sign in to the client app (Entra's user assignment). */
  signInAllowed(client: ClientRecord, employee: TestEmployee): boolean {
    const app = this.manifests?.get(client.target);
    return !app || this.employeeAllowed(app, employee);
  }

  private employeeAllowed(app: ManifestApp, employee: TestEmployee): boolean {
    return app.allowAllUsers || employee.groups.some((group) => app.groups.includes(group));
  }

  /** The client id of a target, remembered for good (registered clients, manifests, callers of the emulator's API). */
  clientIdFor(target: string): string {
    const id = clientIdOf(target);
    this.targetsById.set(id, target);
    return id;
  }

  /** The service principal (object id) of an app, which app tokens carry as `oid` and `sub`. */
  servicePrincipalFor(target: string): string {
    return uuidFrom(`service-principal:${target}`);
  }

  userOid(navIdent: string): string {
    return uuidFrom(`user:${navIdent.toUpperCase()}`);
  }

  /** Entra's `sub` for an employee differs per app. */
  pairwiseSubject(oid: string, appClientId: string): string {
    return createHash('sha256').update(`${oid}:${appClientId}`).digest('base64url').slice(0, 43);
  }

  register(registration: ClientRegistration): string {
    const clientId = registration.clientId ?? this.clientIdFor(registration.target);
    this.targetsById.set(clientId, registration.target);
    const existing = this.clients.get(clientId);
    const record: ClientRecord = existing ?? {
      clientId,
      target: registration.target,
      keys: new Map(),
      thumbprints: new Map(),
      secrets: [],
      redirectUris: new Map(),
      publicClient: false,
      postLogoutRedirectUris: new Set(),
    };
    const keys = [
      ...(registration.jwks ?? []).map((jwk) => keyFromJwk(jwk, registration.target)),
      ...(registration.certificates ?? []).map((pem) => keyFromCertificate(pem, registration.target)),
    ];
    for (const key of keys) {
      record.keys.set(key.keyId, key.jwk);
      for (const name of key.thumbprints) record.thumbprints.set(name, key.keyId);
    }
    for (const cached of [...this.keyCache.keys()]) if (cached.startsWith(`${clientId}:`)) this.keyCache.delete(cached);
    record.secrets.push(...(registration.secrets ?? []));
    const redirects: [string[] | undefined, RedirectType][] = [
      [registration.redirectUris, 'web'],
      [registration.spaRedirectUris, 'spa'],
      [registration.nativeRedirectUris, 'native'],
    ];
    for (const [uris, type] of redirects) for (const uri of uris ?? []) record.redirectUris.set(uri, type);
    for (const [uri, type] of record.redirectUris) {
      if (type !== 'web') record.publicClient = true;
      if (type === 'spa' && URL.canParse(uri)) this.spaOrigins.add(new URL(uri).origin);
    }
    for (const uri of registration.postLogoutRedirectUris ?? []) record.postLogoutRedirectUris.add(uri);
    this.clients.set(clientId, record);
    return clientId;
  }

  /**
   * The registered public key `kid` (a key id or a certificate's thumbprint) of a client, for verifying with `alg`; undefined when
   * there is none that fits.
   */
  async clientKey(client: ClientRecord, kid: string, alg: string): Promise<CryptoKey | undefined> {
    const jwk = client.keys.get(kid);
    if (!jwk || (jwk.alg !== undefined && jwk.alg !== alg)) return undefined;
    const cacheKey = `${client.clientId}:${kid}:${alg}`;
    let key = this.keyCache.get(cacheKey);
    if (!key) {
      try {
        const imported = await importJWK(jwk, alg);
        if (imported instanceof Uint8Array) return undefined;
        key = imported;
      } catch {
        // A key that does not fit the algorithm (an EC key for RS256, say) verifies nothing.
        return undefined;
      }
      this.keyCache.set(cacheKey, key);
    }
    return key;
  }

  status(target: string): TargetStatus {
    if (this.manifests) {
      const app = this.manifests.get(target);
      // A registered client (the token generator) exists even when no manifest describes it.
      if (!app) return [...this.clients.values()].some((client) => client.target === target) ? 'open' : 'missing';
      return app.enabled ? 'open' : 'missing';
    }
    if (this.missing.has(target)) return 'missing';
    if (this.unauthorized.has(target)) return 'unauthorized';
    return 'open';
  }

  /**
   * The resource a scope names: `api://cluster.namespace.app`, `api://<client id>` or a bare
   * client id. Undefined when the tenant does not know it.
   */
  resource(resource: string): Resource | undefined {
    const byId = resource.startsWith('api://') ? resource.slice('api://'.length) : resource;
    const known = this.targetsById.get(byId) ?? this.targetsOnDemand.get(byId);
    if (known) return this.status(known) === 'missing' ? undefined : { target: known, clientId: byId };
    if (!resource.startsWith('api://')) return undefined;
    const parsed = parseAudience(resource);
    if (!parsed.ok || this.status(parsed.value.target) === 'missing') return undefined;
    const { target } = parsed.value;
    const clientId = clientIdOf(target);
    if (!this.targetsById.has(clientId)) this.targetsOnDemand.set(clientId, target);
    return { target, clientId };
  }
}
