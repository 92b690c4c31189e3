// Issue 10 B1 (RFC 9449) and A8 (/me audience). DPoP is advertised in discovery,
// so a DPoP-bound JWT access token must work at userinfo with a valid proof
// (§7.1) and must not work as a plain Bearer token or with a wrong or replayed
// proof (§7.2, §11.1); introspection says token_type DPoP (RFC 7662 §2.2).
// Userinfo accepts only tokens for the default resource, not those issued for
// another API (which could otherwise read the person's profile with them).
import test from 'ava';
import { SignJWT, exportJWK, calculateJwkThumbprint, generateKeyPair } from 'jose';
import { createHash, randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, beginAuthorization, oidc, TEST_IAT, REDIRECT_URI, signIn } from './helpers/oidc.ts';
import { readForm } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
let rp: oidc.Configuration;
const USER = { email: 'dpop.user@example.com', password: 'proofs bound to keys' };
const ORDERS_API = 'https://orders.example.test';

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([{ identifier: ORDERS_API, scope: 'orders:read' }]),
  });
  rp = await registerClient(server.issuer, { client_name: 'DPoP RP' });
  await createAccount(server.runtime.db, USER);
});

test.after.always(async () => {
  await server?.stop();
});

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

/** Signs in through the pages, redeeming the code with a DPoP proof of `keyPair`. */
async function dpopTokens(keyPair: oidc.CryptoKeyPair) {
  const started = await beginAuthorization(rp, 'openid email');
  const form = readForm(started.page, /\/code$/);
  let page = await started.browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: USER.email, password: USER.password }, REDIRECT_URI);
  if (!page.url.startsWith(REDIRECT_URI)) {
    const consent = readForm(page, /\/confirm$/);
    page = await started.browser.submit(consent.action, consent.hidden, REDIRECT_URI);
  }
  return oidc.authorizationCodeGrant(rp, new URL(page.url), { pkceCodeVerifier: started.verifier, expectedState: started.state }, undefined, {
    DPoP: oidc.getDPoPHandle(rp, keyPair),
  });
}

/** A DPoP proof (RFC 9449 §4.2) for GET /me with the given key, as a client would make it. */
async function proof(keyPair: oidc.CryptoKeyPair, accessToken: string, overrides: Record<string, unknown> = {}) {
  const jwk = await exportJWK(keyPair.publicKey);
  return new SignJWT({
    htm: 'GET',
    htu: `${server.issuer}/me`,
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(accessToken).digest('base64url'),
    ...overrides,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .sign(keyPair.privateKey);
}

const userinfo = (headers: Record<string, string>) =>
  fetch(`${server.issuer}/me`, { headers }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown>, www: r.headers.get('www-authenticate') }));

test('a DPoP-bound JWT works at userinfo with a valid proof, through openid-client', async (t) => {
  const keyPair = await oidc.randomDPoPKeyPair('ES256');
  const tokens = await dpopTokens(keyPair);
  t.is(tokens.token_type.toLowerCase(), 'dpop');
  const jkt = claimsOf(tokens.access_token).cnf?.jkt;
  t.is(jkt, await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)));
  const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub, { DPoP: oidc.getDPoPHandle(rp, keyPair) });
  t.is(info.email, USER.email);
});

test('a DPoP-bound JWT is refused as a plain Bearer token, with another key, a wrong ath, a wrong htu, or a replayed proof', async (t) => {
  const keyPair = await generateKeyPair('ES256', { extractable: true });
  const tokens = await dpopTokens(keyPair as oidc.CryptoKeyPair);
  const token = tokens.access_token;

  const bearer = await userinfo({ authorization: `Bearer ${token}` });
  t.is(bearer.status, 401, JSON.stringify(bearer.body));
  t.is(bearer.body.error, 'invalid_token');

  const other = await generateKeyPair('ES256', { extractable: true });
  const wrongKey = await userinfo({ authorization: `DPoP ${token}`, dpop: await proof(other, token) });
  t.is(wrongKey.status, 401);

  const wrongAth = await userinfo({ authorization: `DPoP ${token}`, dpop: await proof(keyPair, token, { ath: 'x'.repeat(43) }) });
  t.is(wrongAth.status, 401);

  const wrongHtu = await userinfo({ authorization: `DPoP ${token}`, dpop: await proof(keyPair, token, { htu: 'https://evil.example/me' }) });
  t.is(wrongHtu.status, 401);

  const stale = await userinfo({ authorization: `DPoP ${token}`, dpop: await proof(keyPair, token, { iat: Math.floor(Date.now() / 1000) - 3600 }) });
  t.is(stale.status, 401);

  const once = await proof(keyPair, token);
  const first = await userinfo({ authorization: `DPoP ${token}`, dpop: once });
  t.is(first.status, 200, JSON.stringify(first.body));
  t.is(first.body.email, USER.email);
  const replayed = await userinfo({ authorization: `DPoP ${token}`, dpop: once });
  t.is(replayed.status, 401);
  t.regex(replayed.www ?? '', /^DPoP /);
});

test('introspection says token_type DPoP for a DPoP-bound JWT and Bearer for a plain one', async (t) => {
  const keyPair = await oidc.randomDPoPKeyPair('ES256');
  const bound = await dpopTokens(keyPair);
  const boundInfo = await oidc.tokenIntrospection(rp, bound.access_token);
  t.true(boundInfo.active);
  t.is(boundInfo.token_type, 'DPoP');
  const plain = await signIn(rp, { ...USER, scope: 'openid email' });
  const plainInfo = await oidc.tokenIntrospection(rp, plain.tokens.access_token);
  t.true(plainInfo.active);
  t.is(plainInfo.token_type, 'Bearer');
  // An unbound token presented with the DPoP scheme is refused (RFC 9449 §7.1).
  const keyPair2 = await generateKeyPair('ES256', { extractable: true });
  const asDpop = await userinfo({ authorization: `DPoP ${plain.tokens.access_token}`, dpop: await proof(keyPair2, plain.tokens.access_token) });
  t.is(asDpop.status, 401);
});

test('userinfo refuses an access token issued for another API', async (t) => {
  const forOrders = await signIn(rp, { ...USER, scope: 'openid email orders:read', resource: ORDERS_API });
  t.is(claimsOf(forOrders.tokens.access_token).aud, ORDERS_API);
  const refused = await userinfo({ authorization: `Bearer ${forOrders.tokens.access_token}` });
  t.is(refused.status, 401);
  t.is(refused.body.error, 'invalid_token');
  // The default resource's token still works.
  const plain = await signIn(rp, { ...USER, scope: 'openid email' });
  const ok = await userinfo({ authorization: `Bearer ${plain.tokens.access_token}` });
  t.is(ok.status, 200);
  t.is(ok.body.email, USER.email);
});
