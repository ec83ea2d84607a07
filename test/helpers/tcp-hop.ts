/**
 * A TCP hop between clients and a server (Redis) that can hold what the clients send, as a network path that stalls
 * does, and let it through later, in order: the server runs those commands late, after what other clients sent meanwhile.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpHop {
  port: number;
  /** From now on, what the clients send waits in the hop (their connections stay open, unanswered). */
  hold(): void;
  /** Sends on what waited, in order, and what comes after. */
  release(): void;
  /** Bytes waiting in the hop. */
  held(): number;
  close(): Promise<void>;
}

export async function startTcpHop(target: { host?: string; port: number }): Promise<TcpHop> {
  let holding = false;
  const links = new Set<{ client: Socket; server: Socket; waiting: Buffer[] }>();
  const hop = createServer((client) => {
    const server = connect(target.port, target.host ?? '127.0.0.1');
    const link = { client, server, waiting: [] as Buffer[] };
    links.add(link);
    client.on('data', (chunk: Buffer) => (holding ? link.waiting.push(chunk) : server.write(chunk)));
    server.pipe(client);
    const end = () => {
      links.delete(link);
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => hop.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (hop.address() as AddressInfo).port,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const link of links) for (const chunk of link.waiting.splice(0)) link.server.write(chunk);
    },
    held: () => [...links].reduce((sum, link) => sum + link.waiting.reduce((bytes, chunk) => bytes + chunk.length, 0), 0),
    close: async () => {
      for (const { client, server } of links) {
        client.destroy();
        server.destroy();
      }
      await new Promise<void>((resolve) => hop.close(() => resolve()));
    },
  };
}
