import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Where the system takes the local ports of outgoing connections and of `listen(0)` from (Linux says so in /proc; elsewhere,
 * its usual range). A port found free in it can be taken by any connection the machine opens before the test listens on
 * it; one below it is taken only by a program that asks for that number.
 */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && Number.isInteger(low) && low > 2048) return low;
  } catch {
    // Not Linux: the range most systems use.
  }
  return 49152;
}

const BELOW = ephemeralStart();
/** Ports chosen from: the twelve thousand below the system's range, clear of the well-known ones. */
const LOWEST = Math.max(1024, BELOW - 12_000);
/** Handed out by this process: two servers of one test asking at once never get one port. */
const given = new Set<number>();

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port that was free a moment ago, for services that must know their own URL before they listen. Chosen at random below
 * the system's range of ephemeral ports, so that a connection opened meanwhile (a browser's, a Redis client's, another test
 * file's) cannot take it between this check and the service's `listen`.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (BELOW - LOWEST));
    if (given.has(port)) continue;
    if (await free(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${LOWEST} and ${BELOW - 1}`);
}
