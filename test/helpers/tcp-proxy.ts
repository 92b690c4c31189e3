// A TCP proxy a test controls, to take a dependency (PostgreSQL, Redis) away
// and give it back without touching the real service. cut() destroys every
// forwarded connection and stops listening, so new connections are refused
// (ECONNREFUSED), as when the service is down; restore() listens again on the
// same port and forwards as before.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** The 127.0.0.1 port the proxy listens on (the same across cut/restore). */
  readonly port: number;
  /** Connections currently forwarded. */
  readonly open: number;
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Resets every forwarded connection and refuses new ones until restore(). */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let accepted = 0;

  function forward(client: net.Socket) {
    accepted++;
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  function listen(port: number): Promise<net.Server> {
    const server = net.createServer(forward);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  }

  function dropAll() {
    for (const { client, upstream } of pairs) {
      // A reset, as when the peer's host goes away, not a polite FIN.
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  }

  let server: net.Server | undefined = await listen(0);
  const port = (server.address() as AddressInfo).port;

  async function stop() {
    const closing = server;
    server = undefined;
    if (closing) {
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      dropAll();
      await closed;
    } else {
      dropAll();
    }
  }

  return {
    port,
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    cut: stop,
    async restore() {
      if (!server) server = await listen(port);
    },
    close: stop,
  };
}

/** host and port of a postgres:// or redis:// URL (default: the scheme's port). */
export function endpointOf(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port) || defaultPort };
}

/** The same URL, pointing at the proxy on 127.0.0.1. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.href;
}
