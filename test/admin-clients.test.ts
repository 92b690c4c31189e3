// Issue 11 §3 through the admin API: clients (with operator-only metadata and
// roles), signing keys, and querying the audit log.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { oidc, insecure } from './helpers/oidc.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { purgeIdempotencyKeys } from '../server/admin/idempotency.ts';

let server: TestServer;
let api: ReturnType<typeof adminApi>;
let token: string;
let adminClientId: string;

test.before(async () => {
  server = await startTestServer();
  api = adminApi(server.issuer);
  const machine = await machineClient(server);
  adminClientId = machine.clientMetadata().client_id;
  token = await clientToken(machine, server.issuer);
});

test.after.always(async () => {
  await server?.stop();
});

const configuration = (clientId: string, secret: string) =>
  oidc.discovery(new URL(server.issuer), clientId, {}, oidc.ClientSecretBasic(secret), insecure);

test('clients: a machine admin created through the API works; read and list never show the secret; rotate, demote, delete', async (t) => {
  const created = await api.call(t, 'post', '/clients', {
    token,
    body: { client_name: 'ops robot', grant_types: ['client_credentials'], first_party: true, roles: ['admin'] },
  });
  t.is(created.status, 201);
  const { client_id, client_secret } = created.body;
  t.like(created.body, { first_party: true, roles: ['admin'], token_endpoint_auth_method: 'client_secret_basic', response_types: [] });
  t.truthy(client_secret);

  const robot = await configuration(client_id, client_secret);
  const robotToken = await clientToken(robot, server.issuer);
  t.is((await api.call(t, 'get', `/clients/${client_id}`, { token: robotToken })).status, 200, 'the new client is an admin');

  const read = await api.call(t, 'get', `/clients/${client_id}`, { token });
  t.false('client_secret' in read.body);
  const listed = await api.call(t, 'get', '/clients?limit=200', { token });
  t.true(listed.body.items.some((c: { client_id: string }) => c.client_id === client_id));
  t.false(JSON.stringify(listed.body).includes(client_secret));

  const rotated = await api.call(t, 'post', `/clients/${client_id}/secret`, { token });
  t.is(rotated.status, 200);
  t.not(rotated.body.client_secret, client_secret);
  await t.throwsAsync(clientToken(robot, server.issuer), undefined, 'the old secret no longer works');
  const renewed = await configuration(client_id, rotated.body.client_secret);
  const renewedToken = await clientToken(renewed, server.issuer);

  // Operator-only metadata is settable here: no longer first-party, no longer an admin.
  const demoted = await api.call(t, 'patch', `/clients/${client_id}`, { token, body: { first_party: false } });
  t.false(demoted.body.first_party);
  t.is((await api.call(t, 'get', '/clients', { token: renewedToken })).status, 403);
  await t.throwsAsync(clientToken(renewed, server.issuer), undefined, 'nor can it get an admin token again');

  t.is((await api.call(t, 'delete', `/clients/${client_id}`, { token })).status, 204);
  t.is((await api.call(t, 'get', `/clients/${client_id}`, { token })).status, 404);
  await t.throwsAsync(oidc.clientCredentialsGrant(renewed, {}));

  const audit = JSON.stringify(await server.runtime.db('audit_log').select('*'));
  t.false(audit.includes(client_secret));
  t.false(audit.includes(rotated.body.client_secret));
});

test('clients: a create retried with its Idempotency-Key makes no second client but answers 409 with the first one\'s id', async (t) => {
  const name = `retried ${randomUUID()}`;
  const body = { client_name: name, grant_types: ['client_credentials'] };
  const key = randomUUID();
  const headers = { 'idempotency-key': key };
  const first = await api.call(t, 'post', '/clients', { token, body, headers });
  t.is(first.status, 201);
  const again = await api.call(t, 'post', '/clients', { token, body, headers });
  t.is(again.status, 409);
  t.like(again.body, { error: 'conflict', existing_id: first.body.client_id });
  t.false(JSON.stringify(again.body).includes(first.body.client_secret), 'the secret is not shown again');
  const named = async () => (await api.call(t, 'get', '/clients?limit=200', { token })).body.items.filter((c: { client_name: string }) => c.client_name === name);
  t.is((await named()).length, 1, 'one client');

  // The same key with another body is a mistake of the caller's: 422.
  t.is((await api.call(t, 'post', '/clients', { token, body: { ...body, client_name: 'other' }, headers })).status, 422);
  // Keys are each caller's own, and each operation's.
  const otherAdmin = await clientToken(await machineClient(server), server.issuer);
  t.is((await api.call(t, 'post', '/clients', { token: otherAdmin, body, headers })).status, 201);
  t.is((await named()).length, 2);
  // A create that failed reserves nothing: the retry with the same key does the work.
  const failing = { 'idempotency-key': randomUUID() };
  t.is((await api.call(t, 'post', '/clients', { token, body: { ...body, roles: ['no-such-role'] }, headers: failing })).status, 400);
  t.is((await api.call(t, 'post', '/clients', { token, body, headers: failing })).status, 201);
  // Without the header every create creates; a key must be printable ASCII of at most 255.
  t.is((await api.call(t, 'post', '/clients', { token, body })).status, 201);
  t.is((await api.call(t, 'post', '/clients', { token, body, headers: { 'idempotency-key': 'k'.repeat(256) } })).status, 400);
  t.is((await named()).length, 4);

  const [repeat] = await server.runtime.db('audit_log').where({ action: 'clients.create', outcome: 'failure' }).whereRaw(`details->>'status' = '409'`).orderBy('id', 'desc').limit(1);
  t.truthy(repeat, 'the repeat is audited');
  t.false(JSON.stringify(await server.runtime.db('admin_idempotency_keys').select('*')).includes(first.body.client_secret), 'no secret kept with the key');

  // Kept a day: an older key is purged, and the same key creates again.
  await server.runtime.db('admin_idempotency_keys').where({ key }).update({ created_at: new Date(Date.now() - 25 * 3600_000) });
  await purgeIdempotencyKeys(server.runtime.db);
  t.is((await api.call(t, 'post', '/clients', { token, body, headers })).status, 201);
});

test('mailings: a create retried with its Idempotency-Key answers 409 with the first mailing\'s id', async (t) => {
  const body = { name: 'Retried news', templates: { en: { subject: 'News', text: 'Hello {{email}}' } }, audience: { role: 'user' } };
  const headers = { 'idempotency-key': randomUUID() };
  const first = await api.call(t, 'post', '/mailings', { token, body, headers });
  t.is(first.status, 201, JSON.stringify(first.body));
  const again = await api.call(t, 'post', '/mailings', { token, body, headers });
  t.is(again.status, 409);
  t.is(again.body.existing_id, first.body.id);
  t.is((await server.runtime.db('mailings').where({ name: 'Retried news' })).length, 1);
});

test('the OpenAPI document declares the Idempotency-Key header, 409 and 422 on the creates that take it', async (t) => {
  const doc = (await api.document()) as unknown as { paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; responses: Record<string, unknown> }>> };
  for (const [path, method] of [['/clients', 'post'], ['/mailings', 'post']] as const) {
    const operation = doc.paths[path]![method]!;
    t.truthy(operation.parameters.find((p) => p.name === 'Idempotency-Key' && p.in === 'header'), path);
    t.truthy(operation.responses['409'] && operation.responses['422'], path);
  }
  t.falsy(doc.paths['/roles']!.post!.parameters.find((p) => p.name === 'Idempotency-Key'), 'a role has a natural key: its name');
});

test('clients: metadata is validated as a registration is; roles must exist; public clients have no secret', async (t) => {
  const badRedirect = await api.call(t, 'post', '/clients', { token, body: { client_name: 'web', redirect_uris: ['http://evil.example/cb'] } });
  t.is(badRedirect.status, 400);
  t.is(badRedirect.body.error, 'invalid_redirect_uri');
  const noRole = await api.call(t, 'post', '/clients', { token, body: { client_name: 'x', grant_types: ['client_credentials'], roles: ['no-such-role'] } });
  t.is(noRole.status, 400);
  const publicClient = await api.call(t, 'post', '/clients', { token, body: { client_name: 'app', public: true, redirect_uris: ['https://app.example/cb'] } });
  t.is(publicClient.status, 201);
  t.false('client_secret' in publicClient.body);
  t.is((await api.call(t, 'post', `/clients/${publicClient.body.client_id}/secret`, { token })).status, 400);
  const roles = await api.call(t, 'put', `/clients/${publicClient.body.client_id}/roles`, { token, body: { roles: ['user'] } });
  t.deepEqual(roles.body.roles, ['user']);
  for (const body of [{}, { client_name: '' }, { client_name: 'x', grant_types: ['password'] }, { client_name: 'x', first_party: 'yes' }]) {
    const answer = await api.call(t, 'post', '/clients', { token, body });
    t.is(answer.status, 400, JSON.stringify(body));
  }
  t.is((await api.call(t, 'get', '/clients/no-such-client', { token })).status, 404);
});

test('clients: the resources a client serves (RFC 7662 §4) are set, replaced and shown; they must exist; a public client serves none', async (t) => {
  const resource = 'urn:enot-id:api';
  const created = await api.call(t, 'post', '/clients', { token, body: { client_name: 'an API', grant_types: ['client_credentials'], resource_servers: [resource] } });
  t.is(created.status, 201);
  t.deepEqual(created.body.resource_servers, [resource]);
  const id = created.body.client_id as string;
  t.deepEqual(await server.runtime.db('resource_clients').where({ client_id: id }).pluck('resource'), [resource]);
  t.deepEqual((await api.call(t, 'get', `/clients/${id}`, { token })).body.resource_servers, [resource]);

  const missing = await api.call(t, 'patch', `/clients/${id}`, { token, body: { resource_servers: ['https://nowhere.example'] } });
  t.is(missing.status, 400);
  t.regex(missing.body.error_description, /no such resource: https:\/\/nowhere\.example/);
  t.deepEqual(await server.runtime.db('resource_clients').where({ client_id: id }).pluck('resource'), [resource], 'nothing half-written');
  const cleared = await api.call(t, 'patch', `/clients/${id}`, { token, body: { resource_servers: [] } });
  t.deepEqual(cleared.body.resource_servers, []);
  t.deepEqual(await server.runtime.db('resource_clients').where({ client_id: id }).pluck('resource'), []);

  const publicApi = await api.call(t, 'post', '/clients', { token, body: { client_name: 'spa', public: true, redirect_uris: ['https://app.example/cb'], resource_servers: [resource] } });
  t.is(publicApi.status, 400);
  t.regex(publicApi.body.error_description, /public client cannot introspect/);
});

test('initial access tokens: created for dynamic registration with their lifetime, never in the audit log', async (t) => {
  const created = await api.call(t, 'post', '/initial-access-tokens', { token, body: { expires_in: 120 } });
  t.is(created.status, 201);
  t.is(created.body.expires_in, 120);
  const registered = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${created.body.initial_access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['https://app.example/cb'] }),
  });
  t.is(registered.status, 201);
  for (const body of [{ expires_in: 0 }, { expires_in: 'soon' }, { expires_in: 31_536_001 }]) {
    t.is((await api.call(t, 'post', '/initial-access-tokens', { token, body })).status, 400, JSON.stringify(body));
  }
  const audit = await server.runtime.db('audit_log').where({ action: 'initialAccessTokens.create' }).select('details');
  t.true(audit.length >= 4);
  t.false(JSON.stringify(audit).includes(created.body.initial_access_token));
});

test('keys: list the published keys; rotate retires them and this process signs with the new ones at once', async (t) => {
  const before = await api.call(t, 'get', '/keys', { token });
  const active = before.body.items.filter((k: { retired_at: string | null }) => k.retired_at === null);
  t.deepEqual(active.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
  t.false(JSON.stringify(before.body).includes('"d"'), 'no private key member');

  const rotated = await api.call(t, 'post', '/keys/rotate', { token });
  t.is(rotated.status, 200);
  t.deepEqual(rotated.body.retired.sort(), active.map((k: { kid: string }) => k.kid).sort());
  const after = await api.call(t, 'get', '/keys', { token });
  for (const kid of rotated.body.retired) t.truthy(after.body.items.find((k: { kid: string; expires_at: string | null }) => k.kid === kid && k.expires_at));
  const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
  for (const kid of rotated.body.created) t.true(jwks.keys.some((k) => k.kid === kid), `${kid} published`);
  // The admin token signed by a retired key still verifies; a new one is signed by a new key.
  t.is((await api.call(t, 'get', '/keys', { token })).status, 200);
  const machine = await machineClient(server);
  const fresh = await clientToken(machine, server.issuer);
  const kid = JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid;
  t.true(rotated.body.created.includes(kid));
});

test('audit: filtered by actor, action, target, outcome and time, newest first, paged', async (t) => {
  const start = new Date(Date.now() - 1000).toISOString();
  await api.call(t, 'get', '/roles/user', { token });
  await api.call(t, 'get', '/roles/admin', { token });
  await api.call(t, 'get', '/roles/admin');
  const mine = await api.call(t, 'get', `/audit?action=roles.read&actor_id=${adminClientId}&from=${encodeURIComponent(start)}&limit=1`, { token });
  t.is(mine.status, 200);
  t.is(mine.body.items.length, 1);
  t.like(mine.body.items[0], { action: 'roles.read', target_id: 'admin', actor_kind: 'client', outcome: 'success' });
  t.truthy(mine.body.next_cursor);
  const next = await api.call(t, 'get', `/audit?action=roles.read&actor_id=${adminClientId}&from=${encodeURIComponent(start)}&limit=1&cursor=${mine.body.next_cursor}`, { token });
  t.like(next.body.items[0], { target_id: 'user' });
  const refused = await api.call(t, 'get', `/audit?action=roles.read&outcome=refused&target_kind=roles&target_id=admin&from=${encodeURIComponent(start)}`, { token });
  t.is(refused.body.items.length, 1);
  t.like(refused.body.items[0], { actor_kind: 'anonymous' });
  const future = await api.call(t, 'get', `/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token });
  t.deepEqual(future.body.items, []);
  for (const query of ['from=yesterday', 'outcome=maybe', 'actor_kind=robot', 'cursor=abc', 'limit=1000']) {
    t.is((await api.call(t, 'get', `/audit?${query}`, { token })).status, 400, query);
  }
});
