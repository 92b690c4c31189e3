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
