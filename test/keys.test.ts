// Signing keys: shared through the database, rotated without breaking tokens.
import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import { startTestServer } from './helpers/server.ts';
import { registerClient, oidc, TEST_IAT } from './helpers/oidc.ts';
import { rotateSigningKeys } from '../server/keys/signing-keys.ts';

test('after a rotation the new key signs, the old key stays published, old tokens stay valid', async (t) => {
  const server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => server.stop());
  const rp = await registerClient(server.issuer);
  const before = (await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token;
  const oldKid = decodeProtectedHeader(before).kid;

  t.false(await server.refreshSigningKeys(), 'nothing to reload before a rotation');
  // JWKS read (twice: the second from the server's memory, server/oidc/public-documents.ts) before the rotation.
  const published = async () => ((await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  t.deepEqual(await published(), await published());
  t.true((await published()).includes(oldKid!));
  const { retired, created } = await rotateSigningKeys(server.runtime.db, server.runtime.sealer, 1200);
  t.true(retired.includes(oldKid!));
  t.true(await server.refreshSigningKeys());

  const after = (await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token;
  const newKid = decodeProtectedHeader(after).kid;
  t.not(newKid, oldKid);
  t.true(created.includes(newKid!));

  const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ kid: string; d?: string }> };
  const kids = jwks.keys.map((k) => k.kid);
  t.true(kids.includes(oldKid!) && kids.includes(newKid!), 'the rotated keys are published at once, not an earlier JWKS kept in memory');
  t.true(jwks.keys.every((k) => k.d === undefined), 'no private parts published');

  t.true((await oidc.tokenIntrospection(rp, before)).active, 'signed by the retired key');
  t.true((await oidc.tokenIntrospection(rp, after)).active);
});

test('the same keys are loaded by every start (not generated per process)', async (t) => {
  const server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => server.stop());
  const rows = await server.runtime.db('signing_keys').select('kid', 'alg').whereNull('retired_at');
  t.deepEqual(rows.map((r) => r.alg).sort(), ['ES256', 'RS256']);
  const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
  t.deepEqual(jwks.keys.map((k) => k.kid).sort(), rows.map((r) => r.kid).sort());
});
