// A deleted client's tokens are dead (RFC 7592 §2.3): another client (a
// resource server registered for their resources, RFC 7662 §4) introspecting
// them hears `active: false` (RFC 7662 §2.2),
// userinfo refuses them (RFC 6750 §3.1), its refresh tokens are refused. Never a
// 500. `enot-id client delete` also deletes its registration access token.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { serverMode } from './helpers/environment.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { CLIENT_CACHE_TTL_MS } from '../adapters/client-cache.ts';
import { addResourceClient } from '../server/rbac/resource-clients.ts';

const OPAQUE_RESOURCE = 'urn:test:opaque-api';
const SCOPE = 'openid offline_access api:read opaque:read';
/**
 * The clients that get deleted send their secret in the body, so a refused one
 * hears a JSON error (RFC 6749 §5.2) rather than a Basic challenge.
 */
const DOOMED = { scope: SCOPE, token_endpoint_auth_method: 'client_secret_post' } as const;
let server: TestServer;
/** A resource server: a confidential client that introspects the tokens presented to it. */
let api: oidc.Configuration;
const user = { email: 'grace@example.com', password: 'correct horse battery staple' };

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([{ identifier: OPAQUE_RESOURCE, scope: 'opaque:read', accessTokenFormat: 'opaque' }]),
  });
  api = await registerClient(server.issuer, { scope: SCOPE });
  // RFC 7662 §4: only a resource server registered for a token's audience may introspect another client's token.
  for (const resource of ['urn:enot-id:api', OPAQUE_RESOURCE]) await addResourceClient(server.runtime.db, resource, api.clientMetadata().client_id);
  await createAccount(server.runtime.db, { ...user, roles: [] });
});

test.after.always(async () => {
  await server?.stop();
});

function basic(config: oidc.Configuration): string {
  const { client_id, client_secret } = config.clientMetadata();
  const part = (s: unknown) => encodeURIComponent(String(s));
  return `Basic ${Buffer.from(`${part(client_id)}:${part(client_secret)}`).toString('base64')}`;
}

/** RFC 7662 §2.1 as the resource server sends it; the raw status, so a 500 shows as one. */
async function introspect(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(api.serverMetadata().introspection_endpoint!, {
    method: 'POST',
    headers: { authorization: basic(api), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function userinfo(accessToken: string) {
  const response = await fetch(api.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', body: await response.text() };
}

/** Every kind of token a client can hold: user-bound and client-credentials, JWT and opaque, and refresh tokens. */
async function tokensOf(client: oidc.Configuration) {
  const jwtUser = (await signIn(client, { ...user, scope: 'openid offline_access api:read' })).tokens;
  const opaqueUser = (await signIn(client, { ...user, scope: 'openid offline_access opaque:read', resource: OPAQUE_RESOURCE })).tokens;
  const jwtClient = await oidc.clientCredentialsGrant(client, { scope: 'api:read' });
  const opaqueClient = await oidc.clientCredentialsGrant(client, { scope: 'opaque:read', resource: OPAQUE_RESOURCE });
  return {
    access: {
      'user JWT': jwtUser.access_token,
      'user opaque': opaqueUser.access_token,
      'client credentials JWT': jwtClient.access_token,
      'client credentials opaque': opaqueClient.access_token,
    },
    refresh: { 'refresh (JWT grant)': jwtUser.refresh_token!, 'refresh (opaque grant)': opaqueUser.refresh_token! },
    userinfoToken: jwtUser.access_token,
  };
}

type Tokens = Awaited<ReturnType<typeof tokensOf>>;

async function assertAllActive(t: ExecutionContext, client: oidc.Configuration, tokens: Tokens) {
  t.is(tokens.access['user opaque'].split('.').length, 1, 'opaque, not a JWT');
  t.is(tokens.access['user JWT'].split('.').length, 3, 'a JWT');
  for (const [name, token] of Object.entries(tokens.access)) {
    const { status, body } = await introspect(token);
    t.is(status, 200, name);
    t.true(body.active, `${name} is active before deletion`);
  }
  // A refresh token is introspectable by its own client only (RFC 7662 §4; it never goes to a resource server).
  for (const [name, token] of Object.entries(tokens.refresh)) {
    t.true((await oidc.tokenIntrospection(client, token)).active, `${name} is active before deletion`);
    t.deepEqual((await introspect(token)).body, { active: false }, `${name}: not the resource server's to introspect`);
  }
  t.is((await userinfo(tokens.userinfoToken)).status, 200);
}

async function assertAllInactive(t: ExecutionContext, client: oidc.Configuration, tokens: Tokens) {
  for (const [name, token] of Object.entries({ ...tokens.access, ...tokens.refresh })) {
    const { status, body } = await introspect(token);
    t.is(status, 200, `${name}: ${JSON.stringify(body)}`);
    t.deepEqual(body, { active: false }, name);
  }
  const info = await userinfo(tokens.userinfoToken);
  t.is(info.status, 401, info.body);
  t.regex(info.challenge, /error="invalid_token"/);

  for (const [name, token] of Object.entries(tokens.refresh)) {
    // The deleted client can no longer authenticate (RFC 6749 §5.2)...
    const own = await oidc.refreshTokenGrant(client, token).catch((err: unknown) => err);
    t.true(own instanceof oidc.ResponseBodyError, `${name}: ${String(own)}`);
    t.is((own as oidc.ResponseBodyError).error, 'invalid_client', name);
    // ...and another client may not use its refresh tokens.
    const other = await oidc.refreshTokenGrant(api, token).catch((err: unknown) => err);
    t.true(other instanceof oidc.ResponseBodyError, `${name}: ${String(other)}`);
    t.is((other as oidc.ResponseBodyError).error, 'invalid_grant', name);
  }
}

/** `enot-id client delete <id> --json` in a child process, configured as the server is. */
async function cliDelete(clientId: string): Promise<unknown> {
  const inherited = Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'USER'].includes(name) || name.startsWith('PG'));
  const env = { ...(Object.fromEntries(inherited) as Record<string, string>), ...server.environment.env };
  const node = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  const main = fileURLToPath(new URL('../server/cli/main.ts', import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(node, [main, 'client', 'delete', clientId, '--json'], { env, timeout: 180_000 }, (err, out, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
    );
  });
  return JSON.parse(stdout);
}

const registrationTokens = (clientId: string) =>
  server.runtime.db('oidc_models').where({ model: 'RegistrationAccessToken' }).whereRaw(`payload->>'clientId' = ?`, [clientId]).count({ n: '*' }).first();

test('every token of a deleted client is inactive, refused at userinfo and refresh, and its registration token is gone', async (t) => {
  const doomed = await registerClient(server.issuer, DOOMED);
  const doomedId = doomed.clientMetadata().client_id;
  const tokens = await tokensOf(doomed);
  await assertAllActive(t, doomed, tokens);
  t.is(Number((await registrationTokens(doomedId))?.n), 1, 'dynamic registration stored a registration access token');

  // The CLI as an operator runs it, in another process beside the running server: in embedded
  // mode through this server's admin API (server/cli/admin.ts), with DATABASE_URL on the database.
  t.deepEqual(await cliDelete(doomedId), { deleted: doomedId });
  // Another process may have remembered the client for up to CLIENT_CACHE_TTL_MS.
  if (serverMode) await new Promise((resolve) => setTimeout(resolve, CLIENT_CACHE_TTL_MS + 100));

  await assertAllInactive(t, doomed, tokens);
  t.is(Number((await registrationTokens(doomedId))?.n), 0, 'RFC 7592 §2.3: its registration access token is gone');
  t.is(Number((await registrationTokens(api.clientMetadata().client_id))?.n), 1, "another client's is kept");
  if (!server.environment.env.REDIS_URL) {
    // Grants, codes and tokens live in the database too: nothing of the client is left.
    const left = await server.runtime.db('oidc_models').whereRaw(`payload->>'clientId' = ?`, [doomedId]).count({ n: '*' }).first();
    t.is(Number(left?.n), 0);
  }
  // The resource server's own tokens are untouched.
  t.true((await introspect((await oidc.clientCredentialsGrant(api, { scope: 'api:read' })).access_token)).body.active);
});

test('tokens that outlive their client, as grants and tokens in Redis do, are inactive all the same', async (t) => {
  const doomed = await registerClient(server.issuer, DOOMED);
  const tokens = await tokensOf(doomed);
  await assertAllActive(t, doomed, tokens);
  // Only the client goes; everything it was given stays stored. (The Client adapter's
  // destroy deletes its rows too, adapters/index.ts, so the row is deleted directly,
  // and this process may remember the client for up to CLIENT_CACHE_TTL_MS.)
  await server.runtime.db('clients').where({ id: doomed.clientMetadata().client_id }).delete();
  await new Promise((resolve) => setTimeout(resolve, CLIENT_CACHE_TTL_MS + 100));
  await assertAllInactive(t, doomed, tokens);
});
