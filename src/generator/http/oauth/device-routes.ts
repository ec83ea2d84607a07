/**
 * The device flow's two sides (RFC 8628): `POST /oauth2/device_authorization`, where a tool on a
 * machine without a browser asks, and the verification page, where the employee, logged in on any
 * device, finds the request by its user code, sees who asks and from where, and answers.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { page, policyWithLogin } from '../views/html.js';
import type { GeneratorContext } from '../context.js';
import type { Limits } from '../../core/limits.js';
import type { LoadedSession } from '../../core/sessions.js';
import type { SessionCookie } from '../session-cookie.js';
import { requireSession } from '../pages/logged-in-tokens.js';
import type { Sealer, SessionStore } from '../../../session/index.js';
import { assertSameOrigin, employeeName } from './consent.js';
import { ConsentTokens } from '../../core/oauth/consent-tokens.js';
import type { DeviceAuthorization, DeviceAuthorizations } from '../../core/device-authorizations.js';
import type { ToolSessions } from '../../core/oauth/tool-sessions.js';
import { approvalPage, codeForm } from './device-page.js';
import { RefusedOnForm } from '../errors.js';
import { PATHS } from '../../../paths.js';
import { OAUTH, PAGES } from '../negotiate.js';
import { DEVICE_AUTHORIZATION_SCHEMA, DEVICE_DECISION_SCHEMA, DEVICE_PAGE_SCHEMA } from './schemas.js';
import { refuse } from '../../core/problem.js';
import { deviceToolName, formOnly, single, targetScope, toolParameters } from './parameters.js';
import { refuseHead } from '../methods.js';

const DeviceConsent = z.object({ deviceCode: z.string(), shownAt: z.number() });

const TITLE = 'Connect a device';

/** A page of the device flow; `policy` where its form may lead elsewhere than this service. */
const sendPage = (reply: FastifyReply, title: string, body: string, policy?: string) => {
  if (policy !== undefined) reply.header('content-security-policy', policy);
  return reply
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page({ title, body: `<section>${body}</section>` }));
};

export async function deviceRoutes(
  app: FastifyInstance,
  deps: {
    ctx: GeneratorContext;
    cookie: SessionCookie;
    store: SessionStore;
    sealer: Sealer;
    devices: DeviceAuthorizations;
    limits: Limits;
    tools: ToolSessions;
  },
): Promise<void> {
  const { ctx, cookie, devices, limits, tools } = deps;
  const consents = new ConsentTokens(deps.sealer, deps.store, limits, 'device-consent', DeviceConsent);

  /** The approval page's content for this session: a new consent token, shown from now. */
  const shown = (session: LoadedSession, found: { deviceCode: string; authorization: DeviceAuthorization }) => ({
    authorization: found.authorization,
    who: employeeName(session),
    csrfToken: consents.issue(session, { deviceCode: found.deviceCode, shownAt: devices.now() }),
  });
  const approval = (reply: FastifyReply, session: LoadedSession, found: { deviceCode: string; authorization: DeviceAuthorization }) =>
    sendPage(reply, TITLE, approvalPage(shown(session, found)));
  /**
   * The code form's policy: the form asks this page again, which sends a browser whose session has ended meanwhile to log in
   * at the identity provider.
   */
  const codeFormPolicy = () => policyWithLogin(ctx.provider, ctx.config.publicUrl);
  /** The code form again, with the refusal of the code typed into it. */
  const codeFormAgain = (code: 'user_code_unknown' | 'user_code_answered', message: string) =>
    new RefusedOnForm(
      { code, message },
      { title: TITLE, body: (text) => codeForm(ctx.config.loginDomain, text), policy: codeFormPolicy() },
    );

  deviceAuthorizationRoute(app, ctx, devices, limits);

  refuseHead(app, PATHS.deviceVerification);
  app.get(PATHS.deviceVerification, { schema: DEVICE_PAGE_SCHEMA, config: PAGES }, async (request, reply) => {
    const session = await requireSession(cookie, request);
    const userCode = single(request.query as Record<string, unknown>, 'user_code');
    if (userCode === undefined) return sendPage(reply, TITLE, codeForm(ctx.config.loginDomain), codeFormPolicy());
    await limits.deviceLookup(request.ip);
    const found = await devices.find(userCode);
    if (!found)
      throw codeFormAgain(
        'user_code_unknown',
        'That code is not known, was already used, or has expired. Check it, or start again on the device.',
      );
    return approval(reply, session, found);
  });

  app.post(PATHS.deviceVerification, { schema: DEVICE_DECISION_SCHEMA, config: PAGES }, async (request, reply) => {
    assertSameOrigin(request, ctx.config.publicUrl);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const session = await cookie.load(request);
    if (!session) throw refuse('consent_refused', 'You are not logged in in this browser any more: open the page again.');
    // Read before the page is used up: a store that fails here leaves the page to answer again.
    const allowedBy = await tools.allowing(session);
    const { deviceCode, shownAt } = await consents.open(session, single(body, 'csrf_token'));
    const allowed = single(body, 'decision') === 'allow';
    const pending = await devices.pending(deviceCode);
    const refusal =
      pending && allowed ? devices.allowRefusal(pending.authorization.userCode, single(body, 'typed_code'), shownAt) : undefined;
    if (pending && refusal) {
      await limits.deviceLookup(request.ip);
      throw new RefusedOnForm(refusal, { title: TITLE, body: (message) => approvalPage({ ...shown(session, pending), message }) });
    }
    if (!pending || !(await devices.decide(deviceCode, allowed, allowedBy)))
      throw codeFormAgain('user_code_answered', 'This code was already answered, or has expired. Start again on the device.');
    return sendPage(
      reply,
      allowed ? 'Device connected' : 'Request denied',
      allowed
        ? '<h1>Device connected</h1><p>You can go back to your tool: it gets its tokens in a few seconds.</p>'
        : '<h1>Request denied</h1><p>The tool gets no tokens. You can close this page.</p>',
    );
  });
}

/** Where a tool asks (RFC 8628 §3.1): its name checked, its address counted, the codes made. */
function deviceAuthorizationRoute(app: FastifyInstance, ctx: GeneratorContext, devices: DeviceAuthorizations, limits: Limits): void {
  app.post(
    PATHS.deviceAuthorization,
    { schema: DEVICE_AUTHORIZATION_SCHEMA, onRequest: ctx.limitPublic, preParsing: formOnly, config: OAUTH },
    async (request, reply) => {
      const body = toolParameters(request.body ?? {}, request.headers.authorization);
      const client = deviceToolName(single(body, 'client_id'));
      const audience = targetScope(single(body, 'scope'));
      await limits.deviceStart(request.ip);
      const userAgent = request.headers['user-agent']?.slice(0, 200) ?? '';
      const created = await devices.create({ client, target: audience.target, address: request.ip, userAgent });
      const verificationUri = `${ctx.config.publicUrl}${PATHS.deviceVerification}`;
      return reply.header('cache-control', 'no-store').send({
        device_code: created.deviceCode,
        user_code: created.userCode,
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?user_code=${created.userCode}`,
        expires_in: created.expiresIn,
        interval: created.interval,
      });
    },
  );
}
