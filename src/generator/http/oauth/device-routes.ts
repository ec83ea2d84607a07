/**
 * The device flow's two sides (RFC 8628): `POST /oauth2/device_authorization`, where a tool on a
 * machine without a browser asks, and the verification page, where the employee, logged in on any
 * device, finds the request by its user code, sees who asks and from where, and answers.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { escapeHtml, page } from '../views/html.js';
import type { GeneratorContext } from '../context.js';
import { RateLimiter } from '../../core/limits.js';
import type { Sessions } from '../sessions.js';
import { requireSession } from '../pages/logged-in-tokens.js';
import type { Sealer } from '../../../session/index.js';
import { assertSameOrigin, ConsentTokens, consentPage, employeeName } from './consent.js';
import type { DeviceAuthorizations } from '../../core/device-authorizations.js';
import { PATHS } from '../../../paths.js';
import { OAUTH, PAGES } from '../negotiate.js';
import { DEVICE_AUTHORIZATION_SCHEMA, DEVICE_DECISION_SCHEMA, DEVICE_PAGE_SCHEMA } from './schemas.js';
import { refuse } from '../../core/problem.js';
import { clientId, single, targetScope } from './parameters.js';

/** Lookups of user codes per address: enough for typing errors, far too few to guess one of 20^8. */
const LOOKUPS = { max: 10, windowMs: 60_000 };

const sendPage = (reply: FastifyReply, title: string, body: string) =>
  reply
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page({ title, body: `<section>${body}</section>` }));

function codeForm(message?: string): string {
  return `<h1>Connect a device</h1>
${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<p>Enter the code your tool shows, for example <code>BCDF-GHJK</code>.</p>
<form method="get" action="${PATHS.deviceVerification}">
<label for="user_code">Code</label> <input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" maxlength="20"
required>
<button type="submit">Continue</button>
</form>`;
}

/** Where a tool asks: the device code it polls with, and the user code the employee types. */
function deviceAuthorizationRoute(app: FastifyInstance, ctx: GeneratorContext, devices: DeviceAuthorizations): void {
  app.post(
    PATHS.deviceAuthorization,
    { schema: DEVICE_AUTHORIZATION_SCHEMA, onRequest: ctx.limitPublic, config: OAUTH },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const client = clientId(single(body, 'client_id'));
      const audience = targetScope(single(body, 'scope'));
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

export async function deviceRoutes(
  app: FastifyInstance,
  deps: { ctx: GeneratorContext; sessions: Sessions; sealer: Sealer; devices: DeviceAuthorizations },
): Promise<void> {
  const { ctx, sessions, devices } = deps;
  const lookups = new RateLimiter(LOOKUPS.max, LOOKUPS.windowMs);
  const consents = new ConsentTokens(deps.sealer, 'device-consent', z.object({ deviceCode: z.string() }));

  deviceAuthorizationRoute(app, ctx, devices);

  app.get(PATHS.deviceVerification, { schema: DEVICE_PAGE_SCHEMA, config: PAGES }, async (request, reply) => {
    const session = await requireSession(sessions, request);
    const userCode = single(request.query as Record<string, unknown>, 'user_code');
    if (userCode === undefined) return sendPage(reply, 'Connect a device', codeForm());
    const verdict = lookups.take(request.ip);
    if (!verdict.allowed) {
      throw refuse('too_many_codes', `Too many codes tried from your address: try again in ${verdict.retryAfterSeconds} seconds.`);
    }
    const found = await devices.find(userCode);
    if (!found)
      return sendPage(
        reply.code(404),
        'Connect a device',
        codeForm('That code is not known, was already used, or has expired. Check it, or start again on the device.'),
      );
    const { authorization } = found;
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(
        consentPage({
          client: authorization.client,
          target: authorization.target,
          who: employeeName(session),
          where: 'on another device',
          from: { address: authorization.address, userAgent: authorization.userAgent },
          action: PATHS.deviceVerification,
          csrfToken: consents.issue(session, { deviceCode: found.deviceCode }),
        }),
      );
  });

  app.post(PATHS.deviceVerification, { schema: DEVICE_DECISION_SCHEMA, config: PAGES }, async (request, reply) => {
    assertSameOrigin(request, ctx.config.publicUrl);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const session = await sessions.load(request);
    if (!session) throw refuse('consent_refused', 'You are not logged in in this browser any more: open the page again.');
    const { deviceCode } = consents.open(session, single(body, 'csrf_token'));
    const allowed = single(body, 'decision') === 'allow';
    if (!(await devices.decide(deviceCode, allowed, session.id))) {
      return sendPage(
        reply.code(409),
        'Connect a device',
        codeForm('This code was already answered, or has expired. Start again on the device.'),
      );
    }
    return sendPage(
      reply,
      allowed ? 'Device connected' : 'Request denied',
      allowed
        ? '<h1>Device connected</h1><p>You can go back to your tool: it gets its tokens in a few seconds.</p>'
        : '<h1>Request denied</h1><p>The tool gets no tokens. You can close this page.</p>',
    );
  });
}
