// Token errors a developer can act on (issue 12 §3): each refused grant says
// why in `error_description` (RFC 6749 §5.2), never more than the client may
// know, and the log keeps oidc-provider's reason with the request id. A real
// server, openid-client as the relying party.
import test from 'ava';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { beginAuthorization, passLogin, registerClient, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { createLogger } from '../server/logging/logger.ts';
import { GRANT_ERROR_DESCRIPTIONS } from '../server/oidc/grant-error-descriptions.ts';
import { readFile } from 'node:fs/promises';

const user = { email: 'grant-errors@example.com', password: 'correct horse battery staple' };
let server: TestServer;
let rp: oidc.Configuration;
let other: oidc.Configuration;

const logged: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) if (line) logged.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT }, undefined, {}, createLogger('info', { destination: logStream }));
  rp = await registerClient(server.issuer, { scope: 'openid email offline_access' });
  other = await registerClient(server.issuer, { scope: 'openid email' });
  await createAccount(server.runtime.db, user);
});

test.after.always(async () => {
  await server?.stop();
});

/** The authorization response (redirect URI with code and state) and what the token request needs. */
async function authorizationResponse(client = rp) {
  const started = await beginAuthorization(client, 'openid email');
  const page = await passLogin(started.browser, started.page, user);
  return { url: new URL(page.url), verifier: started.verifier, state: started.state };
}

/** The token endpoint's refusal, as openid-client reports it. */
async function refusal(request: Promise<unknown>) {
  try {
    await request;
  } catch (err) {
    const e = err as { error?: string; error_description?: string; status?: number; response?: Response };
    return { error: e.error, description: e.error_description, status: e.status, reqId: e.response?.headers.get('x-request-id') ?? undefined };
  }
  throw new Error('the token request succeeded');
}

/** A token request as a client that builds its own, authenticated as rp (client_secret_basic). */
function tokenRequest(form: Record<string, string>) {
  const { client_id, client_secret } = rp.clientMetadata();
  return fetch(rp.serverMetadata().token_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}` },
    body: new URLSearchParams(form),
  });
}

const exchange = (client: oidc.Configuration, url: URL, verifier: string, state: string) =>
  oidc.authorizationCodeGrant(client, url, { pkceCodeVerifier: verifier, expectedState: state });

/**
 * Lets a stored code or token run out as time would: its `exp` in the past, and
 * (after a second) its storage lifetime too, so only the adapters' grace keeps it.
 */
async function expire(model: 'AuthorizationCode' | 'RefreshToken', id: string) {
  const adapter = server.runtime.adapters(model);
  const payload = await adapter.find(id);
  if (!payload) throw new Error(`no stored ${model}`);
  const now = Math.floor(Date.now() / 1000);
  await adapter.upsert(id, { ...payload, exp: now - 1 }, 1);
  await sleep(2100);
}

test('a wrong PKCE verifier says PKCE verification failed', async (t) => {
  const { url, state } = await authorizationResponse();
  const answer = await refusal(exchange(rp, url, oidc.randomPKCECodeVerifier(), state));
  t.is(answer.status, 400);
  t.is(answer.error, 'invalid_grant');
  t.is(answer.description, 'PKCE verification failed: code_verifier does not match the code_challenge of the authorization request');
});

test('a missing PKCE verifier says so', async (t) => {
  const { url } = await authorizationResponse();
  // openid-client always sends a verifier when given one; here the client forgets it.
  const response = await tokenRequest({ grant_type: 'authorization_code', code: url.searchParams.get('code')!, redirect_uri: REDIRECT_URI });
  t.is(response.status, 400);
  t.deepEqual(await response.json(), {
    error: 'invalid_grant',
    error_description: 'PKCE verification failed: code_verifier is missing; the authorization request sent a code_challenge',
  });
});

test('a redirect_uri other than the authorization request\'s is named', async (t) => {
  const { url, verifier, state } = await authorizationResponse();
  // openid-client sends the URL it was called back at (without its query) as redirect_uri.
  const elsewhere = new URL(url);
  elsewhere.pathname = '/other-callback';
  const answer = await refusal(exchange(rp, elsewhere, verifier, state));
  t.is(answer.error, 'invalid_grant');
  t.is(answer.description, 'redirect_uri does not match the one in the authorization request');
});

test('a reused authorization code says it was already used, and the log says why with the request id and no code', async (t) => {
  const { url, verifier, state } = await authorizationResponse();
  const first = await exchange(rp, url, verifier, state);
  t.truthy(first.access_token);
  const answer = await refusal(exchange(rp, url, verifier, state));
  t.is(answer.error, 'invalid_grant');
  t.is(answer.description, 'authorization code already used; the tokens issued with it are revoked');
  // RFC 6749 §4.1.2: the tokens issued with it are revoked indeed.
  const introspected = await oidc.tokenIntrospection(rp, first.refresh_token ?? first.access_token);
  t.false(introspected.active);

  t.truthy(answer.reqId);
  const line = logged.find((entry) => entry.reqId === answer.reqId && entry.msg === 'oidc request refused');
  t.truthy(line, 'logged with the request id the client saw');
  t.is(line?.error_detail, 'authorization code already consumed');
  t.is(line?.client_id, rp.clientMetadata().client_id);
  const code = url.searchParams.get('code')!;
  t.false(logged.some((entry) => JSON.stringify(entry).includes(code)), 'the code is nowhere in the log');
  t.false(logged.some((entry) => JSON.stringify(entry).includes(verifier)), 'nor the verifier');
});

test('an expired authorization code says it expired', async (t) => {
  const { url, verifier, state } = await authorizationResponse();
  await expire('AuthorizationCode', url.searchParams.get('code')!);
  const answer = await refusal(exchange(rp, url, verifier, state));
  t.is(answer.error, 'invalid_grant');
  t.is(answer.description, 'authorization code expired');
});

test('another client\'s code is answered exactly as a code that never existed', async (t) => {
  const { url, verifier, state } = await authorizationResponse(rp);
  const stolen = await refusal(exchange(other, url, verifier, state));
  const madeUp = new URL(url);
  madeUp.searchParams.set('code', 'no-such-code-0123456789abcdefghijklmnopq');
  const unknown = await refusal(exchange(other, madeUp, verifier, state));
  t.is(stolen.error, 'invalid_grant');
  t.is(stolen.description, 'authorization code not found for this client');
  t.deepEqual({ ...stolen, reqId: undefined }, { ...unknown, reqId: undefined });
  // The code is still good for the client it was issued to: nothing was consumed by the attempt.
  const tokens = await exchange(rp, url, verifier, state);
  t.truthy(tokens.access_token);
});

test('refresh tokens: already used (and the grant revoked), revoked, expired', async (t) => {
  const { tokens } = await signIn(rp, { ...user, scope: 'openid offline_access' });
  const first = tokens.refresh_token!;
  const rotated = await oidc.refreshTokenGrant(rp, first);
  t.truthy(rotated.refresh_token);

  const reused = await refusal(oidc.refreshTokenGrant(rp, first));
  t.is(reused.error, 'invalid_grant');
  t.is(reused.description, 'refresh token already used; it was replaced by a newer one, and every token of this grant is now revoked');
  const afterReuse = await refusal(oidc.refreshTokenGrant(rp, rotated.refresh_token!));
  t.is(afterReuse.description, 'refresh token not found for this client, or revoked', 'reuse revoked the newer one too (RFC 9700 §4.14.2)');

  const second = (await signIn(rp, { ...user, scope: 'openid offline_access' })).tokens.refresh_token!;
  await oidc.tokenRevocation(rp, second);
  const revoked = await refusal(oidc.refreshTokenGrant(rp, second));
  t.is(revoked.error, 'invalid_grant');
  t.is(revoked.description, 'refresh token not found for this client, or revoked');

  const third = (await signIn(rp, { ...user, scope: 'openid offline_access' })).tokens.refresh_token!;
  const byOther = await refusal(oidc.refreshTokenGrant(other, third));
  t.is(byOther.description, 'refresh token not found for this client, or revoked', 'another client learns nothing more');
  await expire('RefreshToken', third);
  const expired = await refusal(oidc.refreshTokenGrant(rp, third));
  t.is(expired.error, 'invalid_grant');
  t.is(expired.description, 'refresh token expired');
});

test('a device_code this client was never given says so', async (t) => {
  const response = await tokenRequest({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'no-such-device-code-0123456789abcdef' });
  t.is(response.status, 400);
  t.deepEqual(await response.json(), { error: 'invalid_grant', error_description: 'device_code not found for this client' });
});

test('docs/troubleshooting.md has a row for every error_description the token endpoint gives', async (t) => {
  const doc = await readFile(new URL('../docs/troubleshooting.md', import.meta.url), 'utf8');
  const described = new Set(Object.values(GRANT_ERROR_DESCRIPTIONS).flatMap((byDetail) => Object.values(byDetail)));
  t.deepEqual([...described].filter((description) => !doc.includes(`| \`invalid_grant\` | ${description} |`)), []);
});

test('only requests that end refused are logged as refused: a JWT access token answered at introspection, revocation and userinfo is not', async (t) => {
  const { tokens } = await signIn(rp, { ...user, scope: 'openid email' });
  const jwt = tokens.access_token;
  t.is(jwt.split('.').length, 3, 'an RFC 9068 JWT access token');
  const { client_id, client_secret } = rp.clientMetadata();
  const basic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
  const post = (url: string, form: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: new URLSearchParams(form) });

  // oidc-provider declines a structured token (unsupported_token_type, invalid_token)
  // and Enot ID answers in its place: 200s that must not read as refusals in the log.
  const introspection = await post(rp.serverMetadata().introspection_endpoint!, { token: jwt });
  t.is(introspection.status, 200);
  t.true(((await introspection.json()) as { active: boolean }).active);
  const userinfo = await fetch(rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${jwt}` } });
  t.is(userinfo.status, 200);
  const revocation = await post(rp.serverMetadata().revocation_endpoint!, { token: jwt });
  t.is(revocation.status, 200);
  // A JWT that is refused in the end (revoked, at userinfo) is still logged as refused.
  const refused = await fetch(rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${jwt}` } });
  t.is(refused.status, 401);

  await sleep(100);
  const refusalOf = (response: Response) => logged.find((entry) => entry.reqId === response.headers.get('x-request-id') && entry.msg === 'oidc request refused');
  t.truthy(introspection.headers.get('x-request-id'));
  t.is(refusalOf(introspection), undefined, 'introspection answered 200');
  t.is(refusalOf(userinfo), undefined, 'userinfo answered 200');
  t.is(refusalOf(revocation), undefined, 'revocation answered 200');
  t.like(refusalOf(refused), { route: 'userinfo', status: 401, error: 'invalid_token' });
});

test('an authorization request refused back to the client (prompt=none, nobody signed in) is logged as refused', async (t) => {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const response = await fetch(url, { redirect: 'manual' });
  t.true(response.status === 302 || response.status === 303, `a redirect, not ${response.status}`);
  const location = new URL(response.headers.get('location')!);
  t.is(`${location.origin}${location.pathname}`, REDIRECT_URI);
  t.is(location.searchParams.get('error'), 'login_required');
  await sleep(100);
  const line = logged.find((entry) => entry.reqId === response.headers.get('x-request-id') && entry.msg === 'oidc request refused');
  t.like(line, { route: 'authorization', error: 'login_required', client_id: rp.clientMetadata().client_id });
});
