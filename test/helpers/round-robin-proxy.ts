// A load balancer for tests: each request goes to the next backend in turn, so
// consecutive steps of one journey land on different server processes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startRoundRobinProxy(port: number, backends: string[]) {
  let next = 0;
  const hits = backends.map(() => 0);
  const server = http.createServer((req, res) => {
    const index = next++ % backends.length;
    hits[index]!++;
    const target = new URL(req.url ?? '/', backends[index]);
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Two server processes on one storage (PostgreSQL + Redis) behind a round-robin
 * proxy whose URL is the issuer. Everything is stopped at the end of the test.
 */
export async function startTwoProcesses(
  t: { teardown(fn: () => unknown): void },
  overrides: Record<string, string> = {},
) {
  const { freePort, testEnvironment } = await import('./environment.ts');
  const { startTestServer } = await import('./server.ts');
  const proxyPort = await freePort();
  const issuer = `http://127.0.0.1:${proxyPort}`;
  const environment = await testEnvironment({ ...overrides, ISSUER: issuer });
  t.teardown(() => environment.cleanup());
  const a = await startTestServer({}, environment);
  t.teardown(() => a.close());
  const b = await startTestServer({}, { ...environment, env: { ...environment.env, PORT: String(await freePort()) } });
  t.teardown(() => b.close());
  const proxy = await startRoundRobinProxy(proxyPort, [a.url, b.url]);
  t.teardown(() => proxy.close());
  return { issuer, a, b, proxy };
}
