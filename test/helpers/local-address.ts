// A fetch that connects from a chosen local address, so one test can be
// several clients with their own IPs: Linux routes all of 127.0.0.0/8 to
// loopback, so 127.0.0.2 and 127.0.0.3 reach a server on 127.0.0.1 and the
// server sees them as ctx.ip. (Node's built-in fetch cannot pick a local
// address without the undici package, so this speaks node:http.)
import http from 'node:http';

export type FetchLike = (input: URL | string, init?: RequestInit) => Promise<Response>;

export function fetchFrom(localAddress: string): FetchLike {
  return (input, init = {}) => new Promise((resolve, reject) => {
    const url = new URL(String(input));
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => { headers[key] = value; });
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const request = http.request(url, { method: init.method ?? 'GET', headers, localAddress }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const out = new Headers();
        for (const [key, value] of Object.entries(response.headers)) {
          for (const one of Array.isArray(value) ? value : [value ?? '']) out.append(key, one);
        }
        const status = response.statusCode ?? 500;
        const noBody = status === 204 || status === 304;
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers: out }));
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}
