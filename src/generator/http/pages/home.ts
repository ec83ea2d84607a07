/**
 * The home page at `/`: what this is, an audience field that the generator's own parser checks as one
 * types (through `GET /api/public/audience`), the audiences this browser used lately, who is logged in,
 * and with the emulator the test employees and apps there are.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AUDIENCE_EXAMPLE, parseAudience } from '../../../audience.js';
import type { GeneratorContext } from '../context.js';
import { escapeHtml, page, policyWithLogin, sessionActions, tenantNote } from '../views/html.js';
import { loginUrl, PATHS } from '../../../paths.js';
import type { SessionCookie } from '../session-cookie.js';
import type { Sealer } from '../../../session/index.js';
import type { ToolSessions } from '../../core/oauth/tool-sessions.js';
import type { LoadedSession } from '../../core/sessions.js';
import { toolsSection, toolsUnlisted } from './tool-access.js';
import { answers, AudienceQuery, htmlPage } from '../schemas.js';

/** What the emulator holds, for the home page (the generator never imports the emulator; main.ts hands this over). */
export interface TestDirectory {
  employees: { navIdent: string; name: string }[];
  /** The apps of a directory file; undefined when every cluster:namespace:app exists. */
  apps?: string[];
}

const tokenForm = `<form id="token-form" method="get" action="${PATHS.obo}">
<label for="aud">Audience: the app the token is for</label>
<p class="hint muted" id="aud-hint">Written <code>cluster:namespace:app</code>, such as <code>${AUDIENCE_EXAMPLE}</code>;
<code>cluster.namespace.app</code> and <code>api://cluster.namespace.app/.default</code> work too.</p>
<input type="text" id="aud" name="aud" required autocomplete="off" autocapitalize="off" spellcheck="false"
aria-describedby="aud-hint aud-verdict">
<p class="verdict" id="aud-verdict" aria-live="polite"></p>
<div class="actions"><button type="submit" formaction="${PATHS.obo}">Token on your behalf</button>
<button type="submit" formaction="${PATHS.employeeM2m}" class="secondary">App token</button></div>
</form>`;

const recent = `<section aria-labelledby="recent-heading">
<h2 id="recent-heading">Recent audiences</h2>
<p id="recent-empty" class="muted">None yet: the audiences you get tokens for in this browser are kept here (in this browser only).</p>
<ul class="plain" id="recent"></ul>
<button type="button" id="recent-forget" class="secondary" hidden>Forget these</button>
</section>`;

/** Said where the page would show what the session store holds, while the store does not answer. */
const STORE_AWAY = 'the session store is unavailable right now. Reload this page in a moment.';

function whoSection(
  employee: { name?: string; navIdent?: string; preferredUsername?: string } | undefined,
  endsAt: number | undefined,
  loginDomain: string,
  unread = false,
): string {
  if (unread) {
    // Not "not logged in": the login is most likely there, only not readable now; a new one could not be kept either.
    return `<section aria-labelledby="who-heading"><h2 id="who-heading">You</h2>
<p id="who-unread">Your login, and the tools with access as you, cannot be looked up: ${STORE_AWAY} App tokens still come.</p></section>`;
  }
  if (!employee) {
    return `<section aria-labelledby="who-heading"><h2 id="who-heading">You</h2>
<p>Not logged in. A token on your behalf, or an app token here, asks you to log in first.</p>
<p class="actions"><a class="button secondary" href="${escapeHtml(loginUrl('/'))}">Log in</a></p></section>`;
  }
  const name = employee.name ?? employee.preferredUsername ?? 'someone without a name';
  const ident = employee.navIdent ? ` (<code>${escapeHtml(employee.navIdent)}</code>)` : '';
  const until = endsAt
    ? ` until <time datetime="${new Date(endsAt).toISOString()}" data-local>${new Date(endsAt).toISOString().slice(11, 16)} UTC</time>`
    : '';
  return `<section aria-labelledby="who-heading"><h2 id="who-heading">You</h2>
<p>Logged in as <strong>${escapeHtml(name)}</strong>${ident}${until}.</p>
${sessionActions({ returnTo: '/', loginDomain })}</section>`;
}

function directorySection(directory: TestDirectory): string {
  const employees = directory.employees.map((e) => `<li><code>${escapeHtml(e.navIdent)}</code> ${escapeHtml(e.name)}</li>`).join('');
  const apps = directory.apps
    ? `<h3>Apps in the directory</h3><ul class="plain">${directory.apps
        .map((target) => {
          const query = `?aud=${encodeURIComponent(target)}`;
          return (
            `<li><code>${escapeHtml(target)}</code> <a href="${PATHS.obo}${query}">token on your behalf</a> <a ` +
            `href="${PATHS.employeeM2m}${query}">app token</a></li>`
          );
        })
        .join('')}</ul>`
    : '<p class="muted">The directory is open: every <code>cluster:namespace:app</code> exists and lets this generator in.</p>';
  return `<section aria-labelledby="emulator-heading"><h2 id="emulator-heading">The Entra ID emulator</h2>
<p>No Entra ID is configured, so the emulator stands in for it. Sign in as any of these test employees, or type another on its sign-in
page:</p>
<ul class="plain">${employees}</ul>
${apps}</section>`;
}

const HOME_SCHEMA = {
  summary: 'The home page: an audience field, recent audiences, who is logged in',
  response: answers({ 200: htmlPage('The home page') }),
};

const AudienceCheck = z
  .object({
    valid: z.boolean(),
    target: z.string().optional().meta({ description: 'cluster:namespace:app' }),
    scope: z.string().optional().meta({ description: 'The Entra scope for the target' }),
    message: z.string().optional().meta({ description: 'What is wrong with it' }),
  })
  .meta({ id: 'AudienceCheck' });

const AUDIENCE_CHECK_SCHEMA = {
  summary: 'Whether an audience is valid, as the generator reads it (the home page checks the field as one types)',
  querystring: AudienceQuery,
  response: answers({
    200: { description: 'The audience as read, or what is wrong with it', content: { 'application/json': { schema: AudienceCheck } } },
  }),
};

export async function homeRoutes(
  fastify: FastifyInstance,
  deps: { ctx: GeneratorContext; cookie: SessionCookie; tools?: ToolSessions; sealer?: Sealer; directory?: TestDirectory },
): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { ctx, cookie } = deps;

  /**
   * Who is logged in, as stored: the home page neither refreshes a session nor fails for the store. A store that does not
   * answer leaves the login `unread`, said so on the page: not "not logged in", which would send the employee to log in
   * again (a login the store cannot keep either) and hide the tools that still have access as them.
   */
  const loggedIn = async (request: FastifyRequest): Promise<{ loaded?: LoadedSession; unread: boolean }> => {
    try {
      const loaded = await cookie.stored(request);
      return { ...(loaded ? { loaded } : {}), unread: false };
    } catch {
      return { unread: true };
    }
  };

  app.get(PATHS.home, { schema: HOME_SCHEMA }, async (request, reply) => {
    const { loaded, unread } = await loggedIn(request);
    const session = loaded?.data;
    const tools =
      loaded && deps.tools && deps.sealer ? await toolsSection(deps.tools, deps.sealer, loaded).catch(() => toolsUnlisted(STORE_AWAY)) : '';
    const body = `<section>
<h1>Entra ID token generator</h1>
<p>Tokens from Entra ID for your APIs on NAIS while you develop: on behalf of you, or as an app (this generator, with no employee in
the token). Scripts use <code>POST ${escapeHtml(ctx.config.publicUrl)}${PATHS.m2m}</code> or the <code>token-generator</code> command.</p>
${session || unread ? '' : tenantNote(ctx.config.loginDomain)}
${tokenForm}
</section>
${recent}
${whoSection(session?.user, session?.expiresAt, ctx.config.loginDomain, unread)}
${tools}
${deps.directory ? directorySection(deps.directory) : ''}`;
    return reply
      .header('cache-control', 'no-store')
      .header('content-security-policy', policyWithLogin(ctx.provider, ctx.config.publicUrl))
      .type('text/html; charset=utf-8')
      .send(page({ title: 'Home', body }));
  });
}

/** The audience as the generator reads it, for the home page's field (and anyone else who wants to check one). */
export async function audienceCheckRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(PATHS.audienceCheck, { schema: AUDIENCE_CHECK_SCHEMA }, async (request, reply) => {
    const parsed = parseAudience(request.query.aud);
    reply.header('cache-control', 'no-store');
    if (!parsed.ok) return reply.send({ valid: false, message: parsed.message });
    return reply.send({ valid: true, target: parsed.value.target, scope: parsed.value.scope });
  });
}
