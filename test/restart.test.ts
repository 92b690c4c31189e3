// Data survives a restart: tokens stay valid, keys stay the same.
import test from 'ava';
import { startTestServer } from './helpers/server.ts';
import { testEnvironment } from './helpers/environment.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';

test('tokens issued before a restart introspect as active after it, and JWKS is unchanged', async (t) => {
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => environment.cleanup());

  const first = await startTestServer({}, environment);
  let rp: oidc.Configuration;
  let jwksBefore: unknown;
  let machineToken: string;
  let userTokens: Awaited<ReturnType<typeof signIn>>['tokens'];
  try {
    rp = await registerClient(first.issuer, { scope: 'openid email offline_access api:read' });
    await createAccount(first.runtime.db, { email: 'restart@example.com', password: 'a long enough password' });
    jwksBefore = await (await fetch(`${first.issuer}/jwks`)).json();
    machineToken = (await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token;
    userTokens = (await signIn(rp, { email: 'restart@example.com', password: 'a long enough password', scope: 'openid email offline_access api:read' })).tokens;
  } finally {
    await first.close();
  }

  const second = await startTestServer({}, environment);
  t.teardown(() => second.close());
  t.deepEqual(await (await fetch(`${second.issuer}/jwks`)).json(), jwksBefore);
  t.true((await oidc.tokenIntrospection(rp, machineToken)).active, 'client credentials JWT');
  t.true((await oidc.tokenIntrospection(rp, userTokens.access_token)).active, 'user JWT with its grant');
  t.true((await oidc.tokenIntrospection(rp, userTokens.refresh_token!)).active, 'refresh token');
  const refreshed = await oidc.refreshTokenGrant(rp, userTokens.refresh_token!);
  t.truthy(refreshed.access_token);
  // The client registered before the restart still authenticates.
  t.truthy((await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token);
});
