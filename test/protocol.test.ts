// The provider core end to end, with openid-client as the relying party.
import test from 'ava';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT, REDIRECT_URI, grantClientScopes } from './helpers/oidc.ts';
import { createBrowser, readForm } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';

const OPAQUE_RESOURCE = 'urn:test:opaque-api';
let server: TestServer;
let rp: oidc.Configuration;
const user = { email: 'Ada.Lovelace@Example.COM', password: 'correct horse battery staple' };

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([{ identifier: OPAQUE_RESOURCE, scope: 'opaque:read', accessTokenFormat: 'opaque' }]),
  });
  rp = await registerClient(server.issuer, { scope: 'openid email phone roles offline_access api:read api:write opaque:read' });
  await createAccount(server.runtime.db, { ...user, roles: ['admin', 'support'] });
  // Client credentials tokens carry what the client's roles grant (issue 11).
  await grantClientScopes(server, rp, ['api:read', 'api:write']);
  await grantClientScopes(server, rp, ['opaque:read'], OPAQUE_RESOURCE);
});

test.after.always(async () => {
  await server?.stop();
});

const introspect = (token: string) => oidc.tokenIntrospection(rp, token);

test('discovery names every endpoint and only S256 PKCE', async (t) => {
  const meta = rp.serverMetadata();
  t.is(meta.issuer, server.issuer);
  for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'introspection_endpoint',
    'revocation_endpoint', 'registration_endpoint', 'device_authorization_endpoint', 'end_session_endpoint'] as const) {
    t.true(typeof meta[endpoint] === 'string' && meta[endpoint]!.startsWith(server.issuer), endpoint);
  }
  t.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  t.true(meta.grant_types_supported!.includes('urn:ietf:params:oauth:grant-type:device_code'));
  t.true(meta.scopes_supported!.includes('roles'));
});

test('dynamic registration needs the initial access token', async (t) => {
  const response = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }),
  });
  t.is(response.status, 401);
  t.is(((await response.json()) as { error: string }).error, 'invalid_token');

  const registered = await registerClient(server.issuer);
  t.truthy(registered.clientMetadata().client_id);
  t.truthy(registered.clientMetadata().client_secret);
  // Hex, like the CLI's and the admin API's: never a leading "-", which `enot-id client
  // delete <id>` took for an option (CI: "Unknown option '-b'", one id in 64).
  t.regex(registered.clientMetadata().client_id, /^[0-9a-f]{32}$/);
});

test('client credentials: a 15-minute ES256 JWT for the default API, verifiable offline', async (t) => {
  const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'api:read' });
  t.is(tokens.expires_in, 900);
  t.is(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
  t.is(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
  const jwks = createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!));
  const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: 'urn:enot-id:api', typ: 'at+jwt' });
  t.is(payload.client_id, rp.clientMetadata().client_id);
  t.is(payload.scope, 'api:read');
  t.is(payload.exp! - payload.iat!, 900);
});

test('introspection and revocation of a JWT access token', async (t) => {
  const { access_token } = await oidc.clientCredentialsGrant(rp, { scope: 'api:read' });
  const active = await introspect(access_token);
  t.true(active.active);
  t.is(active.exp! - active.iat!, 900);
  t.is(active.client_id, rp.clientMetadata().client_id);
  t.is(active.aud, 'urn:enot-id:api');
  await oidc.tokenRevocation(rp, access_token);
  t.false((await introspect(access_token)).active);
});

test('a JWT signed by someone else, or tampered with, is inactive', async (t) => {
  const { access_token } = await oidc.clientCredentialsGrant(rp, { scope: 'api:read' });
  const [header, payload, signature] = access_token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'api:write' })).toString('base64url')}.${signature}`;
  t.false((await introspect(forged)).active);
});

test('introspection and revocation of an opaque access token', async (t) => {
  const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'opaque:read', resource: OPAQUE_RESOURCE });
  t.is(tokens.access_token.split('.').length, 1, 'opaque, not a JWT');
  const active = await introspect(tokens.access_token);
  t.true(active.active);
  t.is(active.exp! - active.iat!, 900);
  t.is(active.aud, OPAQUE_RESOURCE);
  await oidc.tokenRevocation(rp, tokens.access_token);
  t.false((await introspect(tokens.access_token)).active);
});

test('authorization code + PKCE through the login page, with claims, roles and userinfo', async (t) => {
  const { tokens } = await signIn(rp, { ...user, scope: 'openid email roles api:read' });
  const claims = tokens.claims()!;
  t.is(claims.email, 'Ada.Lovelace@example.com');
  t.true(claims.email_verified as boolean);
  t.deepEqual(claims.roles, ['admin', 'support', 'user']);

  t.is(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
  t.deepEqual(decodeJwt(tokens.access_token).roles, ['admin', 'support', 'user'], 'roles in the JWT access token');
  const info = await introspect(tokens.access_token);
  t.true(info.active);
  t.is(info.sub, claims.sub);
  t.deepEqual(info.roles, ['admin', 'support', 'user']);
  t.is(info.grant_id, undefined, 'internal grant id is not disclosed');

  const userinfo = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
  t.is(userinfo.sub, claims.sub);
  t.is(userinfo.email, 'Ada.Lovelace@example.com');
  t.true(userinfo.email_verified as boolean);
  t.deepEqual(userinfo.roles, ['admin', 'support', 'user']);
  t.is(userinfo.phone_number, undefined, 'phone scope not granted');
});

test('a wrong password re-shows the login page and issues nothing', async (t) => {
  const browser = createBrowser();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const page = await browser.follow(url.href, REDIRECT_URI);
  const form = readForm(page, /\/code$/);
  const retry = await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: user.email, password: 'wrong password' }, REDIRECT_URI);
  t.is(retry.status, 401);
  t.regex(retry.body, /email, phone or password is not correct/);
  t.regex(retry.body, /value="Ada.Lovelace@Example.COM"/, 'what was typed is kept');
  t.regex(retry.body, /autocomplete="current-password"/);
});

test('PKCE is required: an authorization request without code_challenge is refused', async (t) => {
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT_URI, scope: 'openid' });
  const page = await createBrowser().follow(url.href, REDIRECT_URI);
  const location = new URL(page.url);
  t.true(page.url.startsWith(REDIRECT_URI));
  t.is(location.searchParams.get('error'), 'invalid_request');
  t.regex(location.searchParams.get('error_description') ?? '', /PKCE/);
});

test('refresh tokens rotate; replaying a rotated one revokes the whole grant', async (t) => {
  const { tokens } = await signIn(rp, { ...user, scope: 'openid offline_access api:read' });
  t.truthy(tokens.refresh_token);
  const first = tokens.refresh_token!;
  const refreshed = await oidc.refreshTokenGrant(rp, first);
  t.truthy(refreshed.refresh_token);
  t.not(refreshed.refresh_token, first, 'rotated');
  t.true((await introspect(refreshed.access_token)).active);
  t.true((await introspect(refreshed.refresh_token!)).active);

  const replay = await oidc.refreshTokenGrant(rp, first).catch((err: unknown) => err);
  t.true(replay instanceof oidc.ResponseBodyError);
  t.is((replay as oidc.ResponseBodyError).error, 'invalid_grant');

  t.false((await introspect(refreshed.refresh_token!)).active, 'the new refresh token died with the grant');
  t.false((await introspect(refreshed.access_token)).active, 'the JWT access token died with the grant');
  t.false((await introspect(tokens.access_token)).active);
  const again = await oidc.refreshTokenGrant(rp, refreshed.refresh_token!).catch((err: unknown) => err);
  t.is((again as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('refresh token lifetime is 7 days', async (t) => {
  const { tokens } = await signIn(rp, { ...user, scope: 'openid offline_access' });
  const info = await introspect(tokens.refresh_token!);
  t.true(info.active);
  t.is(info.exp! - info.iat!, 604_800);
});

test('device authorization returns verification_uri_complete with the user code', async (t) => {
  const response = await oidc.initiateDeviceAuthorization(rp, { scope: 'openid' });
  t.regex(response.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
  t.truthy(response.verification_uri_complete);
  const complete = new URL(response.verification_uri_complete!);
  t.is(complete.searchParams.get('user_code'), response.user_code);
  t.is(response.verification_uri, `${server.issuer}/device`);
});

test('RP-initiated logout ends the session and revokes its grant', async (t) => {
  const { tokens, browser } = await signIn(rp, { ...user, scope: 'openid api:read' });
  t.true((await introspect(tokens.access_token)).active);
  const logoutUrl = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! });
  const confirm = await browser.follow(logoutUrl.href);
  t.is(confirm.status, 200);
  const form = readForm(confirm, /\/session\/end\/confirm$/);
  const done = await browser.submit(form.action, { ...form.hidden, logout: 'yes' });
  t.is(done.status, 200);
  t.regex(done.body, /signed out/);
  t.false((await introspect(tokens.access_token)).active);
});

test('blocking an account makes its JWT and stored tokens inactive at once', async (t) => {
  await createAccount(server.runtime.db, { email: 'blocked@example.com', password: 'another long password', roles: [] });
  const { tokens } = await signIn(rp, { email: 'blocked@example.com', password: 'another long password', scope: 'openid offline_access api:read' });
  t.true((await introspect(tokens.access_token)).active);
  t.true((await introspect(tokens.refresh_token!)).active);
  const userinfo = () => fetch(rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  const before = await userinfo();
  t.is(before.status, 200);
  t.is(((await before.json()) as { email?: string }).email, undefined, 'no email scope asked');
  await server.runtime.db('accounts').where({ email: 'blocked@example.com' }).update({ status: 'blocked' });
  t.is((await userinfo()).status, 401, 'userinfo refuses the JWT of a blocked account');
  t.false((await introspect(tokens.access_token)).active);
  t.false((await introspect(tokens.refresh_token!)).active);
  const refresh = await oidc.refreshTokenGrant(rp, tokens.refresh_token!).catch((err: unknown) => err);
  t.is((refresh as oidc.ResponseBodyError).error, 'invalid_grant');
});

test('a client registered for RS256 gets RS256 ID tokens', async (t) => {
  const legacy = await registerClient(server.issuer, { id_token_signed_response_alg: 'RS256' });
  const { tokens } = await signIn(legacy, { ...user, scope: 'openid' });
  t.is(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
  t.is(tokens.claims()!.email, undefined, 'no email scope, no email claim');
});

test('health and readiness', async (t) => {
  const health = await fetch(`${server.url}/healthz`);
  t.is(health.status, 200);
  const ready = await fetch(`${server.url}/readyz`);
  t.is(ready.status, 200);
  const body = (await ready.json()) as { status: string; checks: Record<string, string> };
  t.is(body.status, 'ok');
  t.is(body.checks.database, 'ok');
  t.is(body.checks.redis ?? 'not configured', process.env.REDIS_URL ? 'ok' : 'not configured');
  t.truthy(ready.headers.get('x-request-id'));
});
