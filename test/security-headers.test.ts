// Response headers that browsers enforce: HSTS when the issuer is https, and a
// Content-Security-Policy with a fresh nonce on every page.
import test from 'ava';
import { startTestServer } from './helpers/server.ts';

const HSTS = 'max-age=31536000';

// RFC 6797 §6.1 / OWASP ASVS V14.4.5. The server itself may speak plain HTTP behind a
// TLS-terminating proxy, so ISSUER (what browsers use) decides, not the connection.
test('an https ISSUER: Strict-Transport-Security on every response (pages, JSON, errors, oidc-provider)', async (t) => {
  const server = await startTestServer({ ISSUER: 'https://id.example.test' });
  t.teardown(() => server.stop());
  for (const [path, accept] of [
    ['/healthz', 'application/json'],
    ['/.well-known/openid-configuration', 'application/json'],
    ['/device', 'text/html'],
    ['/no-such-page', 'text/html'],
    ['/interaction/unknown', 'text/html'],
    ['/auth?client_id=nobody', 'text/html'],
    ['/token', 'application/json'],
  ] as const) {
    const response = await fetch(`${server.url}${path}`, { headers: { accept }, redirect: 'manual' });
    t.is(response.headers.get('strict-transport-security'), HSTS, `${path} (${response.status})`);
  }
});

test('an http ISSUER (development): no Strict-Transport-Security', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  for (const path of ['/healthz', '/device', '/no-such-page']) {
    const response = await fetch(`${server.url}${path}`, { headers: { accept: 'text/html' } });
    t.is(response.headers.get('strict-transport-security'), null, path);
  }
});
