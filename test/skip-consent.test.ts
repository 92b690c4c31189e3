// First-party clients configured to skip consent (issue 12 §4) and native apps
// (RFC 8252) as an operator registers them: with the CLI beside a running server
// (through its admin API) and with the admin API itself. skip_consent skips the
// consent page, prompt=consent still shows it (OIDC Core §3.1.2.1), a third party
// cannot give itself the flag (RFC 7591 registration, RFC 7592 update); a native
// app with a private-use redirect URI signs in as a public client with PKCE.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { oidc, insecure, REDIRECT_URI, TEST_IAT } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { CLIENT_CACHE_TTL_MS } from '../adapters/client-cache.ts';
import { serverMode } from './helpers/environment.ts';

const NODE = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const MAIN = fileURLToPath(new URL('../server/cli/main.ts', import.meta.url));
const PASSWORD = 'skip the consent page 1851';
const EMAIL = 'first-party@example.com';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  await createAccount(server.runtime.db, { email: EMAIL, password: PASSWORD });
});

test.after.always(async () => {
  await server?.stop();
});

/** The CLI as an operator runs it beside the server, with --json. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'USER'].includes(name) || name.startsWith('PG'));
  const env = { ...(Object.fromEntries(inherited) as Record<string, string>), ...server.environment.env };
  return new Promise((resolve) => {
    const child = execFile(NODE, [MAIN, ...args, '--json'], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

async function ok(t: ExecutionContext, ...args: string[]): Promise<Record<string, any>> {
  const result = await cli(...args);
  t.is(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, any>;
}

/**
 * A new browser signs in with a password for `clientId` (public or with `secret`);
 * returns whether it was asked for consent, and the tokens after allowing if it was.
 */
async function signIn(clientId: string, secret: string | undefined, options: { redirectUri?: string; extra?: Record<string, string>; email?: string } = {}) {
  const redirectUri = options.redirectUri ?? REDIRECT_URI;
  const config = new oidc.Configuration(
    (await oidc.discovery(new URL(server.issuer), clientId, undefined, undefined, insecure)).serverMetadata(),
    clientId, {}, secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
  );
  oidc.allowInsecureRequests(config);
  const browser = createBrowser();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid email', state: 'xyz', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...options.extra,
  });
  const login = readForm(await browser.follow(url.href, redirectUri), /\/code$/);
  let page: Page = await browser.submit(login.action.replace(/\/code$/, '/login'), { ...login.hidden, identifier: options.email ?? EMAIL, password: PASSWORD }, redirectUri);
  const asked = !page.url.startsWith(redirectUri);
  if (asked) {
    const consent = readForm(page, /\/confirm$/);
    page = await browser.submit(consent.action, consent.hidden, redirectUri);
  }
  const code = new URL(page.url).searchParams.get('code');
  if (!code) throw new Error(`no code: ${page.url} ${page.body.slice(0, 300)}`);
  // The token request by hand: a private-use redirect URI is not a URL openid-client reads a response from.
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(secret ? { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` } : {}),
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, ...(secret ? {} : { client_id: clientId }) }),
  });
  return { asked, landed: page.url, status: response.status, tokens: (await response.json()) as Record<string, any> };
}

test('CLI: client create --first-party --skip-consent signs in without a consent page; prompt=consent still asks; --no-skip-consent asks again', async (t) => {
  const client = await ok(t, 'client', 'create', '--name', 'Our own app', '--redirect-uri', REDIRECT_URI, '--scope', 'openid email', '--first-party', '--skip-consent');
  t.like(client, { first_party: true, skip_consent: true });
  const skipped = await signIn(client.client_id, client.client_secret);
  t.false(skipped.asked, 'no consent page');
  t.is(skipped.status, 200, JSON.stringify(skipped.tokens));
  t.deepEqual(String(skipped.tokens.scope).split(' ').sort(), ['email', 'openid'], 'everything asked for is granted');

  // Each further sign-in by a person of its own: an allowed consent is remembered (server/consents/).
  const person = async (name: string) => {
    await createAccount(server.runtime.db, { email: `${name}@example.com`, password: PASSWORD });
    return `${name}@example.com`;
  };
  // With DATABASE_URL the CLI is another process: this server may remember the client for up to CLIENT_CACHE_TTL_MS.
  const settled = () => (serverMode ? new Promise((resolve) => setTimeout(resolve, CLIENT_CACHE_TTL_MS + 100)) : Promise.resolve());
  t.like(await ok(t, 'client', 'update', client.client_id, '--no-skip-consent'), { first_party: true, skip_consent: false });
  await settled();
  t.true((await signIn(client.client_id, client.client_secret, { email: await person('flag-off') })).asked, 'without the flag: asked');
  t.like(await ok(t, 'client', 'update', client.client_id, '--skip-consent'), { skip_consent: true });
  await settled();
  t.false((await signIn(client.client_id, client.client_secret, { email: await person('flag-on') })).asked, 'set again: not asked');

  const forced = await signIn(client.client_id, client.client_secret, { email: await person('forced'), extra: { prompt: 'consent' } });
  t.true(forced.asked, 'prompt=consent shows the consent page all the same (OIDC Core §3.1.2.1)');
  t.is(forced.status, 200);

  // Only with --first-party: refused by the CLI, and by the server when the client is not first-party.
  const alone = await cli('client', 'create', '--name', 'Third party', '--redirect-uri', REDIRECT_URI, '--skip-consent');
  t.is(alone.code, 1);
  t.regex(alone.stderr, /--skip-consent needs --first-party/);
  const demote = await cli('client', 'update', client.client_id, '--no-first-party');
  t.is(demote.code, 1);
  t.regex(demote.stderr, /skip_consent is only for first-party clients: set first_party too/);
});

test('admin API: skip_consent is created, shown, changed; only with first_party; it skips consent', async (t) => {
  const api = adminApi(server.issuer);
  const token = await clientToken(await machineClient(server), server.issuer);
  const refused = await api.call(t, 'post', '/clients', { token, body: { client_name: 'Third party', redirect_uris: [REDIRECT_URI], skip_consent: true } });
  t.is(refused.status, 400);
  t.is(refused.body.error, 'invalid_client_metadata');
  t.regex(refused.body.error_description, /skip_consent is only for first-party clients/);

  const created = await api.call(t, 'post', '/clients', { token, body: { client_name: 'Our web app', redirect_uris: [REDIRECT_URI], first_party: true, skip_consent: true } });
  t.is(created.status, 201);
  t.like(created.body, { first_party: true, skip_consent: true, application_type: 'web', token_endpoint_auth_method: 'client_secret_basic' });
  t.is((await api.call(t, 'get', `/clients/${created.body.client_id}`, { token })).body.skip_consent, true);
  t.false((await signIn(created.body.client_id, created.body.client_secret)).asked);

  const off = await api.call(t, 'patch', `/clients/${created.body.client_id}`, { token, body: { skip_consent: false } });
  t.is(off.body.skip_consent, false);
  await createAccount(server.runtime.db, { email: 'api-flag-off@example.com', password: PASSWORD });
  t.true((await signIn(created.body.client_id, created.body.client_secret, { email: 'api-flag-off@example.com' })).asked);
});

test('a third party cannot give itself skip_consent: dynamic registration (RFC 7591) and its update (RFC 7592) are refused', async (t) => {
  const register = await fetch(`${server.issuer}/reg`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_IAT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], skip_consent: true }),
  });
  t.is(register.status, 400);
  t.like(await register.json(), { error: 'invalid_client_metadata', error_description: 'skip_consent can only be set by the operator' });
  const withFirstParty = await fetch(`${server.issuer}/reg`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_IAT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], first_party: true, skip_consent: true }),
  });
  t.is(withFirstParty.status, 400);

  const created = (await (await fetch(`${server.issuer}/reg`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_IAT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }),
  })).json()) as Record<string, unknown>;
  const { registration_access_token: rat, registration_client_uri: uri, client_secret_expires_at: _e, client_id_issued_at: _i, ...current } = created;
  const update = await fetch(String(uri), {
    method: 'PUT', headers: { authorization: `Bearer ${String(rat)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...current, skip_consent: true }),
  });
  t.is(update.status, 400);
  t.like(await update.json(), { error: 'invalid_client_metadata', error_description: 'skip_consent can only be set by the operator' });
  t.true((await signIn(String(created.client_id), String(created.client_secret))).asked, 'and it is asked for consent');
});

test('CLI: client create --native registers a public native app (RFC 8252) whose private-use redirect URI works with PKCE', async (t) => {
  const app = await ok(t, 'client', 'create', '--name', 'Phone app', '--native', '--redirect-uri', 'com.example.app:/oauth2redirect', '--redirect-uri', 'http://127.0.0.1/callback');
  t.like(app, { application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['com.example.app:/oauth2redirect', 'http://127.0.0.1/callback'] });
  t.false('client_secret' in app, 'a native app keeps no secret (RFC 8252 §8.4)');
  const signedIn = await signIn(app.client_id, undefined, { redirectUri: 'com.example.app:/oauth2redirect' });
  t.true(signedIn.landed.startsWith('com.example.app:/oauth2redirect?code='), signedIn.landed);
  t.is(signedIn.status, 200, JSON.stringify(signedIn.tokens));
  t.truthy(signedIn.tokens.id_token);

  // A private-use redirect URI is refused without --native (a web client's are http(s) only).
  const web = await cli('client', 'create', '--name', 'Web', '--public', '--redirect-uri', 'com.example.app:/oauth2redirect');
  t.is(web.code, 1);
  t.is(JSON.parse(web.stdout).error, 'invalid_redirect_uri');
  const secretful = await cli('client', 'create', '--name', 'Bad', '--native', '--redirect-uri', 'com.example.app:/cb', '--resource-server', 'urn:enot-id:api');
  t.is(secretful.code, 1);
  t.regex(secretful.stderr, /--resource-server needs a confidential client, not --native/);
});
