// Response headers that browsers enforce: HSTS when the issuer is https, and a
// Content-Security-Policy with a fresh nonce on every page.
import test from 'ava';
import { createHash } from 'node:crypto';
import { startTestServer } from './helpers/server.ts';
import { registerClient, beginAuthorization, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser } from './helpers/browser.ts';

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

// OWASP ASVS V14.4.3: a Content-Security-Policy on every page; inline scripts and
// styles run only with this response's nonce, so markup injected into a page would not.
const directivesOf = (header: string | null) =>
  new Map((header ?? '').split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [name, ...values] = d.split(/\s+/);
    return [name!, values] as const;
  }));

function checkPage(t: import('ava').ExecutionContext, page: { headers: Headers; body: string }, label: string): string {
  const csp = directivesOf(page.headers.get('content-security-policy'));
  t.deepEqual(csp.get('default-src'), ["'none'"], label);
  t.deepEqual(csp.get('frame-ancestors'), ["'none'"], label);
  t.deepEqual(csp.get('base-uri'), ["'none'"], label);
  t.deepEqual(csp.get('img-src'), ["'self'", 'data:'], label);
  t.is(csp.get('form-action')?.[0], "'self'", label);
  const nonce = /^'nonce-([A-Za-z0-9+/=]{22,})'$/.exec(csp.get('script-src')?.[0] ?? '')?.[1];
  t.truthy(nonce, `${label}: script-src has a nonce`);
  t.deepEqual(csp.get('style-src'), [`'nonce-${nonce}'`], label);
  const tags = [...page.body.matchAll(/<(script|style)\b([^>]*)>/g)];
  t.true(tags.length > 0, `${label}: a page has its styles`);
  for (const [tag, , attributes] of tags) t.true(attributes!.includes(`nonce="${nonce}"`), `${label}: ${tag}`);
  t.notRegex(page.body, /\sstyle="/, `${label}: no inline style attribute (style-src has no 'unsafe-inline')`);
  t.notRegex(page.body, /\son[a-z]+="/, `${label}: no inline event handler`);
  return nonce!;
}

test('every page has a Content-Security-Policy whose nonce is on its inline scripts and styles', async (t) => {
  const server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => server.stop());
  const rp = await registerClient(server.issuer);
  const nonces = new Set<string>();

  const started = await beginAuthorization(rp, 'openid');
  t.regex(started.page.body, /<script nonce=/, 'the sign-in page has the QR script');
  nonces.add(checkPage(t, started.page, 'sign-in'));
  const again = await started.browser.follow(started.page.url);
  nonces.add(checkPage(t, again, 'sign-in again'));
  const html = { headers: { accept: 'text/html' } };
  nonces.add(checkPage(t, await createBrowser().follow(`${server.issuer}/device`, undefined, html), 'device'));
  nonces.add(checkPage(t, await createBrowser().follow(`${server.issuer}/no-such-page`, undefined, html), 'not found'));
  nonces.add(checkPage(t, await createBrowser().follow(`${server.issuer}/interaction/expired`, undefined, html), 'expired interaction'));
  nonces.add(checkPage(t, await createBrowser().follow(`${server.issuer}/auth?client_id=nobody`, undefined, html), 'oidc-provider error'));
  nonces.add(checkPage(t, await createBrowser().follow(`${server.issuer}/qr/AAAAAAAAAAAAAAAAAAAAAA/approve`, undefined, { method: 'POST', ...html }), 'qr'));
  t.is(nonces.size, 7, 'a fresh nonce on every response');
});

test('nonces stay fresh and 128 bits long across many responses (the pool of 256 is refilled)', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const nonces = new Set<string>();
  for (let batch = 0; batch < 6; batch++) {
    const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${server.issuer}/healthz`)));
    for (const answer of answers) {
      const nonce = /script-src 'nonce-([^']+)'/.exec(answer.headers.get('content-security-policy') ?? '')?.[1];
      t.is(Buffer.from(nonce ?? '', 'base64').length, 16, `a 16-byte nonce: ${nonce}`);
      nonces.add(nonce!);
    }
  }
  t.is(nonces.size, 600, 'no nonce handed out twice');
});

test('form_post pages: oidc-provider’s inline script is allowed by its hash, and the form may go to the client', async (t) => {
  const server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => server.stop());
  const rp = await registerClient(server.issuer);
  // prompt=none without a session: login_required, answered by form_post to the redirect_uri.
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: rp.clientMetadata().client_id, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, prompt: 'none',
    response_mode: 'form_post', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256', state: 'xyz',
  }).toString();
  const page = await createBrowser().follow(url.href);
  t.regex(page.body, new RegExp(`<form method="post" action="${REDIRECT_URI}">`));
  const csp = directivesOf(page.headers.get('content-security-policy'));
  t.deepEqual(csp.get('form-action'), ["'self'", new URL(REDIRECT_URI).origin]);
  const script = /<script>([\s\S]*?)<\/script>/.exec(page.body)![1]!;
  t.true(csp.get('script-src')!.includes(`'sha256-${createHash('sha256').update(script).digest('base64')}'`));
  t.deepEqual(csp.get('default-src'), ["'none'"]);
});
