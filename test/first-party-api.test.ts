// Issue 10 A1 (account takeover through the first-party QR API): only clients
// the operator marks first-party may obtain tokens for ISSUER/api, by any grant;
// dynamic registration can neither claim first-party status nor list its scopes;
// the interaction's QR routes answer only where the sign-in page offers a QR.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, operatorClient, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
const USER = { email: 'victim@example.com', password: 'trusting nobody 1' };

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  await createAccount(server.runtime.db, USER);
});

test.after.always(async () => {
  await server?.stop();
});

const register = (metadata: Record<string, unknown>) =>
  fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_IAT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], ...metadata }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

test('dynamic registration cannot claim first-party status, a PKCE exemption, or first-party scopes', async (t) => {
  for (const metadata of [{ first_party: true }, { pkce_exempt: true }, { scope: 'openid qr-login' }, { first_party: false, scope: 'qr-login' }]) {
    const { status, body } = await register(metadata);
    t.is(status, 400, JSON.stringify(metadata));
    t.is(body.error, 'invalid_client_metadata', JSON.stringify(metadata));
  }
  // An ordinary registration still works, and says nothing of operator metadata.
  const ok = await register({ scope: 'openid email' });
  t.is(ok.status, 201);
  t.false('first_party' in ok.body);
});

test('a third-party client cannot get a token for ISSUER/api by the code flow (the attack as it ran)', async (t) => {
  // Registered with no `scope` metadata: such a client may ask for any scope.
  const attacker = await registerClient(server.issuer);
  const browser = createBrowser();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(attacker, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid qr-login',
    resource: `${server.issuer}/api`,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'attack',
  });
  // Refused before any sign-in page: back to the client with invalid_target (RFC 8707 §2).
  const landed = await browser.follow(url.href, REDIRECT_URI);
  const back = new URL(landed.url);
  t.true(landed.url.startsWith(REDIRECT_URI), landed.url);
  t.is(back.searchParams.get('error'), 'invalid_target');
  t.is(back.searchParams.get('code'), null);
});

test('a client stored before the rule, listing qr-login, still gets no ISSUER/api token (code flow)', async (t) => {
  // As if registered dynamically under the old rules: scope qr-login, not first-party.
  const legacy = await operatorClient(server, { scope: 'openid qr-login' });
  await t.throwsAsync(signIn(legacy, { ...USER, scope: 'openid qr-login', resource: `${server.issuer}/api` }), { message: /invalid_target|did not reach/ });
});

test('nor by the device flow or client credentials', async (t) => {
  const attacker = await registerClient(server.issuer);
  const { client_id } = attacker.clientMetadata();
  const secret = attacker.clientMetadata().client_secret as string;
  const basic = `Basic ${Buffer.from(`${client_id}:${secret}`).toString('base64')}`;
  const device = await fetch(`${server.issuer}/device/auth`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ scope: 'openid qr-login', resource: `${server.issuer}/api` }),
  });
  t.is(device.status, 400);
  t.is(((await device.json()) as { error: string }).error, 'invalid_target');
  const credentials = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'qr-login', resource: `${server.issuer}/api` }),
  });
  t.is(credentials.status, 400);
  t.is(((await credentials.json()) as { error: string }).error, 'invalid_target');
});

test('a first-party client (set by the operator) gets a token for ISSUER/api with qr-login', async (t) => {
  const app = await operatorClient(server, { scope: 'openid qr-login', first_party: true });
  const { tokens } = await signIn(app, { ...USER, scope: 'openid qr-login', resource: `${server.issuer}/api` });
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { aud: string; scope: string };
  t.is(claims.aud, `${server.issuer}/api`);
  t.is(claims.scope, 'qr-login');
});

test('the QR routes refuse an interaction whose page offers no QR (the /account sign-in)', async (t) => {
  const browser = createBrowser();
  const login = await browser.follow(`${server.issuer}/account`);
  t.regex(login.url, /\/interaction\/[^/]+$/);
  t.notRegex(login.body, /<svg/, 'no QR on the account sign-in page');
  const form = readForm(login, /\/code$/);
  const qr = await browser.request(`${login.url}/qr`, { method: 'POST', headers: { 'x-csrf-token': form.hidden.csrf!, accept: 'application/json' } });
  t.is(qr.status, 404, qr.body);
  const uid = login.url.split('/').pop()!;
  t.deepEqual(await server.runtime.db('qr_logins').where({ interaction_uid: uid }).select('id'), []);
});


