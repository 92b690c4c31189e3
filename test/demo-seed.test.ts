// Demo mode's data (server/demo/seed.ts) is written at every start without
// duplicating anything or undoing what the operator changed since; its clients are
// valid ones that oidc-provider loads and that get the orders API's tokens.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { serverMode } from './helpers/environment.ts';
import { oidc, insecure } from './helpers/oidc.ts';
import { loadConfig } from '../server/config/index.ts';
import { DEMO_API_CLIENT_ID, DEMO_EMAIL, DEMO_ROLE, DEMO_WEB_CLIENT_ID, seedDemo } from '../server/demo/seed.ts';
import { findRole, grantPermissions } from '../server/rbac/roles.ts';
import { resourceClients } from '../server/rbac/resource-clients.ts';

const ORDERS = 'https://orders.example.com';
let server: TestServer;

test.before(async () => {
  server = await startTestServer({ ENOT_DEMO: 'true', ...(serverMode ? { ENOT_DEMO_ALLOW_DATABASE_URL: 'true' } : {}) });
});

test.after.always(async () => {
  await server?.stop();
});

test.serial('two demo processes seeding the same database at once end with one demo account holding the role', async (t) => {
  const config = loadConfig(server.environment.env);
  const clients = server.runtime.adapters('Client');
  await Promise.all([seedDemo(server.runtime.db, clients, config, config.demo!), seedDemo(server.runtime.db, clients, config, config.demo!)]);
  const accounts = await server.runtime.db('accounts').where({ email: DEMO_EMAIL }).select('id');
  t.is(accounts.length, 1);
  t.deepEqual(await server.runtime.db('account_roles').where({ account_id: accounts[0].id, role_name: DEMO_ROLE }).pluck('role_name'), [DEMO_ROLE]);
});

test.serial('seeding twice: the same clients and secrets, one demo account, and the operator’s later changes kept', async (t) => {
  const { db } = server.runtime;
  const config = loadConfig(server.environment.env);
  const clients = server.runtime.adapters('Client');
  const first = await seedDemo(db, clients, config, config.demo!);

  // The first seed moved orders:write from the default role to the demo role; orders:read stays with everyone.
  const user = await findRole(db, 'user');
  t.deepEqual(user!.permissions.filter((p) => p.resource === ORDERS).map((p) => p.scope), ['orders:read']);
  t.deepEqual((await findRole(db, DEMO_ROLE))!.permissions.map((p) => p.scope), ['orders:read', 'orders:write']);
  // The operator gives it back to everyone; a restart must not take it away again.
  await grantPermissions(db, 'user', ORDERS, ['orders:write']);

  const second = await seedDemo(db, clients, config, config.demo!);
  t.deepEqual(second, first, 'same ids and secrets');
  t.deepEqual((await findRole(db, 'user'))!.permissions.filter((p) => p.resource === ORDERS).map((p) => p.scope), ['orders:read', 'orders:write']);
  const accounts = await db('accounts').where({ email: DEMO_EMAIL }).select('id');
  t.is(accounts.length, 1);
  const roles = await db('account_roles').where({ account_id: accounts[0].id }).pluck('role_name');
  t.true(roles.includes(DEMO_ROLE), roles.join(','));
  t.deepEqual(await resourceClients(db, ORDERS), [DEMO_API_CLIENT_ID]);
  t.is(first.web.clientId, DEMO_WEB_CLIENT_ID);
  t.regex(first.web.clientSecret, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
  t.not(first.web.clientSecret, first.api.clientSecret);
});

test.serial('the seeded clients load in oidc-provider: the API client authenticates and introspects, the web client is registered for the sample app', async (t) => {
  const config = loadConfig(server.environment.env);
  const { api, web } = await seedDemo(server.runtime.db, server.runtime.adapters('Client'), config, config.demo!);
  const apiClient = await oidc.discovery(new URL(server.issuer), api.clientId, api.clientSecret, oidc.ClientSecretBasic(api.clientSecret), insecure);
  // A working client authentication: introspection answers (inactive for a token that is none).
  t.false((await oidc.tokenIntrospection(apiClient, 'not-a-token')).active);
  const wrong = await oidc.discovery(new URL(server.issuer), api.clientId, 'wrong-secret', oidc.ClientSecretBasic('wrong-secret'), insecure);
  const refused = await t.throwsAsync(oidc.tokenIntrospection(wrong, 'not-a-token'), { instanceOf: oidc.WWWAuthenticateChallengeError });
  t.is(refused!.status, 401, 'a wrong secret is refused: the right one is what authenticated above');

  const webClient = await oidc.discovery(new URL(server.issuer), web.clientId, web.clientSecret, oidc.ClientSecretBasic(web.clientSecret), insecure);
  const authorization = oidc.buildAuthorizationUrl(webClient, {
    redirect_uri: `${config.demo!.webAppUrl}/callback`,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    resource: ORDERS,
  });
  const response = await fetch(authorization, { redirect: 'manual' });
  // Accepted: on to the sign-in page, not an error page about the client or its redirect_uri.
  t.is(response.status, 303, await response.text());
  t.regex(response.headers.get('location') ?? '', /\/interaction\//);
});
