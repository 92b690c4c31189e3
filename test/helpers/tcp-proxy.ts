// A TCP proxy a test controls, to take a dependency (PostgreSQL, Redis) away
// and give it back without touching the real service.
//
// cut() destroys every forwarded connection and stops listening, so new
// connections are refused (ECONNREFUSED), as when the service is down;
// restore() listens again on the same port and forwards as before.
//
// freeze() is a partition instead: packets silently dropped, no reset. Nothing
// is forwarded any more in either direction, but every connection stays open,
// and new connections are accepted and then left without an answer (as close as
// a loopback proxy gets to a SYN that goes unanswered). thaw() forwards
// everything that waited, as TCP's retransmissions would once the path is back.
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
  /** Stops forwarding, keeping every connection open; new ones are accepted and held. */
  freeze(): void;
  /** Forwards again, including what was sent and the connections opened meanwhile. */
  thaw(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  /** Opened when the client connects, or at thaw() for a connection accepted while frozen. */
  upstream?: net.Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  let frozen = false;

  function drop(pair: Pair) {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  function connectUpstream(pair: Pair) {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', () => drop(pair)).on('close', () => drop(pair));
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
  }

  function forward(client: net.Socket) {
    accepted++;
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('error', () => drop(pair)).on('close', () => drop(pair));
    if (frozen) client.pause();
    else connectUpstream(pair);
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
      upstream?.destroy();
    }
    pairs.clear();
  }

  let server: net.Server | undefined = await listen(0);
  const port = (server.address() as AddressInfo).port;

  async function stop() {
    frozen = false;
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
    freeze() {
      frozen = true;
      for (const { client, upstream } of pairs) {
        if (!upstream) continue;
        // Unpiped and paused, what arrives stays in the sockets' buffers, unread.
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const pair of pairs) {
        if (!pair.upstream) connectUpstream(pair);
        else {
          // pipe() resumes the source, so what waited flows on.
          pair.client.pipe(pair.upstream);
          pair.upstream.pipe(pair.client);
        }
      }
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
