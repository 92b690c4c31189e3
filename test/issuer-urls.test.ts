// OIDC Discovery §4.3: the issuer, and every URL a relying party is sent to, come
// from ISSUER, never from the request's Host / X-Forwarded-Host / X-Forwarded-Proto,
// which any client sets (a shared cache would keep a poisoned answer for everyone).
import test from 'ava';
import http from 'node:http';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not send another Host), to `target` (a path, or an absolute-form URL). */
function raw(server: TestServer, method: string, target: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, method, path: target, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const SPOOFS: Array<{ name: string; headers: Record<string, string>; target?: (path: string) => string }> = [
  { name: 'no spoofing', headers: {} },
  { name: 'Host', headers: { host: 'evil.example' } },
  { name: 'Host with a port', headers: { host: 'evil.example:8443' } },
  { name: 'X-Forwarded-Host and -Proto', headers: { 'x-forwarded-host': 'attacker.example', 'x-forwarded-proto': 'https' } },
  { name: 'all three', headers: { host: 'evil.example', 'x-forwarded-host': 'attacker.example, proxy.example', 'x-forwarded-proto': 'https' } },
  { name: 'absolute-form request target', headers: {}, target: (path) => `http://attacker.example${path}` },
];

/** Every string in `value` (deep) that is an absolute URL. */
function absoluteUrls(value: unknown): string[] {
  if (typeof value === 'string') return URL.canParse(value) && /^https?:/.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(absoluteUrls);
  if (value && typeof value === 'object') return Object.values(value).flatMap(absoluteUrls);
  return [];
}

for (const trustProxy of ['false', 'true']) {
  test(`TRUST_PROXY=${trustProxy}: discovery, device authorization, registration and pages use ISSUER whatever the request says`, async (t) => {
    const server = await startTestServer({ TRUST_PROXY: trustProxy, INITIAL_ACCESS_TOKEN: TEST_IAT });
    t.teardown(() => server.stop());
    const issuer = server.issuer;
    const rp = await registerClient(issuer);
    const { client_id, client_secret } = rp.clientMetadata();
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(client_id)}:${encodeURIComponent(String(client_secret))}`).toString('base64')}`;

    for (const spoof of SPOOFS) {
      const target = spoof.target ?? ((path: string) => path);
      const label = `${spoof.name}, TRUST_PROXY=${trustProxy}`;

      for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
        const discovery = await raw(server, 'GET', target(path), spoof.headers);
        t.is(discovery.status, 200, label);
        const meta = JSON.parse(discovery.body) as Record<string, unknown>;
        t.is(meta.issuer, issuer, label);
        t.is(meta.authorization_endpoint, `${issuer}/auth`, label);
        t.is(meta.token_endpoint, `${issuer}/token`, label);
        t.is(meta.jwks_uri, `${issuer}/jwks`, label);
        t.is(meta.device_authorization_endpoint, `${issuer}/device/auth`, label);
        t.is(meta.end_session_endpoint, `${issuer}/session/end`, label);
        t.is(meta.registration_endpoint, `${issuer}/reg`, label);
        const urls = absoluteUrls(meta);
        t.true(urls.length >= 9, label);
        for (const url of urls) t.true(url === issuer || url.startsWith(`${issuer}/`), `${label}: ${url}`);
      }

      const device = await raw(server, 'POST', target('/device/auth'), {
        ...spoof.headers, authorization: basic, 'content-type': 'application/x-www-form-urlencoded',
      }, 'scope=openid');
      t.is(device.status, 200, `${label}: ${device.body}`);
      const deviceBody = JSON.parse(device.body) as { verification_uri: string; verification_uri_complete: string; user_code: string };
      t.is(deviceBody.verification_uri, `${issuer}/device`, label);
      t.is(deviceBody.verification_uri_complete, `${issuer}/device?user_code=${encodeURIComponent(deviceBody.user_code)}`, label);

      const registration = await raw(server, 'POST', target('/reg'), {
        ...spoof.headers, authorization: `Bearer ${TEST_IAT}`, 'content-type': 'application/json', accept: 'application/json',
      }, JSON.stringify({ redirect_uris: [REDIRECT_URI] }));
      t.is(registration.status, 201, `${label}: ${registration.body}`);
      t.regex((JSON.parse(registration.body) as { registration_client_uri: string }).registration_client_uri, new RegExp(`^${issuer}/reg/[^/]+$`), label);

      // Pages whose forms post back to oidc-provider.
      const devicePage = await raw(server, 'GET', target('/device'), { ...spoof.headers, accept: 'text/html' });
      t.is(devicePage.status, 200, label);
      t.regex(devicePage.body, new RegExp(`<form [^>]*action="${issuer}/device"`), label);
      const logoutPage = await raw(server, 'GET', target('/session/end'), { ...spoof.headers, accept: 'text/html' });
      t.is(logoutPage.status, 200, label);
      t.regex(logoutPage.body, new RegExp(`<form [^>]*action="${issuer}/session/end/confirm"`), label);

      // The authorization request's way to the sign-in page: a path, or a URL under ISSUER.
      const auth = await raw(server, 'GET', target(`/auth?client_id=${encodeURIComponent(client_id)}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`), spoof.headers);
      t.is(auth.status, 303, `${label}: ${auth.body}`);
      const location = auth.headers.location!;
      t.true(location.startsWith('/interaction/') || location.startsWith(`${issuer}/interaction/`), `${label}: ${location}`);
    }
  });
}

test('discovery and JWKS may be cached, briefly (JWKS: a key rotation must show within a minute)', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const response = await fetch(`${server.issuer}${path}`);
    t.is(response.status, 200);
    t.is(response.headers.get('cache-control'), 'public, max-age=300', path);
  }
  const jwks = await fetch(`${server.issuer}/jwks`);
  t.is(jwks.status, 200);
  t.is(jwks.headers.get('cache-control'), 'public, max-age=60');
  // The same for every spelling oidc-provider's router answers (case, one trailing slash).
  for (const [path, age] of [['/.WELL-KNOWN/openid-configuration/', 300], ['/JWKS', 60], ['/jwks/', 60]] as const) {
    const response = await fetch(`${server.issuer}${path}`);
    t.is(response.status, 200, path);
    t.is(response.headers.get('cache-control'), `public, max-age=${age}`, path);
  }
  // Other provider answers stay uncacheable.
  const device = await fetch(`${server.issuer}/device`);
  t.not(device.headers.get('cache-control'), 'public, max-age=300');
});
