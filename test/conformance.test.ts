// Findings of a conformance run modelled on the OpenID Foundation test plans
// (issue 10): each test names the spec section it holds the provider to.
import test from 'ava';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, passLogin, beginAuthorization, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { createLogger } from '../server/logging/logger.ts';
import { addResourceClient } from '../server/rbac/resource-clients.ts';

const LOGGED_OUT_URI = 'https://rp.example.test/logged-out';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const user = { email: 'conformance@example.com', password: 'correct horse battery staple' };
let server: TestServer;
/** A client registered for the code flow only (the defaults). */
let rp: oidc.Configuration;

/** What the server logged, one parsed JSON line each. */
const logged: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) if (line) logged.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

/**
 * oidc-provider refuses outgoing requests to special-use addresses (SSRF
 * protection in lib/helpers/fetch_request.js); this test's back-channel logout
 * receiver listens on loopback, so the test server's outgoing fetch drops that
 * dispatcher. Production passes no fetch and keeps the protection.
 */
const loopbackFetch: typeof fetch = (url, init) => {
  const { dispatcher: _ssrfProtection, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
  return fetch(url, rest);
};

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT }, undefined, { providerFetch: loopbackFetch }, createLogger('info', { destination: logStream }));
  rp = await registerClient(server.issuer, { scope: 'openid email offline_access api:read', post_logout_redirect_uris: [LOGGED_OUT_URI] });
  // rp also plays the API that introspects other clients' tokens (A8, B7): RFC 7662 §4 allows that
  // only to a client registered as the resource server of the tokens' audience.
  await addResourceClient(server.runtime.db, 'urn:enot-id:api', rp.clientMetadata().client_id);
  await createAccount(server.runtime.db, user);
});

test.after.always(async () => {
  await server?.stop();
});

const introspect = (token: string) => oidc.tokenIntrospection(rp, token);

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** A form POST as a client sends it; the raw answer, with the request id the server gave it. */
async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.issuer}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown>, reqId: response.headers.get('x-request-id') };
}

/** RFC 7591 registration as JSON, returning the raw answer (errors included). */
async function register(metadata: Record<string, unknown>) {
  const response = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${TEST_IAT}` },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], ...metadata }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** An authorization code for `client`, through the login page, with the verifier it was bound to. */
async function codeFor(client: oidc.Configuration) {
  const started = await beginAuthorization(client, 'openid email');
  const page = await passLogin(started.browser, started.page, user);
  const code = new URL(page.url).searchParams.get('code');
  if (!code) throw new Error(`no code: ${page.url}`);
  return { code, verifier: started.verifier };
}

/** Authorization response parameters, from the query or (implicit, OIDC Core §3.2.2.5) the fragment. */
function responseParams(url: string): URLSearchParams {
  const parsed = new URL(url);
  return parsed.hash ? new URLSearchParams(parsed.hash.slice(1)) : parsed.searchParams;
}

// ------------------------------------------------------------------- B2 --

test('B2: a form-POSTed authorization request signs in, and a second one sees the session (OIDC Core §3.1.2.1)', async (t) => {
  const browser = createBrowser();
  const request = async (extra: Record<string, string> = {}) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const fields = {
      client_id: rp.clientMetadata().client_id, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid email', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
    };
    return { verifier, state, page: await browser.submit(`${server.issuer}/auth`, fields, REDIRECT_URI) };
  };
  const first = await request();
  t.not(first.page.status, 404);
  const landed = await passLogin(browser, first.page, user);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(landed.url), { pkceCodeVerifier: first.verifier, expectedState: first.state });
  t.is(tokens.claims()!.email, user.email);

  const silent = await request({ prompt: 'none' });
  t.true(silent.page.url.startsWith(REDIRECT_URI), silent.page.body.slice(0, 200));

  // Every spelling the router answers for GET is accepted by POST too, and sent to the canonical path.
  const spelled = await browser.request(`${server.issuer}/AUTH/`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=x&response_type=code',
  });
  t.is(spelled.status, 303);
  t.is(new URL(spelled.headers.get('location')!, server.issuer).pathname, '/auth');
  const again = await oidc.authorizationCodeGrant(rp, new URL(silent.page.url), { pkceCodeVerifier: silent.verifier, expectedState: silent.state });
  t.is(again.claims()!.sub, tokens.claims()!.sub);
});

test('B2: RP-initiated logout by form POST ends the session (RP-Initiated Logout §2)', async (t) => {
  const { tokens, browser } = await signIn(rp, { ...user, scope: 'openid api:read' });
  t.true((await introspect(tokens.access_token)).active);
  const confirm = await browser.submit(`${server.issuer}/session/end`, {
    id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'bye',
  });
  t.is(confirm.status, 200, confirm.body.slice(0, 200));
  const form = readForm(confirm, /\/session\/end\/confirm$/);
  const done = await browser.submit(form.action, { ...form.hidden, logout: 'yes' }, LOGGED_OUT_URI);
  t.true(done.url.startsWith(LOGGED_OUT_URI), done.url);
  t.is(new URL(done.url).searchParams.get('state'), 'bye');
  t.false((await introspect(tokens.access_token)).active);
});

// ------------------------------------------------------------------- B3 --

test('B3: redirect_uri is required in the authorization request, also for a client with one registered URI (OIDC Core §3.1.2.1)', async (t) => {
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: rp.clientMetadata().client_id, response_type: 'code', scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }).toString();
  const page = await createBrowser().follow(url.href, REDIRECT_URI);
  t.false(page.url.startsWith(REDIRECT_URI), 'no redirect to a URI the request did not name');
  t.is(page.status, 400);
  t.regex(page.body, /redirect_uri/);
});

test('B3: the token request repeats redirect_uri (RFC 6749 §4.1.3)', async (t) => {
  const { code, verifier } = await codeFor(rp);
  const { client_id, client_secret } = rp.clientMetadata();
  const answer = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier }, { authorization: basic(client_id, String(client_secret)) });
  t.is(answer.status, 400);
  t.is(answer.body.error, 'invalid_request');
  t.regex(String(answer.body.error_description), /redirect_uri/);
});

// ------------------------------------------------------------------- B4 --

const IMPLICIT = { response_types: ['code', 'id_token', 'id_token token'], grant_types: ['authorization_code', 'implicit', 'refresh_token'], scope: 'openid email api:read' };

async function implicitSignIn(client: oidc.Configuration, responseType: string) {
  const browser = createBrowser();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(client, { redirect_uri: REDIRECT_URI, response_type: responseType, scope: 'openid email', nonce, state });
  const page = await passLogin(browser, await browser.follow(url.href, REDIRECT_URI), user);
  return { url: page.url, nonce, state };
}

test('B4: discovery lists code, id_token and id_token token (OIDC Core §15.2)', async (t) => {
  const types = rp.serverMetadata().response_types_supported ?? [];
  for (const type of ['code', 'id_token', 'id_token token']) t.true(types.includes(type), type);
});

test('B4: an id_token flow for a client registered for it (OIDC Core §3.2)', async (t) => {
  const client = await registerClient(server.issuer, IMPLICIT);
  oidc.useIdTokenResponseType(client);
  const done = await implicitSignIn(client, 'id_token');
  const claims = await oidc.implicitAuthentication(client, new URL(done.url), done.nonce, { expectedState: done.state });
  t.is(claims.nonce, done.nonce);
  t.is(claims.aud, client.clientMetadata().client_id);
  t.is(claims.email, user.email, 'no access token, so the claims travel in the ID token');
  t.false(responseParams(done.url).has('access_token'));
  t.false(responseParams(done.url).has('code'));
});

test('B4: an id_token token flow for a client registered for it (OIDC Core §3.2)', async (t) => {
  const client = await registerClient(server.issuer, IMPLICIT);
  const done = await implicitSignIn(client, 'id_token token');
  const params = responseParams(done.url);
  t.is(params.get('state'), done.state);
  t.is(params.get('token_type'), 'Bearer');
  const accessToken = params.get('access_token')!;
  t.truthy(accessToken);
  const { payload } = await jwtVerify(params.get('id_token')!, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
    issuer: server.issuer, audience: client.clientMetadata().client_id,
  });
  t.is(payload.nonce, done.nonce);
  // OIDC Core §3.2.2.9: at_hash is the left half of the access token's SHA-256 (ES256).
  t.is(payload.at_hash, createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url'));
  const info = await oidc.fetchUserInfo(client, accessToken, String(payload.sub));
  t.is(info.email, user.email);
});

test('B4: implicit requires a nonce (OIDC Core §3.2.2.1)', async (t) => {
  const client = await registerClient(server.issuer, IMPLICIT);
  const url = oidc.buildAuthorizationUrl(client, { redirect_uri: REDIRECT_URI, response_type: 'id_token', scope: 'openid', state: 's' });
  const page = await createBrowser().follow(url.href, REDIRECT_URI);
  const params = responseParams(page.url);
  t.is(params.get('error'), 'invalid_request');
  t.regex(params.get('error_description') ?? '', /nonce/);
});

test('B4: a client registered only for code is refused id_token (RFC 9700 §2.1.2, RFC 6749 §4.1.2.1)', async (t) => {
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT_URI, response_type: 'id_token', scope: 'openid', nonce: 'n', state: 's' });
  const page = await createBrowser().follow(url.href, REDIRECT_URI);
  t.true(page.url.startsWith(REDIRECT_URI));
  t.is(responseParams(page.url).get('error'), 'unauthorized_client', page.url);
});

// ------------------------------------------------------------------- B5 --

const scopeSet = (scope: string | undefined) => new Set((scope ?? '').split(' ').filter(Boolean));

test('B5: the token response scope is what was granted, at the code exchange and at refresh (RFC 6749 §5.1, §3.3)', async (t) => {
  const { tokens } = await signIn(rp, { ...user, scope: 'openid email offline_access' });
  t.deepEqual(scopeSet(tokens.scope), new Set(['openid', 'email', 'offline_access']));
  const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
  t.deepEqual(scopeSet(refreshed.scope), new Set(['openid', 'email', 'offline_access']));
  const narrowed = await oidc.refreshTokenGrant(rp, refreshed.refresh_token!, { scope: 'openid' });
  t.deepEqual(scopeSet(narrowed.scope), new Set(['openid']));

  const withApi = (await signIn(rp, { ...user, scope: 'openid email api:read' })).tokens;
  t.deepEqual(scopeSet(withApi.scope), new Set(['openid', 'email', 'api:read']));
});

test('B5: a client credentials token for no scope carries no empty scope (RFC 6749 §3.3)', async (t) => {
  const tokens = await oidc.clientCredentialsGrant(rp);
  t.not(tokens.scope, '');
});

// ------------------------------------------------------------------- B6 --

test('B6: a grant type the client did not register is unauthorized_client (RFC 6749 §5.2)', async (t) => {
  const codeOnly = await registerClient(server.issuer, { grant_types: ['authorization_code'] });
  const { client_id, client_secret } = codeOnly.clientMetadata();
  const auth = { authorization: basic(client_id, String(client_secret)) };
  const credentials = await post('/token', { grant_type: 'client_credentials' }, auth);
  t.is(credentials.status, 400);
  t.is(credentials.body.error, 'unauthorized_client');
  const refresh = await post('/token', { grant_type: 'refresh_token', refresh_token: 'not-a-token' }, auth);
  t.is(refresh.status, 400);
  t.is(refresh.body.error, 'unauthorized_client');
  const wrongSecret = await post('/token', { grant_type: 'client_credentials' }, { authorization: basic(client_id, 'wrong') });
  t.is(wrongSecret.body.error, 'invalid_client', 'an unauthenticated client learns nothing about its grant types');
});

// ------------------------------------------------------------------- B7 --

async function manage(method: 'GET' | 'PUT' | 'DELETE', uri: string, token: string, body?: Record<string, unknown>) {
  const response = await fetch(uri, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

test('B7: RFC 7592 read, update (with a new registration access token) and delete', async (t) => {
  const created = await register({ client_name: 'Before', grant_types: ['authorization_code', 'client_credentials'], scope: 'openid api:read' });
  t.is(created.status, 201);
  const uri = String(created.body.registration_client_uri);
  const firstToken = String(created.body.registration_access_token);
  const clientId = String(created.body.client_id);
  t.is((await manage('GET', uri, firstToken)).status, 200);
  // What the client holds, to see that deletion ends it: a person's grant (stored beside
  // the registration access token when there is no Redis) and a client credentials token.
  const client = new oidc.Configuration(rp.serverMetadata(), clientId, undefined, oidc.ClientSecretBasic(String(created.body.client_secret)));
  oidc.allowInsecureRequests(client);
  const { tokens } = await signIn(client, { ...user, scope: 'openid api:read' });
  const { access_token } = await oidc.clientCredentialsGrant(client, { scope: 'api:read' });
  t.true((await introspect(access_token)).active);
  t.true((await introspect(tokens.access_token)).active);

  const { registration_access_token: _t, registration_client_uri: _u, client_secret_expires_at: _e, client_id_issued_at: _i, ...metadata } = created.body;
  const updated = await manage('PUT', uri, firstToken, { ...metadata, client_name: 'After', redirect_uris: ['https://rp.example.test/other'] });
  t.is(updated.status, 200, JSON.stringify(updated.body));
  t.is(updated.body.client_name, 'After');
  t.deepEqual(updated.body.redirect_uris, ['https://rp.example.test/other']);
  t.is(updated.body.client_secret, created.body.client_secret, 'the secret is kept');
  const secondToken = String(updated.body.registration_access_token);
  t.not(secondToken, firstToken, 'RFC 7592 §2.2: the registration access token is rotated');
  t.is((await manage('GET', uri, firstToken)).status, 401, 'the old one no longer works');

  // An update goes through the same metadata checks as a registration (RFC 7592 §2.2, RFC 7591 §3.2.2).
  const refused = await manage('PUT', uri, secondToken, { ...metadata, client_name: 'After', redirect_uris: ['http://rp.example.test/cb'] });
  t.is(refused.status, 400);
  t.is(refused.body.error, 'invalid_redirect_uri');

  const deleted = await fetch(uri, { method: 'DELETE', headers: { authorization: `Bearer ${secondToken}` } });
  t.is(deleted.status, 204);
  t.is((await manage('GET', uri, secondToken)).status, 401);
  t.false((await introspect(access_token)).active);
  t.false((await introspect(tokens.access_token)).active);
  // RFC 7592 §2.3, and what `enot-id client delete` deletes: nothing of the client stays in the database.
  const left = await server.runtime.db('oidc_models').whereRaw(`payload->>'clientId' = ?`, [clientId]).count({ n: '*' }).first();
  t.is(Number(left?.n), 0);
  t.is(await server.runtime.db('clients').first('id').where({ id: clientId }), undefined);
});

// ------------------------------------------------------------------- B8 --

test('B8: polling with an expired device code gets expired_token (RFC 8628 §3.5)', async (t) => {
  const tv = await registerClient(server.issuer, {
    grant_types: [DEVICE_GRANT], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'none', scope: 'openid',
  });
  const clientId = tv.clientMetadata().client_id;
  const started = await post('/device/auth', { client_id: clientId, scope: 'openid' });
  const deviceCode = String(started.body.device_code);
  // Ages the device code where oidc-provider keeps it: saved again to expire in 1 s, then waited past.
  const codes = server.runtime.adapters('DeviceCode');
  const stored = await codes.find(deviceCode);
  t.truthy(stored);
  await codes.upsert(deviceCode, { ...stored!, exp: Math.floor(Date.now() / 1000) + 1 }, 1);
  await new Promise((resolve) => setTimeout(resolve, 2100));

  const polled = await post('/token', { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId });
  t.is(polled.status, 400);
  t.is(polled.body.error, 'expired_token');

  // The person who types the code of an expired device code is told so, not that it is wrong.
  const browser = createBrowser();
  const form = readForm(await browser.follow(`${server.issuer}/device`), /\/device$/);
  const page = await browser.submit(form.action, { ...form.hidden, user_code: String(started.body.user_code) });
  t.regex(page.body, /has expired/);
});

// ------------------------------------------------------------------- B9 --

test('B9: back-channel logout: sid in the ID token, a valid logout token POSTed on RP-initiated logout', async (t) => {
  const received: string[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const { port } = receiver.address() as { port: number };

  const meta = rp.serverMetadata();
  t.true(meta.backchannel_logout_supported);
  t.true(meta.backchannel_logout_session_supported);
  t.true(meta.claims_supported!.includes('sid'));

  const client = await registerClient(server.issuer, {
    backchannel_logout_uri: `http://127.0.0.1:${port}/backchannel`, backchannel_logout_session_required: true, post_logout_redirect_uris: [LOGGED_OUT_URI],
  });
  const { tokens, browser } = await signIn(client, { ...user, scope: 'openid' });
  const { sid, sub } = tokens.claims()!;
  t.is(typeof sid, 'string', 'sid is issued');

  const confirm = await browser.follow(oidc.buildEndSessionUrl(client, { id_token_hint: tokens.id_token! }).href);
  const form = readForm(confirm, /\/session\/end\/confirm$/);
  await browser.submit(form.action, { ...form.hidden, logout: 'yes' });

  t.is(received.length, 1);
  const { payload, protectedHeader } = await jwtVerify(received[0]!, createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
    issuer: server.issuer, audience: client.clientMetadata().client_id,
  });
  t.is(protectedHeader.typ, 'logout+jwt');
  t.is(payload.sub, sub);
  t.is(payload.sid, sid);
  t.truthy(payload.jti);
  t.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  t.false('nonce' in payload, 'Back-Channel Logout §2.4: no nonce');
});

// ------------------------------------------------------------------ B11 --

/** The log line about a failed oidc-provider request, found by its request id. */
function loggedFor(reqId: string | null) {
  return logged.find((line) => line.reqId === reqId && line.error !== undefined);
}

test('B11: a refused code exchange logs why, with the request id and no secret (wrong PKCE verifier, wrong redirect_uri)', async (t) => {
  const { client_id, client_secret } = rp.clientMetadata();
  const auth = { authorization: basic(client_id, String(client_secret)) };
  const cases = [
    { name: 'wrong verifier', form: (code: string) => ({ redirect_uri: REDIRECT_URI, code, code_verifier: oidc.randomPKCECodeVerifier() }), detail: /code_verifier does not match/ },
    { name: 'wrong redirect_uri', form: (code: string, verifier: string) => ({ redirect_uri: `${REDIRECT_URI}/other`, code, code_verifier: verifier }), detail: /redirect_uri mismatch/ },
  ];
  for (const { name, form, detail } of cases) {
    const { code, verifier } = await codeFor(rp);
    const sent = { grant_type: 'authorization_code', ...form(code, verifier) };
    const answer = await post('/token', sent, auth);
    t.is(answer.body.error, 'invalid_grant', name);
    t.truthy(answer.reqId);
    const line = loggedFor(answer.reqId);
    t.truthy(line, `${name}: logged with the request id`);
    t.is(line?.error, 'invalid_grant', name);
    t.regex(String(line?.error_detail), detail, name);
    t.is(line?.client_id, client_id, name);
    const text = JSON.stringify(line);
    for (const secret of [code, sent.code_verifier, String(client_secret)]) t.false(text.includes(secret), `${name}: no secret in the log`);
  }
});

// ------------------------------------------------------------------- A8 --

test('A8: registration refuses http redirect URIs outside loopback (RFC 8252 §7.3, RFC 9700 §4.1.1)', async (t) => {
  const web = await register({ redirect_uris: ['http://rp.example.test/callback'] });
  t.is(web.status, 400);
  t.is(web.body.error, 'invalid_redirect_uri');
  const native = await register({ application_type: 'native', redirect_uris: ['http://127.0.0.1:8123/callback'] });
  t.is(native.status, 201, JSON.stringify(native.body));
});

test('A8: a public client may not register client_credentials (RFC 6749 §4.4)', async (t) => {
  const answer = await register({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'client_credentials'] });
  t.is(answer.status, 400);
  t.is(answer.body.error, 'invalid_client_metadata');
});

test('A8: a client authenticates only with the secret method it registered (RFC 7591 §2), at token, introspection and revocation', async (t) => {
  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    const client = await registerClient(server.issuer, { token_endpoint_auth_method: method, scope: 'api:read' });
    const { client_id, client_secret } = client.clientMetadata();
    const asBasic = { headers: { authorization: basic(client_id, String(client_secret)) }, form: {} };
    const asPost = { headers: {}, form: { client_id, client_secret: String(client_secret) } };
    const [registered, other] = method === 'client_secret_basic' ? [asBasic, asPost] : [asPost, asBasic];

    const issued = await post('/token', { grant_type: 'client_credentials', scope: 'api:read', ...registered.form }, registered.headers);
    t.is(issued.status, 200, `${method}: its own method works`);
    const token = String(issued.body.access_token);
    for (const [path, form] of [
      ['/token', { grant_type: 'client_credentials', scope: 'api:read' }],
      ['/token/introspection', { token }],
      ['/token/revocation', { token }],
    ] as const) {
      const answer = await post(path, { ...form, ...other.form }, other.headers);
      t.is(answer.status, 401, `${method} at ${path}: ${JSON.stringify(answer.body)}`);
      t.is(answer.body.error, 'invalid_client', `${method} at ${path}`);
    }
    t.true((await introspect(token)).active, 'the refused revocation revoked nothing');
  }
});
