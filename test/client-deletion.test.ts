// A deleted client's tokens are dead (RFC 7592 §2.3): another client (a
// resource server) introspecting them hears `active: false` (RFC 7662 §2.2),
// userinfo refuses them (RFC 6750 §3.1), its refresh tokens are refused. Never a 500.
import test, { type ExecutionContext } from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';

const OPAQUE_RESOURCE = 'urn:test:opaque-api';
const SCOPE = 'openid offline_access api:read opaque:read';
let server: TestServer;
/** A resource server: a confidential client that introspects the tokens presented to it. */
let api: oidc.Configuration;
const user = { email: 'grace@example.com', password: 'correct horse battery staple' };

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([{ identifier: OPAQUE_RESOURCE, scope: 'opaque:read', accessTokenFormat: 'opaque' }]),
  });
  api = await registerClient(server.issuer, { scope: SCOPE });
  await createAccount(server.runtime.db, { ...user, roles: [] });
});

test.after.always(async () => {
  await server?.stop();
});

function basic(config: oidc.Configuration): string {
  const { client_id, client_secret } = config.clientMetadata();
  const part = (s: unknown) => encodeURIComponent(String(s));
  return `Basic ${Buffer.from(`${part(client_id)}:${part(client_secret)}`).toString('base64')}`;
}

/** RFC 7662 §2.1 as the resource server sends it; the raw status, so a 500 shows as one. */
async function introspect(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(api.serverMetadata().introspection_endpoint!, {
    method: 'POST',
    headers: { authorization: basic(api), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function userinfo(accessToken: string) {
  const response = await fetch(api.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', body: await response.text() };
}

/** Every kind of token a client can hold: user-bound and client-credentials, JWT and opaque, and refresh tokens. */
async function tokensOf(client: oidc.Configuration) {
  const jwtUser = (await signIn(client, { ...user, scope: 'openid offline_access api:read' })).tokens;
  const opaqueUser = (await signIn(client, { ...user, scope: 'openid offline_access opaque:read', resource: OPAQUE_RESOURCE })).tokens;
  const jwtClient = await oidc.clientCredentialsGrant(client, { scope: 'api:read' });
  const opaqueClient = await oidc.clientCredentialsGrant(client, { scope: 'opaque:read', resource: OPAQUE_RESOURCE });
  return {
    access: {
      'user JWT': jwtUser.access_token,
      'user opaque': opaqueUser.access_token,
      'client credentials JWT': jwtClient.access_token,
      'client credentials opaque': opaqueClient.access_token,
    },
    refresh: { 'refresh (JWT grant)': jwtUser.refresh_token!, 'refresh (opaque grant)': opaqueUser.refresh_token! },
    userinfoToken: jwtUser.access_token,
  };
}

type Tokens = Awaited<ReturnType<typeof tokensOf>>;

async function assertAllActive(t: ExecutionContext, tokens: Tokens) {
  t.is(tokens.access['user opaque'].split('.').length, 1, 'opaque, not a JWT');
  t.is(tokens.access['user JWT'].split('.').length, 3, 'a JWT');
  for (const [name, token] of Object.entries({ ...tokens.access, ...tokens.refresh })) {
    const { status, body } = await introspect(token);
    t.is(status, 200, name);
    t.true(body.active, `${name} is active before deletion`);
  }
  t.is((await userinfo(tokens.userinfoToken)).status, 200);
}

async function assertAllInactive(t: ExecutionContext, client: oidc.Configuration, tokens: Tokens) {
  for (const [name, token] of Object.entries({ ...tokens.access, ...tokens.refresh })) {
    const { status, body } = await introspect(token);
    t.is(status, 200, `${name}: ${JSON.stringify(body)}`);
    t.deepEqual(body, { active: false }, name);
  }
  const info = await userinfo(tokens.userinfoToken);
  t.is(info.status, 401, info.body);
  t.regex(info.challenge, /error="invalid_token"/);

  for (const [name, token] of Object.entries(tokens.refresh)) {
    // The deleted client can no longer authenticate (RFC 6749 §5.2)...
    const own = await oidc.refreshTokenGrant(client, token).catch((err: unknown) => err);
    t.true(own instanceof oidc.ResponseBodyError, `${name}: ${String(own)}`);
    t.is((own as oidc.ResponseBodyError).error, 'invalid_client', name);
    // ...and another client may not use its refresh tokens.
    const other = await oidc.refreshTokenGrant(api, token).catch((err: unknown) => err);
    t.true(other instanceof oidc.ResponseBodyError, `${name}: ${String(other)}`);
    t.is((other as oidc.ResponseBodyError).error, 'invalid_grant', name);
  }
}

test('tokens that outlive their client, as grants and tokens in Redis do, are inactive all the same', async (t) => {
  const doomed = await registerClient(server.issuer, { scope: SCOPE });
  const tokens = await tokensOf(doomed);
  await assertAllActive(t, tokens);
  // Only the client goes; everything it was given stays stored.
  await server.runtime.adapters('Client').destroy(doomed.clientMetadata().client_id);
  await assertAllInactive(t, doomed, tokens);
});
