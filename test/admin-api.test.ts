// Issue 11 §2–3: the admin API. Who may call it (the authorisation matrix),
// accounts (list, read, block, unblock), an audit record for every call, and
// every response checked against the OpenAPI document the server serves.
import test from 'ava';
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, operatorClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { purgeAuditLog, recordAudit } from '../server/audit/record.ts';
import { ConfigError, loadConfig } from '../server/config/index.ts';
import { addAccountRoles, addClientRoles, grantPermissions, removeAccountRoles } from '../server/rbac/roles.ts';

const OPAQUE = 'https://opaque.example.test';
let server: TestServer;
let api: ReturnType<typeof adminApi>;
let adminToken: string;
let adminClientId: string;
let firstParty: oidc.Configuration;
let rp: oidc.Configuration;

const ADMIN = { email: 'admin@example.com', password: 'keeper of the keys 1' };

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([{ identifier: OPAQUE, scope: 'o:read', accessTokenFormat: 'opaque' }]),
  });
  api = adminApi(server.issuer);
  const machine = await machineClient(server);
  adminClientId = machine.clientMetadata().client_id;
  adminToken = await clientToken(machine, server.issuer);
  // The operator's own app: people sign in to it to get admin tokens.
  firstParty = await operatorClient(server, { first_party: true });
  rp = await registerClient(server.issuer, { client_name: 'Shop' });
  await createAccount(server.runtime.db, { ...ADMIN, roles: ['admin'] });
});

test.after.always(async () => {
  await server?.stop();
});

const admin = `admin`;
const personToken = async (person: { email: string; password: string }) =>
  (await signIn(firstParty, { ...person, scope: 'openid admin', resource: `${server.issuer}/${admin}` })).tokens.access_token;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

test('the OpenAPI document is valid OpenAPI 3.1 and lists every route', async (t) => {
  const doc = await api.document();
  const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
  t.true(result.valid, JSON.stringify(result.errors));
  t.is((doc as unknown as { openapi: string }).openapi, '3.1.0');
  const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => (op as unknown as { operationId: string }).operationId));
  t.deepEqual(operations.sort(), [
    'accounts.create', 'accounts.delete', 'accounts.endSession', 'accounts.list', 'accounts.listGrants', 'accounts.listSessions', 'accounts.read',
    'accounts.revokeGrant', 'accounts.revokeSessions', 'accounts.setRoles', 'accounts.block', 'accounts.unblock', 'accounts.update',
    'audit.query', 'clients.create', 'clients.delete', 'clients.list', 'clients.read', 'clients.rotateSecret', 'clients.setRoles', 'clients.update',
    'initialAccessTokens.create', 'keys.list', 'mailings.cancel', 'mailings.create', 'mailings.pause', 'mailings.preview', 'mailings.read', 'mailings.recipients', 'mailings.resume', 'mailings.start', 'keys.rotate', 'permissions.create', 'permissions.delete', 'permissions.update', 'resources.create', 'resources.delete', 'resources.list',
    'resources.read', 'resources.update', 'roles.create', 'roles.delete', 'roles.list', 'roles.read', 'roles.setPermissions', 'roles.update',
  ].sort());
  t.truthy(doc.paths['/accounts/{id}/block']?.post);
  // Every route says who may call it and answers 401 and 403 in the Error shape.
  for (const methods of Object.values(doc.paths)) {
    for (const op of Object.values(methods)) t.truthy(op.responses['401'] && op.responses['403'] && op.responses['400']);
  }
});

test('no token: 401 with a Bearer challenge and a JSON error; a bad token: invalid_token', async (t) => {
  const none = await api.call(t, 'get', '/accounts');
  t.is(none.status, 401);
  t.regex(none.headers.get('www-authenticate') ?? '', /^Bearer/);
  t.is(none.body.error, 'invalid_token');
  const fromBrowser = await api.call(t, 'get', '/accounts', { headers: { accept: 'text/html' } });
  t.is(fromBrowser.status, 401);
  t.is(fromBrowser.body.error, 'invalid_token', 'JSON, whatever the Accept header');
  const bad = await api.call(t, 'get', '/accounts', { token: 'not.a.token' });
  t.is(bad.status, 401);
  t.regex(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
});

test('a machine admin (first-party, role admin, client credentials) is let in', async (t) => {
  t.is(claimsOf(adminToken).aud, `${server.issuer}/admin`);
  t.is(claimsOf(adminToken).scope, 'admin');
  const listed = await api.call(t, 'get', '/accounts', { token: adminToken });
  t.is(listed.status, 200);
  t.true(listed.body.items.some((a: { email: string }) => a.email === ADMIN.email));
});

test('a token for another audience, or without the admin scope, is refused 403 insufficient_scope', async (t) => {
  const machine = await machineClient(server);
  const otherAudience = await clientToken(machine, server.issuer, { resource: 'urn:enot-id:api' });
  const wrongAudience = await api.call(t, 'get', '/accounts', { token: otherAudience });
  t.is(wrongAudience.status, 403);
  t.is(wrongAudience.body.error, 'insufficient_scope');
  t.regex(wrongAudience.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  // A first-party machine client without the role admin gets the audience but not the scope.
  const plain = await machineClient(server, ['ops']);
  const noScope = await clientToken(plain, server.issuer);
  t.is(claimsOf(noScope).aud, `${server.issuer}/admin`);
  t.is(claimsOf(noScope).scope, undefined);
  const wrongScope = await api.call(t, 'get', '/accounts', { token: noScope });
  t.is(wrongScope.status, 403);
  t.is(wrongScope.body.error, 'insufficient_scope');
});

test('the admin scope through another role is not enough: the role admin is checked on every call', async (t) => {
  // An operator gave the admin permission to a role of another name.
  await grantPermissions(server.runtime.db, 'deputy', `${server.issuer}/admin`, ['admin']);
  const deputy = await machineClient(server, ['deputy']);
  const token = await clientToken(deputy, server.issuer);
  t.is(claimsOf(token).scope, 'admin');
  const refused = await api.call(t, 'get', '/accounts', { token });
  t.is(refused.status, 403);
  t.is(refused.body.error, 'forbidden');
});

test('a person admin is let in; once the role is taken away, refused at the next call', async (t) => {
  const person = { email: 'removed-admin@example.com', password: 'once had the keys 1' };
  const id = await createAccount(server.runtime.db, { ...person, roles: ['admin'] });
  const token = await personToken(person);
  t.is(claimsOf(token).scope, 'admin');
  t.is((await api.call(t, 'get', `/accounts/${id}`, { token })).status, 200);
  await removeAccountRoles(server.runtime.db, id, ['admin']);
  const refused = await api.call(t, 'get', `/accounts/${id}`, { token });
  t.is(refused.status, 403);
  t.is(refused.body.error, 'forbidden');
  await addAccountRoles(server.runtime.db, id, ['admin']);
  t.is((await api.call(t, 'get', `/accounts/${id}`, { token })).status, 200, 'given back, works again at once');
});

test('a person without the role admin gets no admin scope and is refused', async (t) => {
  const person = { email: 'not-admin@example.com', password: 'just a regular person 1' };
  await createAccount(server.runtime.db, person);
  const token = await personToken(person);
  t.is(claimsOf(token).scope, undefined);
  const refused = await api.call(t, 'get', '/accounts', { token });
  t.is(refused.status, 403);
  t.is(refused.body.error, 'insufficient_scope');
});

test('a blocked admin loses access at once', async (t) => {
  const person = { email: 'blocked-admin@example.com', password: 'stopped at the door 1' };
  const id = await createAccount(server.runtime.db, { ...person, roles: ['admin'] });
  const token = await personToken(person);
  t.is((await api.call(t, 'get', '/accounts', { token })).status, 200);
  t.is((await api.call(t, 'post', `/accounts/${id}/block`, { token: adminToken })).status, 200);
  const refused = await api.call(t, 'get', '/accounts', { token });
  t.is(refused.status, 401);
  t.is(refused.body.error, 'invalid_token');
});

test('a machine client whose role admin is taken away is refused at its next call', async (t) => {
  const machine = await machineClient(server);
  const token = await clientToken(machine, server.issuer);
  t.is((await api.call(t, 'get', '/accounts', { token })).status, 200);
  await server.runtime.db('client_roles').where({ client_id: machine.clientMetadata().client_id }).delete();
  t.is((await api.call(t, 'get', '/accounts', { token })).status, 403);
});

test('a third-party client cannot obtain the admin resource, even holding the role admin, nor register its scope', async (t) => {
  const outsider = await registerClient(server.issuer, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  await addClientRoles(server.runtime.db, outsider.clientMetadata().client_id, ['admin']);
  const error = await t.throwsAsync(clientToken(outsider, server.issuer));
  t.is((error as { error?: string }).error, 'invalid_target');
  // By the code flow too: refused before any sign-in page.
  await t.throwsAsync(signIn(rp, { ...ADMIN, scope: 'openid admin', resource: `${server.issuer}/admin` }), { message: /invalid_target|did not reach/ });
  const registered = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_IAT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['https://rp.example.test/callback'], scope: 'openid admin' }),
  });
  t.is(registered.status, 400);
  t.is(((await registered.json()) as { error: string }).error, 'invalid_client_metadata');
});

test('accounts: list with search and cursor paging, read, 404 for an unknown id, 400 for bad input', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await createAccount(server.runtime.db, { email: `pager-${i}@paging.example.com` }));
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `?email=${encodeURIComponent('@PAGING.example')}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
    const listed = await api.call(t, 'get', `/accounts${query}`, { token: adminToken });
    t.is(listed.status, 200);
    t.true(listed.body.items.length <= 2);
    seen.push(...listed.body.items.map((a: { id: string }) => a.id));
    cursor = listed.body.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  t.deepEqual(seen.sort(), [...ids].sort());
  t.is(pages, 3);
  // `%` and `_` are literal in a search.
  t.deepEqual((await api.call(t, 'get', '/accounts?email=%25', { token: adminToken })).body.items, []);

  const read = await api.call(t, 'get', `/accounts/${ids[0]}`, { token: adminToken });
  t.is(read.body.email, 'pager-0@paging.example.com');
  t.is(read.body.status, 'active');
  t.false(read.body.has_password);
  t.false('password_hash' in read.body);
  t.is((await api.call(t, 'get', '/accounts/00000000-0000-4000-8000-000000000000', { token: adminToken })).status, 404);

  for (const path of ['/accounts/not-a-uuid', '/accounts?limit=0', '/accounts?limit=abc', '/accounts?limit=1&limit=2', '/accounts?phone=abc', '/accounts?cursor=zz']) {
    const bad = await api.call(t, 'get', path, { token: adminToken });
    t.is(bad.status, 400, path);
    t.is(bad.body.error, 'invalid_request', path);
    t.regex(bad.body.error_description, /^(params|query)\./, path);
  }
});

test('blocking stops password sign-in, refresh, JWT and opaque access tokens at once; unblocking lets the person sign in again', async (t) => {
  const person = { email: 'to-block@example.com', password: 'soon to be stopped 1' };
  const id = await createAccount(server.runtime.db, person);
  const jwt = (await signIn(rp, { ...person, scope: 'openid offline_access api:read' })).tokens;
  const opaque = (await signIn(rp, { ...person, scope: 'openid o:read', resource: OPAQUE })).tokens;
  t.false(opaque.access_token.includes('.'), 'an opaque token');
  t.true((await oidc.tokenIntrospection(rp, jwt.access_token)).active);
  t.true((await oidc.tokenIntrospection(rp, opaque.access_token)).active);

  const blocked = await api.call(t, 'post', `/accounts/${id}/block`, { token: adminToken });
  t.is(blocked.status, 200);
  t.is(blocked.body.status, 'blocked');

  t.false((await oidc.tokenIntrospection(rp, jwt.access_token)).active);
  t.false((await oidc.tokenIntrospection(rp, opaque.access_token)).active);
  await t.throwsAsync(oidc.refreshTokenGrant(rp, jwt.refresh_token!));
  await t.throwsAsync(oidc.fetchUserInfo(rp, jwt.access_token, claimsOf(jwt.access_token).sub));
  await t.throwsAsync(signIn(rp, { ...person, scope: 'openid' }), { message: /login \(status 401\)/ });

  const unblocked = await api.call(t, 'post', `/accounts/${id}/unblock`, { token: adminToken });
  t.is(unblocked.body.status, 'active');
  t.truthy((await signIn(rp, { ...person, scope: 'openid' })).tokens.id_token);
  t.is((await api.call(t, 'post', '/accounts/00000000-0000-4000-8000-000000000000/block', { token: adminToken })).status, 404);
});

test('every admin call is audited, refusals too, without tokens, secrets or passwords', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'audited@example.com', password: 'every step recorded 1' });
  const ua = `audit-test-${Math.random()}`;
  await api.call(t, 'post', `/accounts/${id}/block`, { token: adminToken, headers: { 'user-agent': ua } });
  await api.call(t, 'post', `/accounts/${id}/unblock`, { headers: { 'user-agent': ua } });
  await api.call(t, 'get', '/accounts/nope', { token: adminToken, headers: { 'user-agent': ua } });
  const rows = await server.runtime.db('audit_log').where({ user_agent: ua }).orderBy('id');
  t.is(rows.length, 3);
  t.like(rows[0], { actor_kind: 'client', actor_id: adminClientId, action: 'accounts.block', target_kind: 'accounts', target_id: id, outcome: 'success' });
  t.is(rows[0].details.status, 200);
  t.truthy(rows[0].ip);
  t.like(rows[1], { actor_kind: 'anonymous', actor_id: null, action: 'accounts.unblock', target_id: id, outcome: 'refused' });
  t.is(rows[1].details.error, 'invalid_token');
  t.like(rows[2], { actor_kind: 'client', action: 'accounts.read', outcome: 'failure' });
  t.is(rows[2].details.status, 400);
  const everything = JSON.stringify(await server.runtime.db('audit_log').select('*'));
  t.false(everything.includes(adminToken.split('.')[2]!), 'no token');
  t.false(everything.includes('every step recorded 1'));
  t.false(everything.includes(String(firstParty.clientMetadata().client_secret)));
  t.false(everything.includes('$argon2'));
  // Append-only: a record cannot be rewritten.
  await t.throwsAsync(server.runtime.db('audit_log').where({ id: rows[0].id }).update({ outcome: 'failure' }), { message: /append-only/ });
});

test('audit records older than AUDIT_RETENTION_DAYS are purged, newer ones kept', async (t) => {
  const db = server.runtime.db;
  const action = `retention-test-${Math.random()}`;
  await recordAudit(db, { actor: { kind: 'system' }, action, outcome: 'success' });
  await recordAudit(db, { actor: { kind: 'system' }, action, outcome: 'success', details: { password: 'never', note: 'kept' } });
  const [oldest] = await db('audit_log').where({ action }).orderBy('id').limit(1);
  // Backdated as an old record would be (the trigger refuses updates, so insert one old row instead).
  await db('audit_log').insert({ actor_kind: 'system', action, outcome: 'success', at: db.raw(`now() - interval '366 days'`) });
  t.true((await purgeAuditLog(db, 365)) >= 1);
  const left = await db('audit_log').where({ action }).orderBy('id');
  t.is(left.length, 2);
  t.is(left[0].id, oldest.id);
  t.deepEqual(left[1].details, { note: 'kept' }, 'a password member is never written');
});

test('a DPoP-bound admin token works only with its proof (RFC 9449 §7.1), not as a Bearer token', async (t) => {
  const machine = await machineClient(server);
  const keyPair = (await generateKeyPair('ES256', { extractable: true })) as oidc.CryptoKeyPair;
  const bound = (await oidc.clientCredentialsGrant(machine, { resource: `${server.issuer}/admin`, scope: 'admin' }, { DPoP: oidc.getDPoPHandle(machine, keyPair) })).access_token;
  t.truthy(claimsOf(bound).cnf?.jkt);
  const asBearer = await api.call(t, 'get', '/accounts', { token: bound });
  t.is(asBearer.status, 401);
  t.regex(asBearer.headers.get('www-authenticate') ?? '', /^DPoP /);
  const proof = async (htu: string) =>
    new SignJWT({ htm: 'GET', htu, jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ath: createHash('sha256').update(bound).digest('base64url') })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keyPair.publicKey) })
      .sign(keyPair.privateKey);
  const withProof = await api.call(t, 'get', '/accounts', { headers: { authorization: `DPoP ${bound}`, dpop: await proof(`${server.issuer}/api/admin/accounts`) } });
  t.is(withProof.status, 200);
  const otherUrl = await api.call(t, 'get', '/accounts', { headers: { authorization: `DPoP ${bound}`, dpop: await proof(`${server.issuer}/api/admin/roles`) } });
  t.is(otherUrl.status, 401);
  t.is(otherUrl.body.error, 'invalid_dpop_proof');
});

test('configuration: AUDIT_RETENTION_DAYS is validated; RESOURCE_SERVERS cannot redefine ISSUER/admin', (t) => {
  t.is(loadConfig({}).auditRetentionDays, 365);
  t.is(loadConfig({ AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays, 30);
  t.throws(() => loadConfig({ AUDIT_RETENTION_DAYS: 'forever' }), { instanceOf: ConfigError, message: /AUDIT_RETENTION_DAYS/ });
  t.throws(() => loadConfig({ AUDIT_RETENTION_DAYS: '0' }), { instanceOf: ConfigError });
  const config = loadConfig({ ISSUER: 'https://id.example', RESOURCE_SERVERS: JSON.stringify([{ identifier: 'https://id.example/admin', scope: 'admin everything', accessTokenFormat: 'opaque' }]) });
  t.is(config.adminApiResource, 'https://id.example/admin');
  t.false(config.resourceServers.some((r) => r.identifier === config.adminApiResource));
});

// Found by the fuzzer: a body over the admin API's 16 KiB limit was abandoned
// half-read, which destroyed the request's socket, and the audit record of the
// refusal then failed (500). Declared or chunked, it is a 400 and is audited.
test('an oversized body is a 400, declared or chunked, and the refusal is audited', async (t) => {
  const big = '{"client_name":"' + 'x'.repeat(20_000) + '"}';
  const chunked = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1_000)));
      controller.close();
    },
  });
  for (const [label, body, extra] of [['declared', big, {}], ['chunked', chunked, { duplex: 'half' }]] as const) {
    const response = await fetch(`${server.issuer}/api/admin/clients`, {
      method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body, ...extra,
    } as RequestInit);
    t.is(response.status, 400, label);
    t.is(((await response.json()) as { error: string }).error, 'invalid_request', label);
  }
  const audited = await server.runtime.db('audit_log').where({ action: 'clients.create', outcome: 'failure' }).whereRaw(`details->>'status' = '400'`).count<{ count: string | number }[]>('* as count');
  t.true(Number(audited[0]!.count) >= 2);
});
