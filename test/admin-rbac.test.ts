// Issue 11 §3 through the admin API: roles, resources and permissions, and
// giving an account roles; what changes reaches the next token.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { RBAC_CACHE_TTL_MS } from '../server/rbac/short-lived-cache.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
let api: ReturnType<typeof adminApi>;
let token: string;
let rp: oidc.Configuration;
const enc = encodeURIComponent;

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  api = adminApi(server.issuer);
  token = await clientToken(await machineClient(server), server.issuer);
  rp = await registerClient(server.issuer, { client_name: 'Warehouse' });
});

test.after.always(async () => {
  await server?.stop();
});

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

test('resources: create with scopes, 409 with the existing id, read, update, add and remove a permission, delete', async (t) => {
  const identifier = 'https://stock.example.test';
  const created = await api.call(t, 'post', '/resources', { token, body: { identifier, name: 'Stock', scopes: ['stock:read', 'stock:write'] } });
  t.is(created.status, 201);
  t.deepEqual(created.body.scopes, ['stock:read', 'stock:write']);
  t.false(created.body.configured);
  const again = await api.call(t, 'post', '/resources', { token, body: { identifier } });
  t.is(again.status, 409);
  t.is(again.body.existing_id, identifier);

  t.is((await api.call(t, 'get', `/resources/${enc(identifier)}`, { token })).body.name, 'Stock');
  const updated = await api.call(t, 'patch', `/resources/${enc(identifier)}`, { token, body: { access_token_format: 'opaque', access_token_ttl: 120 } });
  t.like(updated.body, { access_token_format: 'opaque', access_token_ttl: 120 });
  const added = await api.call(t, 'post', `/resources/${enc(identifier)}/permissions`, { token, body: { scope: 'stock:audit' } });
  t.is(added.status, 201);
  t.deepEqual(added.body.scopes, ['stock:audit', 'stock:read', 'stock:write']);
  t.is((await api.call(t, 'post', `/resources/${enc(identifier)}/permissions`, { token, body: { scope: 'stock:audit' } })).status, 409);
  t.is((await api.call(t, 'delete', `/resources/${enc(identifier)}/permissions/stock:audit`, { token })).status, 204);
  t.is((await api.call(t, 'delete', `/resources/${enc(identifier)}/permissions/stock:audit`, { token })).status, 404);
  t.is((await api.call(t, 'delete', `/resources/${enc(identifier)}`, { token })).status, 204);
  t.is((await api.call(t, 'get', `/resources/${enc(identifier)}`, { token })).status, 404);
});

test('permissions: read with what each allows, described when added, changed, 404 for a scope the resource lacks', async (t) => {
  const identifier = `https://ledger-${randomUUID()}.example.test`;
  const path = `/resources/${enc(identifier)}`;
  const made = await api.call(t, 'post', '/resources', { token, body: { identifier, scopes: ['ledger:read'] } });
  t.is(made.status, 201, JSON.stringify(made.body));
  const added = await api.call(t, 'post', `${path}/permissions`, { token, body: { scope: 'ledger:write', description: 'Post entries' } });
  t.deepEqual(added.body.permissions, [{ scope: 'ledger:read', description: '' }, { scope: 'ledger:write', description: 'Post entries' }]);

  const changed = await api.call(t, 'patch', `${path}/permissions/ledger:read`, { token, body: { description: 'Read the ledger' } });
  t.is(changed.status, 200);
  t.deepEqual(changed.body.permissions, [{ scope: 'ledger:read', description: 'Read the ledger' }, { scope: 'ledger:write', description: 'Post entries' }]);
  t.deepEqual(changed.body.scopes, ['ledger:read', 'ledger:write']);
  t.deepEqual((await api.call(t, 'get', path, { token })).body.permissions, changed.body.permissions);
  t.is((await server.runtime.db('permissions').first('description').where({ resource: identifier, scope: 'ledger:read' }))?.description, 'Read the ledger');
  const [record] = await server.runtime.db('audit_log').where({ action: 'permissions.update' }).orderBy('id', 'desc').limit(1);
  t.like(record, { target_kind: 'resources', target_id: identifier, outcome: 'success' });

  t.is((await api.call(t, 'patch', `${path}/permissions/ledger:nothing`, { token, body: { description: 'x' } })).status, 404);
  t.is((await api.call(t, 'patch', `/resources/${enc('https://none.example.test')}/permissions/a`, { token, body: { description: 'x' } })).status, 404);
  t.is((await api.call(t, 'patch', `${path}/permissions/ledger:read`, { token, body: { description: 'x'.repeat(501) } })).status, 400);
  t.is((await api.call(t, 'patch', `${path}/permissions/ledger:read`, { token, body: {} })).status, 400);
});

test('a resource\'s token format and lifetime, set and changed through the API, shape the tokens issued for it', async (t) => {
  const identifier = `https://stock-${randomUUID()}.example.test`;
  const path = `/resources/${enc(identifier)}`;
  const made = await api.call(t, 'post', '/resources', { token, body: { identifier, access_token_format: 'opaque', access_token_ttl: 120, scopes: ['stock:read'] } });
  t.is(made.status, 201, JSON.stringify(made.body));
  const role = `stocker-${randomUUID().slice(0, 8)}`;
  t.is((await api.call(t, 'post', '/roles', { token, body: { name: role } })).status, 201);
  t.is((await api.call(t, 'put', `/roles/${role}/permissions`, { token, body: { permissions: [{ resource: identifier, scope: 'stock:read' }] } })).status, 200);
  const machine = await machineClient(server, [role], false);

  const opaque = await oidc.clientCredentialsGrant(machine, { resource: identifier, scope: 'stock:read' });
  t.false(opaque.access_token.includes('.'), 'an opaque token');
  t.is(opaque.expires_in, 120);
  t.is(opaque.scope, 'stock:read');

  t.is((await api.call(t, 'patch', path, { token, body: { access_token_format: 'jwt', access_token_ttl: 300 } })).status, 200);
  // Resources are remembered briefly by each process (server/rbac/short-lived-cache.ts).
  await new Promise((resolve) => setTimeout(resolve, RBAC_CACHE_TTL_MS + 100));
  const jwt = await oidc.clientCredentialsGrant(machine, { resource: identifier, scope: 'stock:read' });
  const claims = claimsOf(jwt.access_token);
  t.is(claims.exp - claims.iat, 300);
  t.is(claims.aud, identifier);
  t.is(claims.scope, 'stock:read');
});

test('resources named in the configuration cannot be deleted nor change format; the admin permission stays', async (t) => {
  const listed = await api.call(t, 'get', '/resources', { token });
  const admin = listed.body.items.find((r: { identifier: string }) => r.identifier === `${server.issuer}/admin`);
  t.like(admin, { configured: true, access_token_format: 'jwt', scopes: ['admin'] });
  t.is((await api.call(t, 'delete', `/resources/${enc(`${server.issuer}/admin`)}`, { token })).status, 409);
  t.is((await api.call(t, 'delete', `/resources/${enc('urn:enot-id:api')}`, { token })).status, 409);
  t.is((await api.call(t, 'patch', `/resources/${enc(`${server.issuer}/admin`)}`, { token, body: { access_token_format: 'opaque' } })).status, 409);
  t.is((await api.call(t, 'delete', `/resources/${enc(`${server.issuer}/admin`)}/permissions/admin`, { token })).status, 409);
});

test('roles: the admin permission is the role admin\'s only, not the default role\'s', async (t) => {
  const roles = (await api.call(t, 'get', '/roles', { token })).body.items as { name: string; is_default: boolean; permissions: { resource: string; scope: string }[] }[];
  const admin = roles.find((r) => r.name === 'admin')!;
  const user = roles.find((r) => r.name === 'user')!;
  t.deepEqual(admin.permissions, [{ resource: `${server.issuer}/admin`, scope: 'admin' }]);
  t.true(user.is_default);
  t.false(user.permissions.some((p) => p.resource === `${server.issuer}/admin`));
  t.is((await api.call(t, 'delete', '/roles/admin', { token })).status, 409);
});

test('roles: create, 409, grant permissions, give to an account; its next token carries the scope; delete', async (t) => {
  const identifier = `https://ledger-${randomUUID()}.example.test`;
  await api.call(t, 'post', '/resources', { token, body: { identifier, scopes: ['ledger:read', 'ledger:write'] } });
  const created = await api.call(t, 'post', '/roles', { token, body: { name: 'bookkeeper', description: 'Books' } });
  t.is(created.status, 201);
  t.like(created.body, { name: 'bookkeeper', description: 'Books', is_default: false, permissions: [] });
  const again = await api.call(t, 'post', '/roles', { token, body: { name: 'bookkeeper' } });
  t.is(again.status, 409);
  t.is(again.body.existing_id, 'bookkeeper');

  const granted = await api.call(t, 'put', '/roles/bookkeeper/permissions', { token, body: { permissions: [{ resource: identifier, scope: 'ledger:write' }] } });
  t.deepEqual(granted.body.permissions, [{ resource: identifier, scope: 'ledger:write' }]);
  const unknown = await api.call(t, 'put', '/roles/bookkeeper/permissions', { token, body: { permissions: [{ resource: identifier, scope: 'ledger:nope' }] } });
  t.is(unknown.status, 400);
  t.is((await api.call(t, 'patch', '/roles/bookkeeper', { token, body: { description: 'Keeps the books' } })).body.description, 'Keeps the books');

  const person = { email: 'books@example.com', password: 'keeps the books 1' };
  const id = await createAccount(server.runtime.db, person);
  const before = await signIn(rp, { ...person, scope: 'openid ledger:write', resource: identifier });
  t.is(claimsOf(before.tokens.access_token).scope, undefined);
  const withRole = await api.call(t, 'put', `/accounts/${id}/roles`, { token, body: { roles: ['user', 'bookkeeper'] } });
  t.deepEqual(withRole.body.roles, ['bookkeeper', 'user']);
  t.is((await api.call(t, 'put', `/accounts/${id}/roles`, { token, body: { roles: ['no-such-role'] } })).status, 400);
  const after = await signIn(rp, { ...person, scope: 'openid ledger:write', resource: identifier });
  t.is(claimsOf(after.tokens.access_token).scope, 'ledger:write');

  t.is((await api.call(t, 'delete', '/roles/bookkeeper', { token })).status, 204);
  t.is((await api.call(t, 'get', '/roles/bookkeeper', { token })).status, 404);
  t.deepEqual((await api.call(t, 'get', `/accounts/${id}`, { token })).body.roles, ['user']);
});

test('bad input on the roles and resources routes is 400, never 5xx', async (t) => {
  const cases: [string, string, unknown][] = [
    ['post', '/roles', { name: 'Bad Name' }],
    ['post', '/roles', { name: 'x'.repeat(65) }],
    ['post', '/roles', { description: 1 }],
    ['put', '/roles/admin/permissions', { permissions: 'admin' }],
    ['post', '/resources', { identifier: 'not a uri' }],
    ['post', '/resources', { identifier: 'https://x.example/#frag' }],
    ['post', '/resources', { identifier: 'https://x.example/', scopes: ['has space'] }],
    ['post', '/resources', { identifier: 'https://x.example/', access_token_ttl: 5 }],
    ['patch', `/resources/${enc('https://x.example/')}`, { access_token_format: 'paper' }],
    ['get', '/roles/Bad%20Name', undefined],
    ['get', '/resources/not%20a%20uri', undefined],
    ['post', '/roles', { name: 'nul', description: 'a\u0000b' }],
    ['get', '/roles/a%00b', undefined],
  ];
  for (const [method, path, body] of cases) {
    const answer = await api.call(t, method, path, { token, body });
    t.is(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
    t.is(answer.body.error, 'invalid_request');
  }
  const notJson = await api.call(t, 'post', '/roles', { token, rawBody: '{"name":' });
  t.is(notJson.status, 400);
  // Refused before validation, and still audited: the path's NUL cannot break the record.
  const anonymous = await api.call(t, 'get', '/resources/%00');
  t.is(anonymous.status, 401);
  t.like(await server.runtime.db('audit_log').where({ action: 'resources.read', outcome: 'refused' }).first(), { target_id: '\uFFFD' });
});
