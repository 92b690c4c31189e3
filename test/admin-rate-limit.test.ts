// The admin API's limit on refused calls (server/admin/router.ts ADMIN_REFUSALS):
// every refused call is audited, so a flood of bad tokens from one address is
// cut off with 429 and stops growing the audit log, while a valid admin token
// from the same address keeps working. A server of its own: the limit is per
// address, and every test here calls from 127.0.0.1.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { ADMIN_REFUSALS } from '../server/admin/router.ts';

let server: TestServer;
let api: ReturnType<typeof adminApi>;

test.before(async () => {
  server = await startTestServer();
  api = adminApi(server.issuer);
});

test.after.always(async () => {
  await server?.stop();
});

test('refused calls past the limit are 429 with Retry-After and not audited one by one; an admin token still works', async (t) => {
  const ua = `flood-${Math.random()}`;
  const headers = { 'user-agent': ua };
  // Refused both ways: no token (401) and a token that is not an admin's (403 insufficient_scope).
  const outsider = await clientToken(await machineClient(server, []), server.issuer, { resource: `${server.issuer}/api`, scope: 'api:read' });
  for (let i = 0; i < ADMIN_REFUSALS.points; i++) {
    const answer = await api.call(t, 'get', '/accounts', { headers, ...(i % 2 ? { token: outsider } : {}) });
    t.is(answer.status, i % 2 ? 403 : 401);
  }
  const limited = await api.call(t, 'get', '/accounts', { headers });
  t.is(limited.status, 429);
  t.is(limited.body.error, 'rate_limited');
  t.true(Number(limited.headers.get('retry-after')) > 0);
  t.is((await api.call(t, 'delete', '/roles/user', { headers, token: outsider })).status, 429);

  const audited = await server.runtime.db('audit_log').where({ user_agent: ua });
  t.is(audited.length, ADMIN_REFUSALS.points, 'the refusals before the limit are recorded, the ones past it are not');
  t.true(audited.every((row: { outcome: string }) => row.outcome === 'refused'));

  // Not a lock-out of the address: an admin's token is let in and audited.
  const admin = await clientToken(await machineClient(server), server.issuer);
  const allowed = await api.call(t, 'get', '/accounts', { token: admin, headers });
  t.is(allowed.status, 200);
  t.is((await server.runtime.db('audit_log').where({ user_agent: ua, outcome: 'success' })).length, 1);
});
