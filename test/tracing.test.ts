// Traces (README, Traces): a real server process exports by OTLP/HTTP to a receiver in
// this test, which decodes the JSON it is sent. A client-credentials token request that
// carries a W3C traceparent comes back as one trace under the caller's trace id: the
// HTTP server span, storage client spans, the token endpoint's step spans; no secret in
// any attribute. Without an endpoint no OpenTelemetry module is loaded (but the API,
// which pg-boss always loads).
//
// The server runs as a child process (server/main.ts), as in production: tracing starts
// there before the storage clients and node:http load, which a server inside this test
// process (that has loaded them already) would miss.
import test from 'ava';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { testEnvironment } from './helpers/environment.ts';
import { startServerProcess } from './helpers/process.ts';
import { registerClient, TEST_IAT } from './helpers/oidc.ts';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

type OtlpAttribute = { key: string; value: Record<string, unknown> };
const attributeMap = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

/** An OTLP/HTTP receiver (JSON encoding, POST /v1/traces): every span it was sent, flattened. */
async function otlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    contentTypes.add(String(req.headers['content-type']));
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      resourceSpans: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans: { scope?: { name: string }; spans: (Omit<ReceivedSpan, 'attributes' | 'resource' | 'scope'> & { attributes?: OtlpAttribute[] })[] }[] }[];
    };
    for (const resourceSpans of body.resourceSpans) {
      for (const scopeSpans of resourceSpans.scopeSpans) {
        for (const span of scopeSpans.spans) {
          spans.push({
            ...span,
            scope: scopeSpans.scope?.name ?? '',
            attributes: attributeMap(span.attributes),
            resource: attributeMap(resourceSpans.resource?.attributes),
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Reports every OpenTelemetry module that the server process resolves, on stderr; all but
// the API, which pg-boss imports always (its optional telemetry: without an SDK, no-ops).
const WATCH_OTEL_MODULES = `--import=data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module';" +
    "registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context);" +
    " if (/[/]@opentelemetry[/](?!api[/])/.test(resolved.url)) process.stderr.write('otel-module-loaded ' + resolved.url + '\\n');" +
    ' return resolved; } });',
)}`;

async function stop(server: Awaited<ReturnType<typeof startServerProcess>>) {
  server.child.kill('SIGTERM');
  return server.exited;
}

test('a token request with a traceparent is one trace: HTTP, storage and token step spans, no secrets', async (t) => {
  const receiver = await otlpReceiver();
  const environment = await testEnvironment({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'enot-id-test',
    INITIAL_ACCESS_TOKEN: TEST_IAT,
  });
  const server = await startServerProcess(environment.env, [WATCH_OTEL_MODULES]);
  try {
    const issuer = environment.env.ISSUER!;
    const client = await registerClient(issuer);
    const { client_id: clientId, client_secret: clientSecret } = client.clientMetadata() as { client_id: string; client_secret: string };
    const authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

    // An authorization request first: in server mode it keeps its interaction in Redis.
    await fetch(`${issuer}/auth?client_id=${encodeURIComponent(clientId)}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://rp.example.test/callback')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&login_hint=secret-hint`, { redirect: 'manual' });
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const response = await fetch(`${issuer}/token?trace=query-must-not-show`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    t.is(response.status, 200, await response.clone().text());
    const { access_token: accessToken } = (await response.json()) as { access_token: string };
    t.truthy(accessToken);

    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    const serverSpan = await waitFor('the HTTP server span', () => inTrace().find((span) => span.scope === '@opentelemetry/instrumentation-http'));
    await waitFor('the token step span', () => inTrace().find((span) => span.name === 'oidc.token'));
    const spans = inTrace();
    const names = spans.map((span) => span.name);
    t.log(names.join(', '));

    // The caller's span is the parent of the request's: one trace across both.
    t.is(serverSpan.parentSpanId, callerSpanId);
    t.is(serverSpan.kind, 2, 'SERVER');
    t.is(serverSpan.name, 'POST token');
    t.is(serverSpan.attributes['http.route'], 'token');
    t.is(serverSpan.attributes['http.request.method'], 'POST');
    t.is(serverSpan.attributes['http.response.status_code'], 200);
    t.is(serverSpan.attributes['url.path'], '/token');
    t.false('url.query' in serverSpan.attributes, 'no query string');
    t.is(serverSpan.resource['service.name'], 'enot-id-test');

    const token = spans.find((span) => span.name === 'oidc.token')!;
    t.is(token.attributes['oauth.grant_type'], 'client_credentials');
    t.is(token.parentSpanId, serverSpan.spanId);
    t.true(names.includes('oidc.client_authentication'), names.join(', '));
    t.true(names.includes('oidc.resource_scopes'), names.join(', '));
    const storage = spans.filter((span) => ['@opentelemetry/instrumentation-pg', '@opentelemetry/instrumentation-ioredis'].includes(span.scope));
    t.true(storage.length > 0, `a PostgreSQL or Redis span among ${names.join(', ')}`);
    t.true(storage.every((span) => span.kind === 3), 'CLIENT');
    // Every span of the request is in the caller's trace, under the server span.
    const ids = new Set(spans.map((span) => span.spanId));
    t.true(spans.every((span) => span === serverSpan || ids.has(span.parentSpanId)), 'one tree');

    // No secret in any attribute of any span sent, this trace's or another's.
    const everything = JSON.stringify(receiver.spans.map((span) => [span.name, span.attributes, span.resource]));
    for (const [what, secret] of [
      ['client secret', clientSecret], ['access token', accessToken], ['Authorization header', authorization.slice('Basic '.length)],
      ['initial access token', TEST_IAT], ['query string', 'query-must-not-show'], ['login hint', 'secret-hint'],
    ]) {
      t.false(everything.includes(secret!), `${what} in a span attribute`);
    }
    // Redis commands by name only: their arguments hold keys with token and session ids.
    const redis = receiver.spans.filter((span) => span.scope === '@opentelemetry/instrumentation-ioredis');
    if (environment.env.REDIS_URL) t.true(redis.length > 0, 'Redis spans');
    t.true(redis.every((span) => /^[a-z]+$/.test(String(span.attributes['db.query.text']))), JSON.stringify(redis.map((span) => span.attributes)));
    t.deepEqual([...receiver.contentTypes], ['application/json']);
  } finally {
    const finished = await stop(server);
    await receiver.close();
    await environment.cleanup();
    t.is(finished.code, 0, finished.stderr);
    t.regex(finished.stderr, /otel-module-loaded .*@opentelemetry\/sdk-trace/, 'the watch sees OpenTelemetry when it is on');
  }
});

test('without an OTLP endpoint no OpenTelemetry SDK, exporter or instrumentation is loaded', async (t) => {
  const environment = await testEnvironment();
  const server = await startServerProcess(environment.env, [WATCH_OTEL_MODULES]);
  let finished;
  try {
    const response = await fetch(`${environment.env.ISSUER}/.well-known/openid-configuration`);
    t.is(response.status, 200);
  } finally {
    finished = await stop(server);
    await environment.cleanup();
  }
  t.is(finished.code, 0, finished.stderr);
  t.notRegex(finished.stderr, /otel-module-loaded/);
});
