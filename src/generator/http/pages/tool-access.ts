/**
 * The employee's view of the tools with access as them: a section of the home page listing each
 * (its own name for itself, from where, since, last used) with a button that ends it, and the route
 * that button posts to, with a token only that page had, from this site only.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PATHS } from '../../../paths.js';
import type { Sealer } from '../../../session/index.js';
import { digest } from '../../../digest.js';
import { MAX_TOOL_ENTRIES, type ToolEntry } from '../../core/oauth/tool-access.js';
import type { ToolSessions } from '../../core/oauth/tool-sessions.js';
import { refuse } from '../../core/problem.js';
import { escapeHtml } from '../views/html.js';
import type { SessionCookie } from '../session-cookie.js';
import { refuseCrossSite } from './logout.js';
import { answers, errors, Field, redirect } from '../schemas.js';

const PURPOSE = 'tool-end';

const when = (at: number) =>
  `<time datetime="${new Date(at).toISOString()}" data-local>${new Date(at).toISOString().slice(0, 16)} UTC</time>`;

function row(entry: ToolEntry & { lastUsed?: number }, csrfToken: string): string {
  return `<li><strong>${escapeHtml(entry.client)}</strong> (its own name for itself), for <code>${escapeHtml(entry.target)}</code>, from
${escapeHtml(entry.from)}, since ${when(entry.since)}${entry.lastUsed ? `, last used ${when(entry.lastUsed)}` : ''}
<form method="post" action="${PATHS.endTool}" class="inline"><input type="hidden" name="csrf_token" value="${escapeHtml(csrfToken)}">
<input type="hidden" name="handle" value="${escapeHtml(entry.handle)}">
<button type="submit" class="secondary">End its access</button></form></li>`;
}

/** The home page's section on the tools with access as the employee, around `content`. */
const section = (content: string) =>
  `<section aria-labelledby="tools-heading"><h2 id="tools-heading">Tools with access as you</h2>\n${content}</section>`;

/** The section when the tools cannot be listed, with `reason`. */
export const toolsUnlisted = (reason: string) => section(`<p id="tools-unread">They cannot be listed: ${reason}</p>`);

/** The home page's section: the tools with access as the logged-in employee, each with its button. */
export async function toolsSection(tools: ToolSessions, sealer: Sealer, session: { id: string; data: { user: { oid: string } } }) {
  const entries = await tools.access.list(session.data.user.oid);
  const token = sealer.seal(digest(session.id), PURPOSE);
  const list = entries.length
    ? `<ul class="plain" id="tools">${entries.map((entry) => row(entry, token)).join('\n')}</ul>`
    : '<p class="muted" id="tools-none">None: no tool has a session as you.</p>';
  const about =
    '<p class="muted">Tools you allowed through the token generator (<code>/oauth2/authorize</code> or a device code). ' +
    'Their access ends with the login that allowed them, when you log out, or here; ' +
    `past ${MAX_TOOL_ENTRIES} tools, a new one ends the oldest.</p>`;
  return section(`${about}\n${list}`);
}

const END_SCHEMA = {
  summary: 'Ends one tool\u2019s access as the employee: the button of the home page',
  consumes: ['application/x-www-form-urlencoded'],
  body: z.object({ csrf_token: Field.optional(), handle: Field.optional() }).optional(),
  response: answers({ 303: redirect('Back to the home page') }, errors(403, 503)),
};

export async function toolAccessRoutes(
  fastify: FastifyInstance,
  deps: { cookie: SessionCookie; sealer: Sealer; tools: ToolSessions; publicUrl: string },
) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { cookie, sealer, tools } = deps;
  app.post(PATHS.endTool, { schema: END_SCHEMA }, async (request, reply) => {
    refuseCrossSite(request, new URL(deps.publicUrl).origin);
    const session = await cookie.stored(request);
    const token = request.body?.csrf_token;
    const handle = request.body?.handle;
    if (!session) {
      // The home page left open in one tab while another logged out: not a page of another site, as the refusal below says.
      throw refuse(
        'invalid_csrf_token',
        'You are not logged in in this browser any more (logged out in another tab, perhaps), so nothing was ended here; the tools ' +
          'you allowed with that login ended with it. Log in and open the home page to see the tools that still have access as you.',
      );
    }
    if (typeof token !== 'string' || sealer.open(token, PURPOSE) !== digest(session.id) || typeof handle !== 'string')
      throw refuse('invalid_csrf_token', 'This did not come from your home page in this browser: open the home page and use its button.');
    if (await tools.endWhere(session.data.user.oid, (entry) => entry.handle === handle))
      request.log.info({ session: 'ended' }, 'tool session ended by the employee');
    return reply.header('cache-control', 'no-store').redirect(PATHS.home, 303);
  });
}
