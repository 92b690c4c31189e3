// Issue 11 §1: roles grant permissions (scopes) on API resources; a token for a
// resource carries only the requested scopes that the subject's roles grant, a
// person's or (client credentials) the client's own. A change applies to the next token.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT, grantClientScopes } from './helpers/oidc.ts';
import { createAccount, insertVerifiedAccount } from '../server/accounts/create-account.ts';
import { findAccountById } from '../server/accounts/queries.ts';
import { addAccountRoles, grantPermissions, removeAccountRoles, revokePermissions } from '../server/rbac/roles.ts';
import { loadConfig, ConfigError } from '../server/config/index.ts';
import { testEnvironment } from './helpers/environment.ts';

const ORDERS = 'https://orders.example.test';
// A second API with a scope of the same name: a permission is on one resource only.
const LEDGER = 'https://ledger.example.test';
const ORDERS_CONFIG = {
  RESOURCE_SERVERS: JSON.stringify([{ identifier: ORDERS, scope: 'orders:read orders:write' }, { identifier: LEDGER, scope: 'ledger:read orders:write' }]),
};
let server: TestServer;
let rp: oidc.Configuration;
let writerId: string;
const READER = { email: 'reader@example.com', password: 'turning the pages 1' };
const WRITER = { email: 'writer@example.com', password: 'ink on the paper 1' };

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, ...ORDERS_CONFIG });
  rp = await registerClient(server.issuer, { client_name: 'Shop' });
  // Configured scopes start granted to the default role; writing becomes a role of its own.
  await revokePermissions(server.runtime.db, 'user', ORDERS, ['orders:write']);
  await revokePermissions(server.runtime.db, 'user', LEDGER, ['orders:write']);
  await grantPermissions(server.runtime.db, 'orders-writer', ORDERS, ['orders:write']);
  await createAccount(server.runtime.db, READER);
  writerId = await createAccount(server.runtime.db, { ...WRITER, roles: ['orders-writer'] });
});

test.after.always(async () => {
  await server?.stop();
});

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, any>;
const scopesOf = (value: unknown) => (typeof value === 'string' ? value.split(' ').filter(Boolean).sort() : []);

test('a person without the granting role gets the token without that scope; the response and introspection say so', async (t) => {
  const { tokens } = await signIn(rp, { ...READER, scope: 'openid orders:read orders:write', resource: ORDERS });
  t.deepEqual(scopesOf(claimsOf(tokens.access_token).scope), ['orders:read']);
  t.true(scopesOf(tokens.scope).includes('orders:read'));
  t.false(scopesOf(tokens.scope).includes('orders:write'), `token response scope: ${tokens.scope}`);
  const introspected = await oidc.tokenIntrospection(rp, tokens.access_token);
  t.deepEqual(scopesOf(introspected.scope), ['orders:read']);
});

test('with the role the scope is there; taking the role away applies to the next token (refresh)', async (t) => {
  const { tokens } = await signIn(rp, { ...WRITER, scope: 'openid offline_access orders:read orders:write', resource: ORDERS });
  t.deepEqual(scopesOf(claimsOf(tokens.access_token).scope), ['orders:read', 'orders:write']);
  t.deepEqual(scopesOf((await oidc.tokenIntrospection(rp, tokens.access_token)).scope), ['orders:read', 'orders:write']);

  await removeAccountRoles(server.runtime.db, writerId, ['orders-writer']);
  const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!, { resource: ORDERS });
  t.deepEqual(scopesOf(claimsOf(refreshed.access_token).scope), ['orders:read']);
  await addAccountRoles(server.runtime.db, writerId, ['orders-writer']);
  const again = await oidc.refreshTokenGrant(rp, refreshed.refresh_token!, { resource: ORDERS });
  t.deepEqual(scopesOf(claimsOf(again.access_token).scope), ['orders:read', 'orders:write']);
});

test('a role\'s permission on one resource grants nothing on another with a scope of the same name', async (t) => {
  const { tokens } = await signIn(rp, { ...WRITER, scope: 'openid ledger:read orders:write', resource: LEDGER });
  t.deepEqual(scopesOf(claimsOf(tokens.access_token).scope), ['ledger:read']);
  t.is(claimsOf(tokens.access_token).aud, LEDGER);
  const orders = await signIn(rp, { ...WRITER, scope: 'openid orders:read orders:write', resource: ORDERS });
  t.deepEqual(scopesOf(claimsOf(orders.tokens.access_token).scope), ['orders:read', 'orders:write']);
});

test('a machine client gets only what its own roles grant', async (t) => {
  const machine = await registerClient(server.issuer, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  const without = await oidc.clientCredentialsGrant(machine, { scope: 'orders:read orders:write', resource: ORDERS });
  t.is(claimsOf(without.access_token).scope, undefined);
  t.is(without.scope, undefined, 'no empty scope in the response');

  await grantClientScopes(server, machine, ['orders:read'], ORDERS);
  // Machine clients' grants are remembered for up to 5 s per process (docs: RBAC_CACHE_TTL_MS).
  await new Promise((resolve) => setTimeout(resolve, 5_100));
  const withRole = await oidc.clientCredentialsGrant(machine, { scope: 'orders:read orders:write', resource: ORDERS });
  t.is(claimsOf(withRole.access_token).scope, 'orders:read');
  t.is(withRole.scope, 'orders:read');
  t.is((await oidc.tokenIntrospection(machine, withRole.access_token)).scope, 'orders:read');
});

test('new accounts get the default roles; the roles claim lists them', async (t) => {
  const id = await insertVerifiedAccount(server.runtime.db, { identifier: { kind: 'email', value: 'newcomer@example.com' }, passwordHash: null });
  t.deepEqual((await findAccountById(server.runtime.db, id))!.roles, ['user']);
});

test('DEFAULT_ROLES is configurable and validated; a restart does not give back a permission taken from a role', async (t) => {
  t.deepEqual(loadConfig({ DEFAULT_ROLES: 'member, user' }).defaultRoles, ['member', 'user']);
  t.deepEqual(loadConfig({ DEFAULT_ROLES: 'none' }).defaultRoles, []);
  t.throws(() => loadConfig({ DEFAULT_ROLES: 'Bad Role' }), { instanceOf: ConfigError, message: /DEFAULT_ROLES/ });

  const environment = await testEnvironment({ ...ORDERS_CONFIG, DEFAULT_ROLES: 'member' });
  t.teardown(() => environment.cleanup());
  let restarted = await startTestServer({}, environment);
  const db = () => restarted.runtime.db;
  const grants = async () => (await db()('role_permissions').where({ resource: ORDERS }).orderBy(['role_name', 'scope']).select('role_name', 'scope'));
  t.deepEqual(await grants(), [{ role_name: 'member', scope: 'orders:read' }, { role_name: 'member', scope: 'orders:write' }]);
  const id = await insertVerifiedAccount(db(), { identifier: { kind: 'phone', value: '+15555550100' }, passwordHash: null });
  t.deepEqual((await findAccountById(db(), id))!.roles, ['member']);
  await revokePermissions(db(), 'member', ORDERS, ['orders:write']);
  await restarted.stop();
  restarted = await startTestServer({}, environment);
  t.deepEqual(await grants(), [{ role_name: 'member', scope: 'orders:read' }]);
  await restarted.stop();
});
