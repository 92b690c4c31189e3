// Who may introspect which token (RFC 7662 §4): its own client, and the clients
// registered as resource servers of its audience (RFC 8707 resource); every
// other client hears `active: false` (§2.2), for JWT and opaque tokens alike.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT, grantClientScopes } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { addResourceClient, removeResourceClient, resourceClients, resourcesServedBy } from '../server/rbac/resource-clients.ts';
import { RBAC_CACHE_TTL_MS } from '../server/rbac/short-lived-cache.ts';

const DEFAULT_RESOURCE = 'urn:enot-id:api';
const OPAQUE_RESOURCE = 'urn:test:opaque-api';
const OTHER_API = 'https://other.example.test';
const user = { email: 'ida@example.com', password: 'correct horse battery staple' };
let server: TestServer;
/** The client the tokens are issued to. */
let owner: oidc.Configuration;
/** Registered as the resource server of both resources the tokens are for. */
let resourceServer: oidc.Configuration;
/** A resource server too, but of another API. */
let otherApi: oidc.Configuration;
/** A confidential client with no registration at all. */
let unrelated: oidc.Configuration;
let tokens: { access: Record<string, string>; refresh: string };

const idOf = (config: oidc.Configuration) => config.clientMetadata().client_id;

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([
      { identifier: OPAQUE_RESOURCE, scope: 'opaque:read', accessTokenFormat: 'opaque' },
      { identifier: OTHER_API, scope: 'other:read' },
    ]),
  });
  const db = server.runtime.db;
  owner = await registerClient(server.issuer, { scope: 'openid offline_access api:read opaque:read' });
  [resourceServer, otherApi, unrelated] = await Promise.all([registerClient(server.issuer), registerClient(server.issuer), registerClient(server.issuer)]);
  await addResourceClient(db, DEFAULT_RESOURCE, idOf(resourceServer));
  await addResourceClient(db, OPAQUE_RESOURCE, idOf(resourceServer));
  await addResourceClient(db, OTHER_API, idOf(otherApi));
  await grantClientScopes(server, owner, ['api:read']);
  await grantClientScopes(server, owner, ['opaque:read'], OPAQUE_RESOURCE);
  await createAccount(db, user);

  const jwtUser = (await signIn(owner, { ...user, scope: 'openid offline_access api:read' })).tokens;
  const opaqueUser = (await signIn(owner, { ...user, scope: 'openid opaque:read', resource: OPAQUE_RESOURCE })).tokens;
  tokens = {
    access: {
      'user JWT': jwtUser.access_token,
      'user opaque': opaqueUser.access_token,
      'client credentials JWT': (await oidc.clientCredentialsGrant(owner, { scope: 'api:read' })).access_token,
      'client credentials opaque': (await oidc.clientCredentialsGrant(owner, { scope: 'opaque:read', resource: OPAQUE_RESOURCE })).access_token,
    },
    refresh: jwtUser.refresh_token!,
  };
});

test.after.always(async () => {
  await server?.stop();
});

test('the registrations read back both ways', async (t) => {
  t.deepEqual(await resourcesServedBy(server.runtime.db, idOf(resourceServer)), [DEFAULT_RESOURCE, OPAQUE_RESOURCE].sort());
  t.deepEqual(await resourceClients(server.runtime.db, OTHER_API), [idOf(otherApi)]);
});

test('the token\'s own client: every token is active, the refresh token too', async (t) => {
  t.is(tokens.access['user opaque']!.split('.').length, 1, 'opaque, not a JWT');
  t.is(tokens.access['user JWT']!.split('.').length, 3, 'a JWT');
  for (const [name, token] of Object.entries({ ...tokens.access, refresh: tokens.refresh })) {
    t.true((await oidc.tokenIntrospection(owner, token)).active, name);
  }
});

test('the resource server registered for the token\'s audience: its access tokens are active; a refresh token is not its business', async (t) => {
  for (const [name, token] of Object.entries(tokens.access)) {
    const answer = await oidc.tokenIntrospection(resourceServer, token);
    t.true(answer.active, name);
    t.is(answer.client_id, idOf(owner), name);
    t.true([answer.aud].flat().some((aud) => aud === DEFAULT_RESOURCE || aud === OPAQUE_RESOURCE), `${name}: ${JSON.stringify(answer.aud)}`);
  }
  t.deepEqual(await oidc.tokenIntrospection(resourceServer, tokens.refresh), { active: false });
});

test('an unrelated confidential client, and the resource server of another API, hear active: false for JWT and opaque tokens', async (t) => {
  for (const client of [unrelated, otherApi]) {
    for (const [name, token] of Object.entries({ ...tokens.access, refresh: tokens.refresh })) {
      t.deepEqual(await oidc.tokenIntrospection(client, token), { active: false }, name);
    }
  }
});

test('a public client learns about its own tokens only', async (t) => {
  const spa = await registerClient(server.issuer, {
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid api:read',
  });
  // A public client cannot be a resource server (RFC 7662 §2.1 asks for authorization), even if registered as one.
  await addResourceClient(server.runtime.db, DEFAULT_RESOURCE, idOf(spa));
  const own = (await signIn(spa, { ...user, scope: 'openid api:read' })).tokens.access_token;
  t.true((await oidc.tokenIntrospection(spa, own)).active);
  for (const [name, token] of Object.entries(tokens.access)) {
    t.deepEqual(await oidc.tokenIntrospection(spa, token), { active: false }, name);
  }
});

test('a removed registration stops introspection within the cache lifetime', async (t) => {
  const leaving = await registerClient(server.issuer);
  await addResourceClient(server.runtime.db, DEFAULT_RESOURCE, idOf(leaving));
  const token = tokens.access['client credentials JWT']!;
  t.true((await oidc.tokenIntrospection(leaving, token)).active);
  t.true(await removeResourceClient(server.runtime.db, DEFAULT_RESOURCE, idOf(leaving)));
  await new Promise((resolve) => setTimeout(resolve, RBAC_CACHE_TTL_MS + 100));
  t.deepEqual(await oidc.tokenIntrospection(leaving, token), { active: false });
});
