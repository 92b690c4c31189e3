// Issue 11 §5: the example API (examples/orders-api/) against a real Enot ID.
// Its GET verifies the JWT access token offline (RFC 9068), its POST asks
// introspection (RFC 7662) as the client registered for the orders resource;
// each answers 401 without a good token, 403 insufficient_scope without the
// permission the person's roles grant (RFC 6750 §3), and succeeds otherwise.
import test from 'ava';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT, grantClientScopes } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { grantPermissions, revokePermissions } from '../server/rbac/roles.ts';
import { addResourceClient } from '../server/rbac/resource-clients.ts';
import { createOrdersApi } from '../examples/orders-api/orders-api.ts';

const ORDERS = 'https://orders.example.test';
const OTHER_API = 'https://billing.example.test';
const READER = { email: 'reader@example.com', password: 'turning the pages 1' };
const WRITER = { email: 'writer@example.com', password: 'ink on the paper 1' };
const CLERK = { email: 'clerk@example.com', password: 'stamps and forms 11' };
const ORDERS_SCOPE = 'openid offline_access orders:read orders:write';
let server: TestServer;
let shop: oidc.Configuration;
let api: Server;
let apiUrl: string;

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([
      { identifier: ORDERS, scope: 'orders:read orders:write' },
      { identifier: OTHER_API, scope: 'billing:read' },
    ]),
  });
  const db = server.runtime.db;
  // Configured scopes start granted to the default role; here each is a role of its own.
  await revokePermissions(db, 'user', ORDERS, ['orders:read', 'orders:write']);
  await grantPermissions(db, 'orders-reader', ORDERS, ['orders:read']);
  await grantPermissions(db, 'orders-writer', ORDERS, ['orders:write']);
  await createAccount(db, { ...READER, roles: ['orders-reader'] });
  await createAccount(db, { ...WRITER, roles: ['orders-writer'] });
  await createAccount(db, { ...CLERK, roles: ['orders-reader', 'orders-writer'] });
  shop = await registerClient(server.issuer, { client_name: 'Shop', scope: `${ORDERS_SCOPE} billing:read api:read` });

  // The API's own client, registered as the orders resource's introspecting client (RFC 7662 §4).
  const apiClient = await registerClient(server.issuer, { client_name: 'Orders API', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const { client_id, client_secret } = apiClient.clientMetadata();
  await addResourceClient(db, ORDERS, client_id);
  api = createOrdersApi({ issuer: server.issuer, audience: ORDERS, clientId: client_id, clientSecret: client_secret as string });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/orders`;
});

test.after.always(async () => {
  api?.closeAllConnections();
  api?.close();
  await server?.stop();
});

const tokenFor = async (person: { email: string; password: string }, resource = ORDERS, scope = ORDERS_SCOPE) =>
  (await signIn(shop, { ...person, scope, resource })).tokens.access_token;

async function call(method: 'GET' | 'POST', token?: string) {
  const response = await fetch(apiUrl, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify({ item: 'tea' }) } : {}),
  });
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', body: (await response.json()) as Record<string, unknown> };
}

for (const [method, way] of [['GET', 'JWT verified offline'], ['POST', 'introspection']] as const) {
  test(`${method} (${way}): no token is 401 with a bare Bearer challenge; a bad token is 401 invalid_token`, async (t) => {
    const none = await call(method);
    t.is(none.status, 401);
    // RFC 6750 §3.1: a request without credentials gets no error code.
    t.regex(none.challenge, /^Bearer realm="orders-api"$/);
    const bad = await call(method, 'not-a-token');
    t.is(bad.status, 401);
    t.regex(bad.challenge, /^Bearer .*error="invalid_token"/);
    t.is(bad.body.error, 'invalid_token');
  });
}

test('GET (JWT verified offline): with orders:read from the orders-reader role, 200; a person without that role, 403 insufficient_scope', async (t) => {
  const allowed = await call('GET', await tokenFor(READER));
  t.is(allowed.status, 200, JSON.stringify(allowed.body));
  t.true(Array.isArray(allowed.body.orders));

  const forbidden = await call('GET', await tokenFor(WRITER));
  t.is(forbidden.status, 403, JSON.stringify(forbidden.body));
  t.regex(forbidden.challenge, /^Bearer .*error="insufficient_scope".*scope="orders:read"/);
  t.is(forbidden.body.error, 'insufficient_scope');
});

test('POST (introspection): with orders:write from the orders-writer role, 201; a person without that role, 403 insufficient_scope', async (t) => {
  const created = await call('POST', await tokenFor(WRITER));
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is(created.body.item, 'tea');

  const forbidden = await call('POST', await tokenFor(READER));
  t.is(forbidden.status, 403, JSON.stringify(forbidden.body));
  t.regex(forbidden.challenge, /^Bearer .*error="insufficient_scope".*scope="orders:write"/);
});

test('a machine client holding a role that grants orders:write may POST (client credentials)', async (t) => {
  const machine = await registerClient(server.issuer, { client_name: 'Warehouse', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'orders:write' });
  await grantClientScopes(server, machine, ['orders:write'], ORDERS);
  const token = (await oidc.clientCredentialsGrant(machine, { scope: 'orders:write', resource: ORDERS })).access_token;
  const created = await call('POST', token);
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is(created.body.placedBy, machine.clientMetadata().client_id);
});

test('a revoked token is refused by the introspection route at once; offline verification cannot see it (RFC 9068)', async (t) => {
  const token = await tokenFor(CLERK);
  t.is((await call('POST', token)).status, 201);
  await oidc.tokenRevocation(shop, token);
  const refused = await call('POST', token);
  t.is(refused.status, 401, JSON.stringify(refused.body));
  t.regex(refused.challenge, /error="invalid_token"/);
  // The trade-off the README states: a JWT checked offline stays good until it expires.
  t.is((await call('GET', token)).status, 200);
});

test('a token for another API is refused by both routes, though its signature is good', async (t) => {
  for (const resource of [OTHER_API, 'urn:enot-id:api']) {
    const token = await tokenFor(CLERK, resource, resource === OTHER_API ? 'openid billing:read' : 'openid api:read');
    const offline = await call('GET', token);
    t.is(offline.status, 401, `${resource}: ${JSON.stringify(offline.body)}`);
    t.regex(offline.challenge, /error="invalid_token"/);
    // Introspection: this API's client is not registered for that resource, so Enot ID says active: false.
    t.is((await call('POST', token)).status, 401, resource);
  }
});
