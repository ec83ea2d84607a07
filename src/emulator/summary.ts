/** What the directory holds, in a few lines for people. */
import type { Directory } from './directory.js';

export function describeDirectory(directory: Directory): string {
  const lines: string[] = [];
  if (!directory.manifests) {
    const { unauthorized, missing } = directory.exceptions;
    const open = 'directory: open (every cluster:namespace:app exists and has authorized every registered client)';
    lines.push(unauthorized.length || missing.length ? `${open}, except:` : open);
    if (unauthorized.length) lines.push(`  authorized nobody (AADSTS501051 / 65001): ${unauthorized.join(', ')}`);
    if (missing.length) lines.push(`  not in the tenant (AADSTS500011): ${missing.join(', ')}`);
  } else {
    const apps = [...directory.manifests.values()];
    lines.push(`directory: from NAIS manifests, ${apps.length} app${apps.length === 1 ? '' : 's'}`);
    for (const app of apps) {
      const users = app.allowAllUsers ? 'all users' : app.groups.length ? `groups ${app.groups.join(', ')}` : 'no users';
      const rules = app.rules.map((rule) => `${rule.cluster}:${rule.namespace}:${rule.application}`).join(', ') || 'none';
      lines.push(`  ${app.target}${app.enabled ? '' : ' (Entra ID not enabled)'}: inbound ${rules}; ${users}`);
    }
  }
  lines.push(`employees: ${directory.employees.map((e) => `${e.navIdent} (${e.name}${e.groups.length ? `; ${e.groups.join(', ')}` : ''})`).join(', ')}`);
  return lines.join('\n');
}
