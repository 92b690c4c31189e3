// Discovery and JWKS are built by oidc-provider once per provider and then given
// from memory (server/oidc/public-documents.ts): every later answer must be the one
// oidc-provider gave, headers included, at both discovery paths and every spelling
// its router answers, and still counted as oidc-provider's route.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';

const METRICS_TOKEN = 'metrics-token-discovery-0123456789-abcdef';
let server: TestServer;

test.before(async () => {
  server = await startTestServer({ METRICS_TOKEN });
});

test.after.always(async () => {
  await server?.stop();
});

const HEADERS = ['content-type', 'content-length', 'cache-control', 'vary', 'access-control-allow-origin'];
const picked = (response: Response) => Object.fromEntries(HEADERS.map((name) => [name, response.headers.get(name)]));

test('every answer is oidc-provider\'s first: body and headers, with the caller\'s Origin, at both paths and any spelling, HEAD too', async (t) => {
  const url = `${server.issuer}/.well-known/openid-configuration`;
  const first = await fetch(url);
  t.is(first.status, 200);
  const document = await first.text();
  const parsed = JSON.parse(document) as { issuer: string; jwks_uri: string };
  t.is(parsed.issuer, server.issuer);
  t.is(parsed.jwks_uri, `${server.issuer}/jwks`);
  t.deepEqual(picked(first), {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(document)),
    'cache-control': 'public, max-age=300',
    vary: 'Origin',
    'access-control-allow-origin': '*',
  });

  for (const path of ['/.well-known/openid-configuration', '/.well-known/OpenID-Configuration/', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration?x=1']) {
    const again = await fetch(`${server.issuer}${path}`);
    t.is(again.status, 200, path);
    t.is(await again.text(), document, path);
    t.deepEqual(picked(again), picked(first), path);
  }
  // oidc-provider's CORS for public routes: the caller's Origin comes back.
  const fromApp = await fetch(url, { headers: { origin: 'https://app.example.test' } });
  t.is(await fromApp.text(), document);
  t.is(fromApp.headers.get('access-control-allow-origin'), 'https://app.example.test');
  t.is(fromApp.headers.get('vary'), 'Origin');
  const head = await fetch(url, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(await head.text(), '');
  t.is(head.headers.get('content-length'), String(Buffer.byteLength(document)));
  // A preflight and other methods stay oidc-provider's.
  const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://app.example.test', 'access-control-request-method': 'GET' } });
  t.is(preflight.status, 204);
  t.is(preflight.headers.get('access-control-allow-methods'), 'GET');
  const post = await fetch(url, { method: 'POST' });
  t.not(post.status, 200);

  const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const counted = metrics.split('\n').find((l) => l.startsWith('enot_http_requests_total{') && l.includes('route="discovery"') && l.includes('status="200"') && l.includes('method="GET"'));
  t.true(Number(counted?.split(' ').at(-1)) >= 6, 'every GET counted as the discovery route');
});

test('JWKS: every answer is oidc-provider\'s first, with its content type and the one-minute caching', async (t) => {
  const url = `${server.issuer}/jwks`;
  const first = await fetch(url);
  t.is(first.status, 200);
  const keys = await first.text();
  t.true((JSON.parse(keys) as { keys: unknown[] }).keys.length > 0);
  t.is(first.headers.get('content-type'), 'application/jwk-set+json; charset=utf-8');
  t.is(first.headers.get('cache-control'), 'public, max-age=60');
  for (const path of ['/jwks', '/JWKS/', '/jwks?x=1']) {
    const again = await fetch(`${server.issuer}${path}`, { headers: { origin: 'https://app.example.test' } });
    t.is(await again.text(), keys, path);
    t.is(again.headers.get('content-type'), 'application/jwk-set+json; charset=utf-8', path);
    t.is(again.headers.get('cache-control'), 'public, max-age=60', path);
    t.is(again.headers.get('access-control-allow-origin'), 'https://app.example.test', path);
  }
  const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const counted = metrics.split('\n').find((l) => l.startsWith('enot_http_requests_total{') && l.includes('route="jwks"') && l.includes('status="200"'));
  t.true(Number(counted?.split(' ').at(-1)) >= 4);
});
