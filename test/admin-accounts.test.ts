// Issue 11 §3 through the admin API: creating, changing and deleting accounts,
// and ending their sessions.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';

let server: TestServer;
let api: ReturnType<typeof adminApi>;
let token: string;
let rp: oidc.Configuration;

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, DEFAULT_PHONE_REGION: 'DE' });
  api = adminApi(server.issuer);
  token = await clientToken(await machineClient(server), server.issuer);
  rp = await registerClient(server.issuer, { client_name: 'Shop' });
});

test.after.always(async () => {
  await server?.stop();
});

test('create with email, phone, password and roles; the person signs in; a taken email is 409 with the holder', async (t) => {
  const created = await api.call(t, 'post', '/accounts', {
    token,
    body: { email: 'New.Person@EXAMPLE.com', phone: '0151 23456789', password: 'a fine new password', roles: ['admin'] },
  });
  t.is(created.status, 201);
  t.like(created.body, { email: 'New.Person@example.com', email_verified: true, phone: '+4915123456789', phone_verified: true, has_password: true, status: 'active' });
  t.deepEqual(created.body.roles, ['admin', 'user'], 'the asked roles and the default role');
  const { tokens } = await signIn(rp, { email: 'new.person@example.com', password: 'a fine new password', scope: 'openid' });
  t.is(tokens.claims()?.sub, created.body.id);

  const taken = await api.call(t, 'post', '/accounts', { token, body: { email: 'new.person@example.com' } });
  t.is(taken.status, 409);
  t.is(taken.body.existing_id, created.body.id);
  const phoneTaken = await api.call(t, 'post', '/accounts', { token, body: { phone: '+4915123456789' } });
  t.is(phoneTaken.body.existing_id, created.body.id);

  const audit = JSON.stringify(await server.runtime.db('audit_log').where({ action: 'accounts.create' }));
  t.false(audit.includes('a fine new password'));
});

test('create refuses bad input with 400 naming the field', async (t) => {
  for (const [body, field] of [
    [{}, /body/],
    [{ email: 'not an email' }, /body\.email/],
    [{ phone: 'call me' }, /body\.phone/],
    [{ email: 'weak@example.com', password: 'short' }, /password|characters/],
    [{ email: 'roles@example.com', roles: ['Not A Role'] }, /body\.roles/],
    [{ email: 'roles@example.com', roles: ['no-such-role'] }, /body\.roles/],
    [{ email: 42 }, /body\.email/],
  ] as const) {
    const answer = await api.call(t, 'post', '/accounts', { token, body });
    t.is(answer.status, 400, JSON.stringify(body));
    t.regex(answer.body.error_description, field, JSON.stringify(body));
  }
});

test('update identifiers: set, remove, one must remain, a taken one is 409', async (t) => {
  const a = (await api.call(t, 'post', '/accounts', { token, body: { email: 'change-me@example.com', password: 'a brand new start 1' } })).body;
  const b = (await api.call(t, 'post', '/accounts', { token, body: { email: 'other@example.com' } })).body;
  const changed = await api.call(t, 'patch', `/accounts/${a.id}`, { token, body: { email: 'changed@example.com', phone: '+4915199999999' } });
  t.like(changed.body, { email: 'changed@example.com', phone: '+4915199999999' });
  await signIn(rp, { email: 'changed@example.com', password: 'a brand new start 1', scope: 'openid' });
  const noPhone = await api.call(t, 'patch', `/accounts/${a.id}`, { token, body: { phone: null } });
  t.like(noPhone.body, { phone: null, phone_verified: false });
  t.is((await api.call(t, 'patch', `/accounts/${a.id}`, { token, body: { email: null } })).status, 400);
  const taken = await api.call(t, 'patch', `/accounts/${a.id}`, { token, body: { email: 'OTHER@example.com' } });
  t.is(taken.status, 409);
  t.is(taken.body.existing_id, b.id);
  t.is((await api.call(t, 'patch', '/accounts/00000000-0000-4000-8000-000000000000', { token, body: { email: 'x@example.com' } })).status, 404);
});

test('ending sessions stops refresh and access tokens; the person may sign in again. Deleting ends everything', async (t) => {
  const person = { email: 'sessions@example.com', password: 'open in many tabs 1' };
  const { id } = (await api.call(t, 'post', '/accounts', { token, body: person })).body;
  const first = (await signIn(rp, { ...person, scope: 'openid offline_access api:read' })).tokens;
  t.true((await oidc.tokenIntrospection(rp, first.access_token)).active);
  t.is((await api.call(t, 'post', `/accounts/${id}/sessions/revoke`, { token })).status, 204);
  t.false((await oidc.tokenIntrospection(rp, first.access_token)).active);
  await t.throwsAsync(oidc.refreshTokenGrant(rp, first.refresh_token!));

  const second = (await signIn(rp, { ...person, scope: 'openid offline_access api:read' })).tokens;
  t.true((await oidc.tokenIntrospection(rp, second.access_token)).active);
  t.is((await api.call(t, 'delete', `/accounts/${id}`, { token })).status, 204);
  t.false((await oidc.tokenIntrospection(rp, second.access_token)).active);
  await t.throwsAsync(oidc.refreshTokenGrant(rp, second.refresh_token!));
  t.is((await api.call(t, 'get', `/accounts/${id}`, { token })).status, 404);
  t.is((await api.call(t, 'delete', `/accounts/${id}`, { token })).status, 404);
  await t.throwsAsync(signIn(rp, { ...person, scope: 'openid' }));
});

test('sessions and grants: listed; one grant revoked stops its tokens only; one session ended', async (t) => {
  const person = { email: 'two-devices@example.com', password: 'phone and laptop 1' };
  const { id } = (await api.call(t, 'post', '/accounts', { token, body: person })).body;
  const laptop = (await signIn(rp, { ...person, scope: 'openid offline_access api:read' })).tokens;
  const phone = (await signIn(rp, { ...person, scope: 'openid offline_access api:read' })).tokens;

  const sessions = await api.call(t, 'get', `/accounts/${id}/sessions`, { token });
  t.is(sessions.body.items.length, 2);
  t.deepEqual(sessions.body.items[0].clients, [rp.clientMetadata().client_id]);
  const grants = await api.call(t, 'get', `/accounts/${id}/grants`, { token });
  t.is(grants.body.items.length, 2);
  t.like(grants.body.items[0], { client_id: rp.clientMetadata().client_id });
  t.true(grants.body.items[0].scope.split(' ').includes('openid'));

  const laptopGrant = JSON.parse(Buffer.from(laptop.access_token.split('.')[1]!, 'base64url').toString()).grant_id as string;
  t.true(grants.body.items.some((g: { id: string }) => g.id === laptopGrant));
  t.is((await api.call(t, 'delete', `/accounts/${id}/grants/${laptopGrant}`, { token })).status, 204);
  t.false((await oidc.tokenIntrospection(rp, laptop.access_token)).active);
  await t.throwsAsync(oidc.refreshTokenGrant(rp, laptop.refresh_token!));
  t.true((await oidc.tokenIntrospection(rp, phone.access_token)).active, 'the other grant lives on');
  t.is((await api.call(t, 'get', `/accounts/${id}/grants`, { token })).body.items.length, 1);
  t.is((await api.call(t, 'delete', `/accounts/${id}/grants/${laptopGrant}`, { token })).status, 404);

  t.is((await api.call(t, 'delete', `/accounts/${id}/sessions/${sessions.body.items[0].id}`, { token })).status, 204);
  t.is((await api.call(t, 'get', `/accounts/${id}/sessions`, { token })).body.items.length, 1);
  // Another account's session is not this account's to end.
  const other = (await api.call(t, 'post', '/accounts', { token, body: { email: 'someone-else@example.com' } })).body;
  t.is((await api.call(t, 'delete', `/accounts/${other.id}/sessions/${sessions.body.items[1].id}`, { token })).status, 404);
  t.is((await api.call(t, 'delete', `/accounts/${id}/sessions/bad%20id`, { token })).status, 400);
});
