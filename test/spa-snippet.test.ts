// The single-page app snippet of docs/quick-start.md (§4), as a developer pastes it:
// the code block itself, with the issuer, client id and origin of this test, runs in
// headless Chromium at http://localhost:<port> (a loopback server, as a dev server
// would be: Chromium lets a page reach a loopback issuer only from loopback) with
// oauth4webapi from node_modules. It signs in through Enot ID (public client, PKCE,
// the token request straight from the page: CORS for the origin of a public client's
// redirect URI), reads the ID token's claims, and signs out with the snippet's line.
// A confidential client's token endpoint is refused to that origin.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, TEST_IAT } from './helpers/oidc.ts';
import { launchChromium, newTestContext } from './helpers/chromium.ts';
import { ROOT } from './helpers/process.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let SPA: string;
let spaServer: Server;
/** What the SPA's server answers, by path; the page for any other. */
const served = new Map<string, { type: string; body: string | Buffer }>();
const user = { email: 'spa@example.com', password: 'single page passphrase' };
let server: TestServer;
let browser: Browser;
let launching: Promise<Browser> | undefined;

test.before(async () => {
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  await createAccount(server.runtime.db, user);
  spaServer = createServer((req, res) => {
    const file = served.get(new URL(req.url ?? '/', SPA).pathname) ?? served.get('*')!;
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => spaServer.listen(0, '127.0.0.1', resolve));
  SPA = `http://localhost:${(spaServer.address() as AddressInfo).port}`;
  browser = await launching;
});

test.after.always(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await server?.stop();
  spaServer?.closeAllConnections();
  await new Promise((resolve) => spaServer?.close(resolve));
});

/** The ```js block of the quick start's single-page app section. */
async function snippet(): Promise<{ code: string; signOut: string }> {
  const doc = await readFile(path.join(ROOT, 'docs', 'quick-start.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## 4. A single-page app'), doc.indexOf('## 5.'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  const signOut = /Sign out: `(location\.assign\([^`]+\))`/.exec(section)?.[1];
  if (!code || !signOut) throw new Error('no js block or sign-out line in the quick start’s single-page app section');
  return { code, signOut };
}

test('the quick start’s single-page app snippet signs in from the browser and signs out', async (t) => {
  const client = await registerClient(server.issuer, {
    client_name: 'My SPA', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [`${SPA}/callback`], post_logout_redirect_uris: [`${SPA}/`], scope: 'openid email',
  });
  const clientId = client.clientMetadata().client_id;
  const { code, signOut } = await snippet();
  const app = code
    .replace("from 'oauth4webapi'", "from '/oauth4webapi.js'")
    .replaceAll('http://localhost:3000', server.issuer)
    .replaceAll('THE_CLIENT_ID', clientId)
    .replaceAll('http://localhost:5173', SPA);
  t.not(app, code, 'the snippet has the placeholders this test fills in');
  // The page: a button that calls signIn(); at /callback, finishSignIn() and the claims; a sign-out button.
  const page = `<!doctype html><html lang="en"><title>SPA</title><body>
<button id="sign-in">Sign in</button><button id="sign-out">Sign out</button><pre id="result"></pre>
<script type="module">
import { signIn, finishSignIn, as, client } from '/app.js';
const client_id = client.client_id;
document.getElementById('sign-in').onclick = () => signIn();
document.getElementById('sign-out').onclick = () => ${signOut.replaceAll('http://localhost:5173', SPA)};
if (location.pathname === '/callback') {
  finishSignIn().then(
    ({ accessToken, claims }) => { document.getElementById('result').textContent = JSON.stringify({ email: claims.email, aud: claims.aud, token: typeof accessToken }); },
    (err) => { document.getElementById('result').textContent = 'error: ' + err.message; },
  );
}
</script></body></html>`;
  const oauth = await readFile(path.join(ROOT, 'node_modules', 'oauth4webapi', 'build', 'index.js'));

  const { context, page: tab, scriptErrors } = await newTestContext(browser);
  t.teardown(() => context.close());
  served.set('/oauth4webapi.js', { type: 'text/javascript', body: oauth });
  // `as` and `client` exported too, for the page's sign-out line.
  served.set('/app.js', { type: 'text/javascript', body: `${app}\nexport { as, client };\n` });
  served.set('*', { type: 'text/html; charset=utf-8', body: page });

  tab.on('console', (m) => t.log('console', m.type(), m.text()));
  tab.on('pageerror', (e) => t.log('pageerror', String(e)));
  await tab.goto(`${SPA}/`);
  await Promise.all([tab.waitForURL((url) => url.origin === server.issuer && url.pathname.startsWith('/interaction/')), tab.click('#sign-in')]);
  await tab.getByLabel('Email address').fill(user.email);
  await tab.getByLabel('Password', { exact: true }).fill(user.password);
  await Promise.all([tab.waitForURL((url) => url.pathname.startsWith('/interaction/') || url.origin === SPA), tab.getByRole('button', { name: 'Sign in with password' }).click()]);
  if (new URL(tab.url()).origin === server.issuer) {
    await Promise.all([tab.waitForURL((url) => url.origin === SPA), tab.getByRole('button', { name: 'Allow', exact: true }).click()]);
  }
  await tab.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('result').textContent !== '');
  const result = await tab.locator('#result').innerText();
  t.deepEqual(JSON.parse(result.startsWith('error: ') ? JSON.stringify({ error: result }) : result), { email: user.email, aud: clientId, token: 'string' });

  // The snippet's sign-out line: RP-initiated logout, asked, then back at the app.
  await Promise.all([tab.waitForURL((url) => url.origin === server.issuer && url.pathname.startsWith('/session/end')), tab.click('#sign-out')]);
  await Promise.all([tab.waitForURL(`${SPA}/`), tab.locator('button[name=logout][value=yes]').click()]);
  t.deepEqual(scriptErrors, []);
});

test('CORS: the token endpoint answers a public client’s redirect origin, not a confidential client’s', async (t) => {
  const preflight = (origin: string) =>
    fetch(`${server.issuer}/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  t.is((await preflight(SPA)).headers.get('access-control-allow-origin'), SPA, 'preflight: any origin (the client is not known yet)');

  const token = async (clientId: string, origin: string, auth?: string) => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'no-such-code-0123456789', redirect_uri: `${origin}/callback`, code_verifier: 'v'.repeat(43), ...(auth ? {} : { client_id: clientId }) }),
    });
    return response.headers.get('access-control-allow-origin');
  };
  const spa = await registerClient(server.issuer, { token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [`${SPA}/callback`] });
  t.is(await token(spa.clientMetadata().client_id, SPA), SPA, 'the public client, from its redirect URI’s origin');
  t.is(await token(spa.clientMetadata().client_id, 'http://localhost:1'), null, 'another origin');
  const web = await registerClient(server.issuer, { grant_types: ['authorization_code'], redirect_uris: [`${SPA}/callback`] });
  const { client_id, client_secret } = web.clientMetadata();
  t.is(await token(client_id, SPA, `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`), null, 'a confidential client never from a browser');
});
