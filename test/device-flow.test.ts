// The device authorization grant (RFC 8628) end to end: the CLI starts it and
// polls, a browser enters the code, signs in and confirms.
import test from 'ava';
import { spawn } from 'node:child_process';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, oidc, TEST_IAT } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { ROOT, NODE, childEnv } from './helpers/process.ts';
import { decodeQrSvg } from './helpers/qr-decode.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { addResourceClient } from '../server/rbac/resource-clients.ts';

let server: TestServer;
let tv: oidc.Configuration;
const USER = { email: 'viewer@example.com', password: 'tv viewer password' };

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, DEVICE_POLL_INTERVAL: '1', DEVICE_CODE_TTL: '120' });
  tv = await registerClient(server.issuer, {
    client_name: 'Living Room TV',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'none',
    scope: 'openid email offline_access',
  });
  await createAccount(server.runtime.db, USER);
});

test.after.always(async () => {
  await server?.stop();
});

const deviceAuthorization = (extra: Record<string, string> = {}) =>
  fetch(`${server.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: tv.clientMetadata().client_id, scope: 'openid email', ...extra }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string | number> }));

const poll = (deviceCode: string) =>
  fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: tv.clientMetadata().client_id }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));

/** A person at /device: enters the code as typed, signs in, confirms (or cancels). */
async function approveInBrowser(userCodeAsTyped: string, decision: 'confirm' | 'abort' = 'confirm'): Promise<Page> {
  const browser = createBrowser();
  const entry = await browser.follow(`${server.issuer}/device`);
  let form = readForm(entry, /\/device$/);
  const confirm = await browser.submit(form.action, { ...form.hidden, user_code: userCodeAsTyped });
  if (!/Living Room TV/.test(confirm.body)) throw new Error(`no confirmation page: ${confirm.status} ${confirm.body.slice(0, 400)}`);
  if (!/Only continue if you started this yourself/.test(confirm.body)) throw new Error('no RFC 8628 §5.4 warning');
  form = readForm(confirm, /\/device$/);
  let page = await browser.submit(form.action, decision === 'abort' ? { ...form.hidden, abort: 'yes' } : form.hidden);
  if (decision === 'abort') return page;
  form = readForm(page, /\/code$/);
  page = await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: USER.email, password: USER.password });
  if (/\/confirm"/.test(page.body)) {
    form = readForm(page, /\/confirm$/);
    page = await browser.submit(form.action, form.hidden);
  }
  return page;
}

test('device authorization: short verification URI, XXXX-XXXX code without vowels, interval, verification_uri_complete', async (t) => {
  const { status, body } = await deviceAuthorization();
  t.is(status, 200);
  t.is(body.verification_uri, `${server.issuer}/device`);
  t.regex(String(body.user_code), /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  t.is(body.interval, 1);
  t.is(body.expires_in, 120);
  t.is(new URL(String(body.verification_uri_complete)).searchParams.get('user_code'), String(body.user_code));
});

test('polling faster than the interval gets slow_down; pending otherwise', async (t) => {
  const { body } = await deviceAuthorization();
  const first = await poll(String(body.device_code));
  t.is(first.body.error, 'authorization_pending');
  const second = await poll(String(body.device_code));
  t.is(second.body.error, 'slow_down');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.is((await poll(String(body.device_code))).body.error, 'authorization_pending');
});

test('a person enters the code in lower case without the dash; the device gets tokens', async (t) => {
  const { body } = await deviceAuthorization();
  const typed = String(body.user_code).toLowerCase().replace('-', ' ');
  const done = await approveInBrowser(typed);
  t.regex(done.body, /Device connected/);
  const tokens = await poll(String(body.device_code));
  t.is(tokens.status, 200);
  t.truthy(tokens.body.access_token);
  t.truthy(tokens.body.id_token);
});

test('cancelling on the confirm page denies the device', async (t) => {
  const { body } = await deviceAuthorization();
  const page = await approveInBrowser(String(body.user_code), 'abort');
  t.regex(page.body, /Cancelled/);
  t.is((await poll(String(body.device_code))).body.error, 'access_denied');
});

test('the CLI shows a QR and the code, polls, and prints the tokens once a person approves', async (t) => {
  const child = spawn(NODE, ['server/cli/main.ts', 'login', '--device', '--client-id', tv.clientMetadata().client_id, '--issuer', server.issuer, '--scope', 'openid email', '--json'], {
    cwd: ROOT,
    env: childEnv({ ...server.environment.env, DATA_DIR: server.environment.env.DATA_DIR! }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const link = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const match = /verification_uri_complete: (\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.on('close', () => reject(new Error(`CLI exited early: ${stderr}`)));
  });
  t.regex(stderr, /[▀▄█]/, 'a QR drawn in the terminal');
  t.regex(stderr, /enter [A-Z]{4}-[A-Z]{4}/);
  const userCode = new URL(link).searchParams.get('user_code')!;
  await approveInBrowser(userCode);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0, stderr);
  const tokens = JSON.parse(stdout) as { access_token: string; id_token: string };
  t.truthy(tokens.access_token);
  // Introspected by the API the token is for (RFC 7662 §4: only its own client and its resource servers may).
  const api = await registerClient(server.issuer);
  await addResourceClient(server.runtime.db, 'urn:enot-id:api', api.clientMetadata().client_id);
  t.is((await oidc.tokenIntrospection(api, tokens.access_token)).active, true);
});

test('/device/qr.svg draws verification_uri_complete for a TV, and only that', async (t) => {
  const { body } = await deviceAuthorization();
  const response = await fetch(`${server.issuer}/device/qr.svg?user_code=${String(body.user_code).toLowerCase()}`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /image\/svg\+xml/);
  t.is(decodeQrSvg(await response.text()), `${server.issuer}/device?user_code=${String(body.user_code)}`);
  for (const bad of ['', 'AEIOU-1234', 'https://evil.example/', 'BCDF-GHJK-LMNP']) {
    const refused = await fetch(`${server.issuer}/device/qr.svg?user_code=${encodeURIComponent(bad)}`, { headers: { accept: 'application/json' } });
    t.is(refused.status, 400, bad);
  }
});
