/** Microsoft Graph, which exists in every tenant, as the emulator knows it. */
import type { Resource } from './model.js';

/** Microsoft Graph's app id, the same in every tenant. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_URL = 'https://graph.microsoft.com';
const GRAPH_NAMES = new Set([GRAPH_APP_ID, GRAPH_URL, `api://${GRAPH_APP_ID}`]);
export const GRAPH: Resource = { target: 'graph', clientId: GRAPH_APP_ID };
/** What every user has consented to for Graph: signing in and reading their profile. */
export const GRAPH_DELEGATED_SCOPE = 'openid profile email User.Read';

/** Graph asked for by name: its tokens' aud is the URL when the URL named it, as Entra's are. */
export function graphNamed(name: string): Resource {
  return name === GRAPH_URL ? { ...GRAPH, audience: GRAPH_URL } : GRAPH;
}

export function isGraph(name: string): boolean {
  return GRAPH_NAMES.has(name);
}
