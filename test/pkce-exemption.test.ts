// Issue 10 B10: PKCE is required for every client (RFC 9700 §2.1.1) unless the
// operator exempted a confidential client, and then only for requests with a
// nonce (OAuth 2.1 §7.5.1), so the OpenID certification plans can run.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { operatorClient, oidc, REDIRECT_URI, TEST_IAT } from './helpers/oidc.ts';
import { createBrowser, readForm } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
const USER = { email: 'certifier@example.com', password: 'certification password' };

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  await createAccount(server.runtime.db, USER);
});

test.after.always(async () => {
  await server?.stop();
});

/** An authorization request without PKCE; where the browser ends up (the client's redirect URI, or a page). */
async function withoutPkce(config: oidc.Configuration, params: Record<string, string>) {
  const browser = createBrowser();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 'no-pkce', ...params });
  let page = await browser.follow(url.href, REDIRECT_URI);
  if (!page.url.startsWith(REDIRECT_URI)) {
    const form = readForm(page, /\/code$/);
    page = await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: USER.email, password: USER.password }, REDIRECT_URI);
  }
  if (!page.url.startsWith(REDIRECT_URI)) {
    const consent = readForm(page, /\/confirm$/);
    page = await browser.submit(consent.action, consent.hidden, REDIRECT_URI);
  }
  return new URL(page.url);
}

test('an exempted confidential client with a nonce completes the code flow without PKCE', async (t) => {
  const client = await operatorClient(server, { pkce_exempt: true, client_name: 'Certification RP' });
  const back = await withoutPkce(client, { nonce: 'n-0S6_WzA2Mj' });
  t.truthy(back.searchParams.get('code'), back.href);
  const tokens = await oidc.authorizationCodeGrant(client, back, { expectedState: 'no-pkce', expectedNonce: 'n-0S6_WzA2Mj' });
  t.is(tokens.claims()!.nonce, 'n-0S6_WzA2Mj');
});

test('the exemption needs the nonce', async (t) => {
  const client = await operatorClient(server, { pkce_exempt: true });
  const back = await withoutPkce(client, {});
  t.is(back.searchParams.get('error'), 'invalid_request');
  t.regex(back.searchParams.get('error_description') ?? '', /PKCE/);
});

test('a client without the exemption needs PKCE even with a nonce', async (t) => {
  const client = await operatorClient(server, {});
  const back = await withoutPkce(client, { nonce: 'n-0S6_WzA2Mj' });
  t.is(back.searchParams.get('error'), 'invalid_request');
  t.regex(back.searchParams.get('error_description') ?? '', /PKCE/);
});

test('a public client cannot be exempted: its metadata is refused', async (t) => {
  const client = await operatorClient(server, { pkce_exempt: true, token_endpoint_auth_method: 'none' });
  const browser = createBrowser();
  const url = oidc.buildAuthorizationUrl(client, { redirect_uri: REDIRECT_URI, scope: 'openid', nonce: 'n', state: 's' });
  const page = await browser.follow(url.href, REDIRECT_URI);
  t.false(page.url.startsWith(REDIRECT_URI), 'no redirect to the client');
  t.is(page.status, 400);
  t.regex(page.body, /pkce_exempt is only for confidential clients/);
});
