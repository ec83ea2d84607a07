/**
 * Entra's codes, read for the generator: what a refusal means for it, and answers a developer can act on.
 */
import { targetOf, type ParsedAudience } from '../../../audience.js';
import type { Problem } from '../../core/problem.js';
import type { SessionEmployee } from '../../../session/store.js';
import type {
  ClaimContext,
  Flow,
  IdentityProvider,
  IdpError,
  IdpFailure,
  LoginClaims,
  Refusal as RefusalMeaning,
} from '../identity-provider.js';
import { describeClaim, employeeFrom } from './claims.js';

export interface GeneratorIdentity {
  app: string;
  namespace: string;
  cluster: string;
}

export function accessPolicyYaml(generator: GeneratorIdentity): string {
  return [
    'spec:',
    '  accessPolicy:',
    '    inbound:',
    '      rules:',
    `        - application: ${generator.app}`,
    `          namespace: ${generator.namespace}`,
    `          cluster: ${generator.cluster}`,
  ].join('\n');
}

/** The same access policy as YAML in flow style: one line that is still valid YAML for the manifest. */
export function accessPolicyYamlLine(generator: GeneratorIdentity): string {
  return (
    `spec: {accessPolicy: {inbound: {rules: [{application: ${generator.app}, namespace: ${generator.namespace}, cluster: ` +
    `${generator.cluster}}]}}}`
  );
}

const EMPLOYEES_TOO =
  'The app must also let you in as a user: spec.azure.application.allowAllUsers: true, or a group you are a member of in ' +
  'spec.azure.application.claims.groups.';

function firstLine(text: string | undefined): string | undefined {
  return text?.split(/\r?\n/)[0]?.trim() || undefined;
}

/** The code by which Entra says an employee is not assigned to the app they log in to (or get a token for). */
const NOT_ASSIGNED = 50105;

/** The code by which Entra says the account is of another tenant (a nav.no account where trygdeetaten.no is needed). */
const OTHER_TENANT = 50020;

/**
 * The code by which Entra says the employee declined to consent at its login (Microsoft's words: "UserDeclinedConsent - User
 * declined to consent to access the app. Have the user retry the sign-in and consent to the app"), answered as access_denied.
 */
const DECLINED_CONSENT = 65004;

/** Whether an `error_description` (of a login's callback) is Entra's answer with `code`: it starts with AADSTS and the code. */
function says(description: string | null | undefined, code: number): boolean {
  return description?.startsWith(`AADSTS${code}`) ?? false;
}

/** Codes by which Entra says the target app has not authorized this caller. */
const NOT_AUTHORIZED = new Set([501051, 65001]);

type Refusal = Extract<IdpFailure, { kind: 'rejected' }>;

/** Codes by which Entra refuses this service's own credentials: an operator must act. */
const OWN_CREDENTIALS_REFUSED = new Set([700016, 7000215, 7000218, 700027, 700024, 700023, 700021, 50048, 50027, 7000112]);

/** What Entra's refusal means for the generator (see `Refusal` in the interface), from its codes. */
export function refusalOf(failure: Refusal): RefusalMeaning | undefined {
  if ((failure.aadsts !== undefined && OWN_CREDENTIALS_REFUSED.has(failure.aadsts)) || failure.error === 'invalid_client')
    return 'own_credentials';
  if (failure.error === 'unauthorized_client') return 'own_credentials';
  // AADSTS500133: Entra holds the assertion expired (its clock, or the time the request took).
  if (failure.aadsts === 500133) return 'employee_token_expired';
  if (failure.aadsts === 50013) return 'employee_token';
  return undefined;
}

/** The interface's methods that only read Entra's codes and claims. */
type Conventions = 'scopeFor' | 'employeeFrom' | 'describeClaim' | 'isNotAssigned' | 'isOtherTenant' | 'isConsentDeclined' | 'advice';

/**
 * The part of an identity provider that reads Entra's answers: the scope for a target, the employee
 * and the meaning of its claims, a login callback's codes, advice for a failure. The Entra client is
 * one, and so is the fake provider, which answers with Entra's codes and claims.
 */
export abstract class EntraConventions implements Pick<IdentityProvider, Conventions> {
  /** `generator` is named in the advice when a target has not authorized it. */
  constructor(private readonly generator: GeneratorIdentity) {}

  scopeFor(target: ParsedAudience): string {
    return target.scope;
  }

  employeeFrom(claims: LoginClaims): SessionEmployee {
    return employeeFrom(claims);
  }

  describeClaim(name: string, value: unknown, context: ClaimContext): string | undefined {
    return describeClaim(name, value, context);
  }

  isNotAssigned(description: string | null | undefined): boolean {
    return says(description, NOT_ASSIGNED);
  }

  isOtherTenant(description: string | null | undefined): boolean {
    return says(description, OTHER_TENANT);
  }

  isConsentDeclined(description: string | null | undefined): boolean {
    return says(description, DECLINED_CONSENT);
  }

  advice(error: IdpError, flow: Flow, target?: ParsedAudience): Problem {
    return adviceFor(error, target, this.generator, flow);
  }
}

function adviceFor(err: IdpError, target: ParsedAudience | undefined, generator: GeneratorIdentity, flow: Flow): Problem {
  const failure = err.failure;
  return failure.kind === 'rejected' ? refusalAdvice(err, failure, target, generator, flow) : noAnswerAdvice(failure);
}

/** No answer, or none this service can read: trying again is all the caller can do. */
function noAnswerAdvice(failure: Exclude<IdpFailure, Refusal>): Problem {
  switch (failure.kind) {
    case 'timeout':
      return {
        code: 'identity_provider_timeout',
        message: `The identity provider did not answer within ${failure.timeoutMs} ms. Try again in a moment.`,
      };
    case 'unreachable':
      return {
        code: 'identity_provider_unreachable',
        message: `The identity provider could not be reached (${failure.detail}). Try again in a moment.`,
      };
    case 'bad-response':
      return {
        code: 'identity_provider_bad_response',
        message:
          `The identity provider answered something this service cannot ` +
          `read${failure.status ? ` (HTTP ${failure.status})` : ''}. Try again in a moment.`,
      };
  }
}

/** The identity provider refused: what it refused, and who can change that. */
function refusalAdvice(
  err: IdpError,
  failure: Refusal,
  target: ParsedAudience | undefined,
  generator: GeneratorIdentity,
  flow: Flow,
): Problem {
  const code = failure.aadsts;
  const upstream = firstLine(failure.description);
  const base = { ...(code !== undefined ? { aadsts: code } : {}), ...(upstream ? { upstream } : {}) };
  const name = target?.target ?? 'the target app';

  if (failure.status >= 500) {
    return {
      ...base,
      code: 'identity_provider_error',
      message: `The identity provider failed (HTTP ${failure.status}). Try again in a moment.`,
    };
  }
  if (code !== undefined && NOT_AUTHORIZED.has(code)) {
    const forEmployees = flow !== 'client_credentials';
    const who = forEmployees ? 'on behalf of employees' : 'as an application';
    return {
      ...base,
      code: 'not_authorized_by_target',
      message:
        `${name} has not authorized this token generator (${targetOf(generator)}) to get tokens for it ${who}. ` +
        `Add this access policy to the manifest of ${name} and deploy it:`,
      snippet: accessPolicyYaml(generator),
      snippetLine: accessPolicyYamlLine(generator),
      ...(forEmployees ? { note: EMPLOYEES_TOO } : {}),
    };
  }
  if (code === 500011 || failure.error === 'invalid_resource') {
    return {
      ...base,
      code: 'target_not_found',
      message:
        `${name} does not exist in the tenant, or does not have Entra ID enabled. Check the audience, and that the app's ` +
        `manifest has spec.azure.application.enabled: true and is deployed to ${target?.cluster ?? 'its cluster'}.`,
    };
  }
  if (code === NOT_ASSIGNED) {
    return {
      ...base,
      code: 'user_not_allowed',
      message:
        `You are not allowed to use ${name}: it neither allows all users nor lists a group you are in. Ask its team to set ` +
        `spec.azure.application.allowAllUsers or add your group to claims.groups.`,
    };
  }
  return lastRefusalAdvice(err, failure, base, name);
}

/** The refusals that name no app to change: an expired login, a scope, the generator's own credentials, the rest. */
function lastRefusalAdvice(err: IdpError, failure: Refusal, base: Pick<Problem, 'aadsts' | 'upstream'>, name: string): Problem {
  const code = failure.aadsts;
  if (err.userAssertionRefused) {
    return { ...base, code: 'login_expired', message: 'Your login has expired or is no longer valid. Log in again.' };
  }
  if (failure.error === 'invalid_scope' || code === 70011 || code === 700022) {
    return {
      ...base,
      code: 'invalid_scope',
      message: `The identity provider does not accept the scope for ${name}. Check the audience.`,
    };
  }
  if (err.ownCredentialsRefused) {
    return {
      ...base,
      code: 'generator_misconfigured',
      message:
        'The identity provider refused this token generator\u2019s own credentials. This is a fault in the service, not in your ' +
        'request: tell its operators.',
    };
  }
  return {
    ...base,
    code: 'identity_provider_refused',
    message: `The identity provider refused the request (${failure.error}${code !== undefined ? `, AADSTS${code}` : ''}).`,
  };
}
