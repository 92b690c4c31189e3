// Issue 10 A9: secrets at rest are sealed (envelope encryption) when
// SECRETS_KEY is set; stored in the clear otherwise. Start-up seals what an
// earlier start left in the clear, and re-seals under a new key (rotation).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createSealer, SealedSecretError } from '../server/keys/sealed-secrets.ts';
import { startTestServer } from './helpers/server.ts';
import { testEnvironment } from './helpers/environment.ts';
import { registerClient, oidc, TEST_IAT } from './helpers/oidc.ts';
import { loadConfig, ConfigError } from '../server/config/index.ts';

const key = () => randomBytes(32);

test('seal and open: a round trip, bound to its context, refusing tampering and unknown keys', (t) => {
  const [k1, k2] = [key(), key()];
  const sealer = createSealer([k1]);
  const secret = { kty: 'EC', d: 'private-part' };
  const sealed = sealer.seal(secret, 'signing_key:a') as { sealed: string };
  t.regex(sealed.sealed, /^v1\./);
  t.false(JSON.stringify(sealed).includes('private-part'));
  t.deepEqual(sealer.open(sealed, 'signing_key:a'), secret);
  t.throws(() => sealer.open(sealed, 'signing_key:b'), { instanceOf: SealedSecretError }, 'moved to another row');
  const parts = sealed.sealed.split('.');
  parts[5] = Buffer.from('tampered!').toString('base64url') + parts[5]!.slice(12);
  t.throws(() => sealer.open({ sealed: parts.join('.') }, 'signing_key:a'), { instanceOf: SealedSecretError });
  t.throws(() => createSealer([k2]).open(sealed, 'signing_key:a'), { message: /no longer lists/ });
  t.throws(() => createSealer(undefined).open(sealed, 'signing_key:a'), { message: /set SECRETS_KEY/ });
  // Rotation: the new key first, the old one still opens; only old-key values need resealing.
  const rotated = createSealer([k2, k1]);
  t.deepEqual(rotated.open(sealed, 'signing_key:a'), secret);
  t.true(rotated.needsResealing(sealed));
  t.false(rotated.needsResealing(rotated.seal(secret, 'x')));
  t.true(rotated.needsResealing(secret), 'a value in the clear');
  // Without keys nothing is sealed.
  t.is(createSealer(undefined).seal('plain', 'x'), 'plain');
  t.false(createSealer(undefined).needsResealing('plain'));
});

test('SECRETS_KEY and SECRETS_KEY_FILE are validated with a plain message', (t) => {
  t.throws(() => loadConfig({ SECRETS_KEY: 'short' }), { instanceOf: ConfigError, message: /SECRETS_KEY must hold 32-byte keys .*openssl rand -base64 32/ });
  t.throws(() => loadConfig({ SECRETS_KEY_FILE: '/nonexistent/key' }), {
    instanceOf: ConfigError,
    message: 'invalid configuration: SECRETS_KEY_FILE=/nonexistent/key: cannot be read (no such file); use the path of a file this user can read that holds the key, such as /run/secrets/enot-secrets-key',
  });
  t.throws(() => loadConfig({ SECRETS_KEY_FILE: '/' }), { instanceOf: ConfigError, message: /^invalid configuration: SECRETS_KEY_FILE=\/: cannot be read \(a directory, not a file\); / });
  t.is(loadConfig({ SECRETS_KEY: `${key().toString('base64')}, ${key().toString('hex')}` }).secretsKeys?.length, 2);
});

test('a server with SECRETS_KEY keeps no secret in the clear, works across restarts, and seals what an earlier start left in the clear', async (t) => {
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => environment.cleanup());

  // First start without a key: secrets in the clear, as before.
  let server = await startTestServer({}, environment);
  const rp = await registerClient(server.issuer, { client_name: 'Sealed RP' });
  const secret = rp.clientMetadata().client_secret as string;
  const clearRows = await server.runtime.db('signing_keys').select('jwk');
  t.true(clearRows.every((r) => typeof (r.jwk as { d?: unknown }).d === 'string'), 'private keys in the clear without SECRETS_KEY');
  await server.stop();

  // With a key: everything is sealed at start, and everything still works.
  const first = key();
  environment.env.SECRETS_KEY = first.toString('base64');
  server = await startTestServer({}, environment);
  const dump = JSON.stringify([
    await server.runtime.db('signing_keys').select('jwk'),
    await server.runtime.db('server_secrets').select('value'),
    await server.runtime.db('clients').select('payload'),
  ]);
  t.false(dump.includes(secret), 'no client secret in the clear');
  t.false(/"d":/.test(dump), 'no private key part in the clear');
  const cookieKeys = await server.runtime.db('server_secrets').where({ name: 'cookie_keys' }).first('value');
  t.regex(JSON.stringify(cookieKeys.value), /"sealed":"v1\./);
  const token = await oidc.clientCredentialsGrant(rp, { scope: 'api:read' });
  t.truthy(token.access_token, 'the sealed client secret still authenticates the client');
  const another = await registerClient(server.issuer);
  const stored = await server.runtime.db('clients').where({ id: another.clientMetadata().client_id }).first('payload');
  t.regex(JSON.stringify(stored.payload.client_secret), /sealed/);
  await server.stop();

  // Rotation: a new key first, the old one after it; one start re-seals everything.
  const second = key();
  environment.env.SECRETS_KEY = `${second.toString('base64')},${first.toString('base64')}`;
  server = await startTestServer({}, environment);
  t.truthy((await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token);
  await server.stop();
  environment.env.SECRETS_KEY = second.toString('base64');
  server = await startTestServer({}, environment);
  t.truthy((await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token, 'the old key is no longer needed');
  await server.stop();

  // Without the key the sealed database does not open, and says why.
  delete environment.env.SECRETS_KEY;
  await t.throwsAsync(startTestServer({}, environment), { message: /set SECRETS_KEY/ });
});
