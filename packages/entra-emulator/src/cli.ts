/**
 * The command line of `entra-emulator`: start the emulator (flags are the EMULATOR_* variables by
 * another name), or ask a running one for an app's NAIS environment or a new signing key.
 */
import { withCommandPort } from './command-port.js';

export const HELP = `Usage:
  entra-emulator [options]                     start the Entra ID emulator
  entra-emulator env <cluster:namespace:app>   print what NAIS would inject into that app, as dotenv lines
      --json                                   as a JSON object instead
  entra-emulator rotate-key                    make a new signing key (the old one stays published for a while)
  entra-emulator --help

Options for starting (each is also an environment variable):
  --manifests <path>     NAIS manifests, a file or a folder; may be given more than once    EMULATOR_MANIFESTS
  --cluster <name>       the cluster those manifests are deployed to (default dev-gcp)       EMULATOR_CLUSTER
  --directory <file>     a directory file: manifests, employees, apps' credentials          EMULATOR_DIRECTORY
  --port <port>          the port (default 8081)                                             EMULATOR_PORT
  --state-dir <folder>   where the tenant, keys and secrets are kept between starts          EMULATOR_STATE_DIR
                         (default $XDG_STATE_HOME/entra-emulator or ~/.local/state/entra-emulator)
  --tls                  serve HTTPS with a certificate of a local CA kept in the state folder  EMULATOR_TLS=self-signed

env and rotate-key talk to the running emulator at --url, $EMULATOR_URL or http://localhost:$EMULATOR_PORT (8081 when unset).
`;

export type Command =
  | { name: 'help' }
  | { name: 'start'; env: Record<string, string> }
  | { name: 'env'; target: string; json: boolean; url: string }
  | { name: 'rotate-key'; url: string };

export class UsageError extends Error {}

const START_FLAGS: Record<string, string> = {
  '--cluster': 'EMULATOR_CLUSTER',
  '--directory': 'EMULATOR_DIRECTORY',
  '--port': 'EMULATOR_PORT',
  '--state-dir': 'EMULATOR_STATE_DIR',
};

/** The command an argument list asks for; throws UsageError with a one-line reason. */
export function parseCommand(argv: string[], env: NodeJS.ProcessEnv): Command {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') return { name: 'help' };
  const valueOf = (flag: string): string => {
    const value = args.shift();
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return value;
  };
  const first = args[0];
  if (first === 'env' || first === 'rotate-key') {
    args.shift();
    let url = env.EMULATOR_URL?.trim() || `http://localhost:${withCommandPort(env).EMULATOR_PORT}`;
    let json = false;
    let target: string | undefined;
    while (args.length > 0) {
      const arg = args.shift()!;
      if (arg === '--json' && first === 'env') json = true;
      else if (arg === '--url') url = valueOf(arg);
      else if (!arg.startsWith('-') && first === 'env' && target === undefined) target = arg;
      else throw new UsageError(`unknown argument for ${first}: ${arg}`);
    }
    if (!URL.canParse(url)) throw new UsageError(`--url: ${JSON.stringify(url)} is not a URL`);
    url = url.replace(/\/+$/, '');
    if (first === 'rotate-key') return { name: 'rotate-key', url };
    if (!target) throw new UsageError('env needs the app: entra-emulator env <cluster:namespace:app>');
    return { name: 'env', target, json, url };
  }
  const overrides: Record<string, string> = {};
  const manifests: string[] = [];
  while (args.length > 0) {
    const arg = args.shift()!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--tls' && inline === undefined) overrides.EMULATOR_TLS = 'self-signed';
    else if (flag === '--manifests') manifests.push(inline ?? valueOf(flag));
    else if (START_FLAGS[flag]) overrides[START_FLAGS[flag]] = inline ?? valueOf(flag);
    else throw new UsageError(`unknown argument: ${arg} (see entra-emulator --help)`);
  }
  if (manifests.length > 0) overrides.EMULATOR_MANIFESTS = manifests.join(',');
  return { name: 'start', env: overrides };
}

const noEmulator = (origin: string) =>
  `entra-emulator: no emulator answers at ${origin}: start one with \`npx entra-emulator\`, or say where it is with --url\n`;

/**
 * Whether the emulator at `url` has the app: one line to standard error when it does not (naming the
 * apps it has) or when no emulator answers there. In an open directory an app is had once it was named
 * (by a token request, the env route or a manifest): asking one that never heard of it is most likely
 * asking the wrong emulator.
 */
async function hasApp(url: string, target: string): Promise<boolean> {
  let listed: { directory?: unknown; apps?: unknown } | undefined;
  try {
    const res = await fetch(`${url}/apps`, { signal: AbortSignal.timeout(10_000) });
    listed = res.ok ? ((await res.json()) as typeof listed) : undefined;
  } catch {
    process.stderr.write(noEmulator(url));
    return false;
  }
  if (!listed || !Array.isArray(listed.apps)) {
    process.stderr.write(`entra-emulator: ${url} is not an Entra ID emulator (no list of apps at /apps): check --url\n`);
    return false;
  }
  const apps = listed.apps.filter((app): app is string => typeof app === 'string');
  if (apps.includes(target)) return true;
  const open = listed.directory === 'open' ? ` (an open directory: it makes an app when one first asks for a token)` : '';
  process.stderr.write(
    `entra-emulator: the emulator at ${url} has no app ${target}${open}; it has ${apps.join(', ') || 'none'}. ` +
      `If yours runs elsewhere, add --url <its URL>\n`,
  );
  return false;
}

/** Prints an app's environment from the running emulator, once it is known to have that app; the exit code. */
export async function printEnvironment(
  command: { target: string; json: boolean; url: string },
  out: NodeJS.WritableStream,
): Promise<number> {
  if (!(await hasApp(command.url, command.target))) return 1;
  const url = `${command.url}/apps/${encodeURIComponent(command.target)}/env${command.json ? '' : '?format=dotenv'}`;
  return fetchAndPrint(url, { method: 'GET' }, out);
}

export async function rotateKey(command: { url: string }, out: NodeJS.WritableStream): Promise<number> {
  return fetchAndPrint(`${command.url}/signing-keys/rotate`, { method: 'POST' }, out);
}

async function fetchAndPrint(url: string, init: RequestInit, out: NodeJS.WritableStream): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch {
    process.stderr.write(noEmulator(new URL(url).origin));
    return 1;
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error_description?: string }).error_description ?? text;
    } catch {
      // not JSON: the text as it came
    }
    process.stderr.write(`entra-emulator: ${message.split('\n')[0]}\n`);
    return 1;
  }
  out.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}
