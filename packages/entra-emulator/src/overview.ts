/**
 * What the emulator holds, said once and shown twice: as the start-up summary and as the page at
 * its root. Every app with its client id, who may call it, whether it has secrets (never their
 * values) and the command that prints its environment; the exceptions of the open directory; the
 * test employees; and examples that work with this directory.
 */
import { COMMAND_PORT } from './command-port.js';
import { texasPath, type Apps } from './apps.js';
import type { Directory } from './directory.js';
import { escapeHtml } from '../../../src/escape-html.js';
import { html } from './login/pages.js';
import type { ManifestApp } from './model.js';

export interface AppOverview {
  target: string;
  clientId: string;
  /** Who may call it: the apps its inbound rules name, or everyone in the open directory. */
  callers: string[];
  /** Which users may sign in to it or get tokens for it. */
  users: string;
  secrets: number;
  certificates: number;
  replyUrls: string[];
  envCommand: string;
}

export interface Overview {
  mode: 'open' | 'manifests';
  apps: AppOverview[];
  /** Manifests that do not enable Entra ID: not apps of the tenant. */
  notEnabled: string[];
  unauthorized: string[];
  missing: string[];
  employees: string[];
  examples: string[];
}

function usersOf(app: ManifestApp | undefined): string {
  if (!app) return 'all users';
  if (app.allowAllUsers) return 'all users';
  return app.groups.length ? `members of ${app.groups.join(', ')}` : 'no users (neither allowAllUsers nor claims.groups)';
}

/** Where `entra-emulator` looks by default; a hint for an emulator elsewhere carries --url. */
export const DEFAULT_EMULATOR_URL = `http://localhost:${COMMAND_PORT}`;

/** The command that prints an app's environment from this emulator, as a reader can paste it. */
export function envCommand(target: string, baseUrl: string): string {
  return `npx entra-emulator env ${target}${baseUrl === DEFAULT_EMULATOR_URL ? '' : ` --url ${baseUrl}`}`;
}

export function overview(directory: Directory, apps: Apps, baseUrl: string): Overview {
  const manifests = directory.manifests;
  const list = apps.targets().map((target): AppOverview => {
    const clientId = directory.clientIdFor(target);
    const client = directory.clients.get(clientId);
    const app = manifests?.get(target);
    const keys = [...(client?.keys.values() ?? [])];
    return {
      target,
      clientId,
      callers: app
        ? app.rules.map((rule) => `${rule.cluster}:${rule.namespace}:${rule.application}`)
        : manifests
          ? []
          : ['every registered app'],
      users: usersOf(app),
      secrets: client?.secrets.length ?? 0,
      certificates: keys.filter((key) => key.x5t !== undefined).length,
      replyUrls: [...(client?.redirectUris ?? [])].map(([uri, type]) => (type === 'web' ? uri : `${uri} (${type})`)),
      envCommand: envCommand(target, baseUrl),
    };
  });
  return {
    mode: manifests ? 'manifests' : 'open',
    apps: list,
    notEnabled: [...(manifests?.values() ?? [])].filter((app) => !app.enabled).map((app) => app.target),
    unauthorized: [...directory.unauthorized].sort(),
    missing: [...directory.missing].sort(),
    employees: directory.employees.map((e) => `${e.navIdent} (${e.name}${e.groups.length ? `; groups ${e.groups.join(', ')}` : ''})`),
    examples: examples(directory, list, baseUrl),
  };
}

/** A call that succeeds with this directory: an app token through Texas's API for an app that lets the caller in. */
function examples(directory: Directory, list: AppOverview[], baseUrl: string): string[] {
  let pair: { caller: string; target: string } | undefined;
  if (directory.manifests) {
    for (const target of list) {
      const caller = list.find((candidate) => candidate.target !== target.target && target.callers.includes(candidate.target));
      if (caller) {
        pair = { caller: caller.target, target: target.target };
        break;
      }
    }
  } else {
    const taken = new Set([...directory.unauthorized, ...directory.missing]);
    const caller = list[0]?.target ?? ['dev-gcp:my-team:my-app', 'dev-gcp:my-team:my-app-2'].find((name) => !taken.has(name))!;
    const target = ['dev-gcp:my-team:my-api', 'dev-gcp:my-team:my-api-2', 'dev-gcp:my-team:my-api-3'].find(
      (name) => !taken.has(name) && name !== caller,
    )!;
    pair = { caller, target };
  }
  if (!pair) return [];
  const [cluster, namespace, app] = pair.target.split(':');
  return [
    directory.manifests || list.some((app) => app.target === pair.caller)
      ? `${envCommand(pair.caller, baseUrl)} > .env.local`
      : // `entra-emulator env` names only apps the emulator has; the route registers one in the open directory.
        `curl -s '${baseUrl}${texasPath(pair.caller)}/env?format=dotenv' > .env.local`,
    `curl -s ${baseUrl}${texasPath(pair.caller)}/api/v1/token -d identity_provider=entra_id -d ` +
      `target=api://${cluster}.${namespace}.${app}/.default`,
  ];
}

export function summaryText(view: Overview): string {
  const lines: string[] = [];
  lines.push(
    view.mode === 'open'
      ? 'directory: open (every cluster:namespace:app exists and has authorized every registered client)'
      : `directory: from NAIS manifests, ${view.apps.length} app${view.apps.length === 1 ? '' : 's'}`,
  );
  for (const app of view.apps) {
    const credentials = [
      app.secrets ? `${app.secrets} secret${app.secrets === 1 ? '' : 's'}` : 'no secret',
      ...(app.certificates ? [`${app.certificates} certificate(s)`] : []),
    ];
    lines.push(`  ${app.target}  client id ${app.clientId}`);
    lines.push(
      `    callers: ${app.callers.join(', ') || 'none'}; users: ${app.users}; ` +
        `${credentials.join(', ')}${app.replyUrls.length ? `; reply URLs ${app.replyUrls.join(', ')}` : ''}`,
    );
    lines.push(`    environment: ${app.envCommand}`);
  }
  if (view.notEnabled.length) lines.push(`  without Entra ID (not in the tenant): ${view.notEnabled.join(', ')}`);
  if (view.unauthorized.length)
    lines.push(`exceptions: authorized nobody (EMULATOR_UNAUTHORIZED_TARGETS): ${view.unauthorized.join(', ')}`);
  if (view.missing.length) lines.push(`exceptions: not in the tenant (EMULATOR_MISSING_TARGETS): ${view.missing.join(', ')}`);
  lines.push(`employees: ${view.employees.join(', ')}`);
  if (view.examples.length) lines.push('try:', ...view.examples.map((example) => `  ${example}`));
  return lines.join('\n');
}

export function overviewPage(view: Overview, meta: { tenantId: string; wellKnownUrl: string }): string {
  const rows = view.apps
    .map(
      (app) => `<tr><td><code>${escapeHtml(app.target)}</code></td><td><code>${escapeHtml(app.clientId)}</code></td>
<td>${app.callers.map((caller) => `<code>${escapeHtml(caller)}</code>`).join('<br>') || 'none'}</td><td>${escapeHtml(app.users)}</td>
<td>${app.secrets ? `${app.secrets} secret${app.secrets === 1 ? '' : 's'}` : 'none'}
${app.certificates ? `, ${app.certificates} certificate(s)` : ''}</td>
<td>${app.replyUrls.map((url) => `<code>${escapeHtml(url)}</code>`).join('<br>') || 'none'}</td><td>
<code>${escapeHtml(app.envCommand)}</code></td></tr>`,
    )
    .join('\n');
  const list = (title: string, items: string[]) =>
    items.length
      ? `<h2>${escapeHtml(title)}</h2><ul>${items.map((item) => `<li><code>${escapeHtml(item)}</code></li>`).join('')}</ul>`
      : '';
  return html(
    'Entra ID emulator',
    `<div class="overview"><h1>Entra ID emulator</h1>
<p class="muted">tenant <code>${escapeHtml(meta.tenantId)}</code> · <a href="${escapeHtml(meta.wellKnownUrl)}">discovery document</a></p>
<p>${
      view.mode === 'open'
        ? 'Open directory: every ' + '<code>cluster:namespace:app</code> exists and has authorized every registered app.'
        : 'Directory from NAIS manifests: only these apps exist.'
    }</p>
<h2>Apps</h2>
<table><thead><tr><th scope="col">app</th><th scope="col">client id</th><th scope="col">callers</th><th scope="col">users</th>
<th scope="col">credentials</th><th scope="col">reply URLs</th><th scope="col">environment</th></tr></thead>
<tbody>${rows || '<tr><td colspan="7">none yet</td></tr>'}</tbody></table>
${list('Without Entra ID (not in the tenant)', view.notEnabled)}
${list('Authorized nobody (EMULATOR_UNAUTHORIZED_TARGETS)', view.unauthorized)}
${list('Not in the tenant (EMULATOR_MISSING_TARGETS)', view.missing)}
${list('Test employees', view.employees)}
${list('Try', view.examples)}</div>`,
  );
}
