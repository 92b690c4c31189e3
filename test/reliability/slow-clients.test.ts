// Slow clients: a slow-loris connection (headers one byte at a time, never
// finished) is dropped once the header timeout (10 s, the real setting) has
// passed, while everyone else is served as usual; a body that trickles in is
// cut off by the request timeout (30 s in production, shortened here through
// startServer's httpTimeouts option); oversized headers and bodies are refused
// without spoiling the keep-alive connection they came on.
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { registerClient, TEST_IAT } from '../helpers/oidc.ts';

/** The server's settings (server/server.ts). */
const HEADERS_TIMEOUT_MS = 10_000;

let server: TestServer;
let basic: string;

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  const rp = await registerClient(server.issuer);
  const { client_id, client_secret } = rp.clientMetadata();
  basic = `Basic ${Buffer.from(`${client_id}:${client_secret as string}`).toString('base64')}`;
});

test.after.always(async () => {
  await server?.stop();
});

const port = () => Number(new URL(server.url).port);

/**
 * Opens a connection that sends a request's headers one byte every `everyMs`
 * and never finishes them; resolves with when (ms after opening) the server
 * closed it, and what it answered, if anything.
 */
function slowLoris(everyMs: number, giveUpMs: number) {
  return new Promise<{ closedAfterMs: number; answer: string; bytesSent: number }>((resolve) => {
    const socket = net.connect(port(), '127.0.0.1');
    const opened = performance.now();
    const text = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-loris\r\n${'X-Padding: a\r\n'.repeat(1000)}`;
    let sent = 0;
    let answer = '';
    const drip = setInterval(() => {
      if (sent < text.length && socket.writable) socket.write(text[sent++]!);
    }, everyMs);
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: performance.now() - opened, answer, bytesSent: sent });
    });
  });
}

async function timed(path: string, init?: RequestInit) {
  const started = performance.now();
  try {
    const response = await fetch(`${server.url}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
    await response.text();
    return { path, status: response.status, ms: performance.now() - started };
  } catch (err) {
    return { path, status: 0, ms: performance.now() - started, error: String(err) };
  }
}

test.serial('slow-loris connections are dropped after the header timeout, and others are served meanwhile', async (t) => {
  // Twenty of them, one byte every 200 ms each: each alone would take minutes to finish its headers.
  const lorises = Array.from({ length: 20 }, () => slowLoris(200, 30_000));

  // Meanwhile, normal requests keep being answered quickly.
  const during: Awaited<ReturnType<typeof timed>>[] = [];
  const deadline = performance.now() + HEADERS_TIMEOUT_MS - 1_000;
  while (performance.now() < deadline) {
    during.push(await timed('/healthz'));
    during.push(
      await timed('/token', {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=api%3Aread',
      }),
    );
    await new Promise((r) => setTimeout(r, 250));
  }

  const dropped = await Promise.all(lorises);
  const slowest = Math.max(...during.map((d) => d.ms));
  t.log(`${during.length} normal requests during the slow-loris, slowest ${Math.round(slowest)} ms; lorises closed after ${dropped.map((d) => (d.closedAfterMs / 1000).toFixed(1)).join(', ')} s`);

  t.true(during.every((d) => d.status === 200), JSON.stringify(during));
  t.true(slowest < 1_000, `normal requests stayed fast (slowest ${Math.round(slowest)} ms)`);
  for (const loris of dropped) {
    // Not before the timeout (they were still sending), and not much after it.
    t.true(loris.closedAfterMs >= HEADERS_TIMEOUT_MS - 500, `closed after ${Math.round(loris.closedAfterMs)} ms`);
    t.true(loris.closedAfterMs < HEADERS_TIMEOUT_MS + 3_000, `dropped by the server after ${Math.round(loris.closedAfterMs)} ms`);
    // Node answers a header timeout with 408 before closing.
    t.regex(loris.answer, /^HTTP\/1\.1 408 /);
    t.true(loris.bytesSent < 200, 'the headers were never finished');
  }
  // And the server is still fine.
  t.is((await timed('/readyz')).status, 200);
});

/** One request on `agent` (keep-alive, one socket: every request reuses the same connection). */
function request(agent: http.Agent, path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[] } = {}) {
  return new Promise<{ status: number; text: string; ms: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const started = performance.now();
    const body = options.body;
    // A Buffer goes with its Content-Length; an array of chunks goes chunked (no declared length).
    const headers = Buffer.isBuffer(body) ? { ...options.headers, 'content-length': String(body.length) } : options.headers;
    const req = http.request(`${server.url}${path}`, { agent, method: options.method ?? 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text, ms: performance.now() - started, headers: res.headers }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body) req.write(body);
    req.end();
  });
}

const form = (extra: Record<string, string> = {}) => ({ authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...extra });
const tokenBody = Buffer.from('grant_type=client_credentials&scope=api%3Aread');

test.serial('a header section over 16 KiB is refused with 431; a body over 56 KiB with 413, declared or chunked, and the connection stays usable', async (t) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());

  const bigHeader = await fetch(`${server.url}/healthz`, { headers: { 'x-big': 'a'.repeat(20_000) } });
  t.is(bigHeader.status, 431);

  const declared = await request(agent, '/token', { method: 'POST', headers: form(), body: Buffer.from(`grant_type=client_credentials&x=${'a'.repeat(57 * 1024)}`) });
  t.is(declared.status, 413);
  t.is((JSON.parse(declared.text) as { error: string }).error, 'invalid_request');
  t.is((await request(agent, '/token', { method: 'POST', headers: form(), body: tokenBody })).status, 200, 'the next request on that connection is answered');

  // Without a declared length (chunked), oidc-provider stops reading at 56 KiB; the answer is 413 all the same.
  const chunks = Array.from({ length: 20 }, (_, i) => Buffer.from(`x${i}=${'a'.repeat(10 * 1024)}&`));
  const chunked = await request(agent, '/token', { method: 'POST', headers: form(), body: chunks });
  t.is(chunked.status, 413, chunked.text);
  t.deepEqual(JSON.parse(chunked.text), { error: 'invalid_request', error_description: 'the request body is too large' });
  t.notRegex(chunked.text, /\n\s+at .+:\d+:\d+|node_modules/);
  // The unread rest of that body must not block what comes next on the same agent.
  for (let i = 0; i < 3; i++) {
    const next = await request(agent, '/token', { method: 'POST', headers: form(), body: tokenBody });
    t.is(next.status, 200);
    t.true(next.ms < 1_000, `answered in ${Math.round(next.ms)} ms`);
  }

  // A browser gets the 413 as a page; on registration (JSON) and introspection too.
  const page = await request(agent, '/token', { method: 'POST', headers: form({ accept: 'text/html' }), body: chunks });
  t.is(page.status, 413);
  t.regex(page.text, /<html[\s\S]*too large/i);
  const registration = await request(agent, '/reg', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${TEST_IAT}` },
    body: [Buffer.from('{"client_name":"'), ...chunks, Buffer.from('"}')],
  });
  t.is(registration.status, 413, registration.text);
  t.is((JSON.parse(registration.text) as { error: string }).error, 'invalid_request');
  const introspection = await request(agent, '/token/introspection', { method: 'POST', headers: form(), body: chunks });
  t.is(introspection.status, 413, introspection.text);

  // A chunked body under the limit is read as before.
  const underLimit = [Buffer.from('grant_type=client_credentials&scope=api%3Aread&'), ...chunks.slice(0, 4)];
  const fine = await request(agent, '/token', { method: 'POST', headers: form(), body: underLimit });
  t.is(fine.status, 200, fine.text);
});

test.serial('a body under the limit that nothing reads (OPTIONS, a 404) is drained: its answer arrives and the connection stays usable (found by the fuzzer)', async (t) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const body = Buffer.from(`{"x":"${'['.repeat(53 * 1024)}"}`);
  for (const [method, path] of [['OPTIONS', '/token/introspection/x'], ['POST', '/no/such/route'], ['GET', '/healthz']] as const) {
    const unread = await request(agent, path, { method, headers: form(), body });
    t.true(unread.status >= 200 && unread.status < 500, `${method} ${path}: ${unread.status}`);
    t.not(unread.headers.connection, 'close', `${method} ${path}: the connection is kept`);
    const next = await request(agent, '/token', { method: 'POST', headers: form(), body: tokenBody });
    t.is(next.status, 200, 'the next request on that connection is answered');
  }
});

test.serial('a body that trickles in is cut off by the request timeout (shortened to 3 s here), and others are served meanwhile', async (t) => {
  const quick = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT }, undefined, { httpTimeouts: { headersMs: 2_000, requestMs: 3_000 } });
  t.teardown(() => quick.stop());
  const quickPort = Number(new URL(quick.url).port);
  const trickling = new Promise<{ closedAfterMs: number; answer: string }>((resolve) => {
    const socket = net.connect(quickPort, '127.0.0.1');
    const opened = performance.now();
    let answer = '';
    // Complete headers announcing 1000 bytes, then one byte every 100 ms (100 s in all).
    socket.write(`POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n`);
    const drip = setInterval(() => socket.writable && socket.write('a'), 100);
    const giveUp = setTimeout(() => socket.destroy(), 15_000);
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: performance.now() - opened, answer });
    });
  });
  // Meanwhile, a normal request is answered at once.
  await new Promise((r) => setTimeout(r, 500));
  const started = performance.now();
  const normal = await fetch(`${quick.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  t.is(normal.status, 200);
  t.true(performance.now() - started < 1_000);
  const result = await trickling;
  t.log(`trickling body closed after ${(result.closedAfterMs / 1000).toFixed(1)} s: ${JSON.stringify(result.answer.split('\r\n')[0])}`);
  t.true(result.closedAfterMs >= 2_500 && result.closedAfterMs < 6_000, `closed after ${Math.round(result.closedAfterMs)} ms`);
  t.regex(result.answer, /^HTTP\/1\.1 408 /);
});
