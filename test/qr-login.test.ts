// Cross-device QR sign-in: the desktop's login page shows a QR; a phone signed
// in to Enot ID scans it (decoded from the QR itself), sees what asks, approves.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, operatorClient, beginAuthorization, completeAuthorization, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { decodeQrSvg } from './helpers/qr-decode.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
let rp: oidc.Configuration;
let clockOffset = 0;
let phoneAccountId: string;
const PHONE_USER = { email: 'phone.owner@example.com', password: 'approves from the sofa' };
const DESKTOP_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT }, undefined, { now: () => Date.now() + clockOffset });
  rp = await registerClient(server.issuer, { scope: 'openid email', client_name: 'Desk App' });
  phoneAccountId = await createAccount(server.runtime.db, PHONE_USER);
});

test.after.always(async () => {
  await server?.stop();
});

/** A desktop at the login page: the QR's URL (as a phone camera reads it) and the ids the page polls with. */
async function desktopAtLogin() {
  const started = await beginAuthorization(rp, 'openid email');
  const page = started.page;
  const svg = /<svg[\s\S]*?<\/svg>/.exec(page.body)?.[0];
  if (!svg) throw new Error('no QR on the login page');
  const url = decodeQrSvg(svg);
  const id = /data-id="([^"]+)"/.exec(page.body)![1]!;
  const base = /data-base="([^"]+)"/.exec(page.body)![1]!;
  const state = async () => {
    const response = await started.browser.request(`${server.issuer}${base}/qr/${id}`, { headers: { accept: 'application/json' } });
    return (JSON.parse(response.body) as { state: string }).state;
  };
  return { started, page, url, id, base, state };
}

/** A phone browser signed in to Enot ID as PHONE_USER (through the account page). */
async function signedInPhone() {
  const phone = createBrowser();
  const login = await phone.follow(`${server.issuer}/account`);
  const form = readForm(login, /\/code$/);
  const account = await phone.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: PHONE_USER.email, password: PHONE_USER.password });
  if (!account.body.includes(PHONE_USER.email)) throw new Error('phone did not sign in');
  return phone;
}

async function decide(phone: ReturnType<typeof createBrowser>, approval: Page, decision: 'approve' | 'deny') {
  const form = readForm(approval, new RegExp(`/${decision}$`));
  return phone.submit(form.action, form.hidden);
}

test.serial('desktop shows a QR; the signed-in phone sees the request, approves; the desktop gets tokens for the phone\'s account', async (t) => {
  const desktop = await desktopAtLogin();
  t.regex(desktop.url, new RegExp(`^${server.issuer}/qr/[A-Za-z0-9_-]{22}$`));
  t.is(await desktop.state(), 'pending');

  const phone = await signedInPhone();
  const approval = await phone.follow(desktop.url);
  t.is(approval.status, 200);
  t.regex(approval.body, /Desk App/);
  t.regex(approval.body, /Chrome, Windows|unknown browser/);
  t.regex(approval.body, /127\.0\.0\.1/);
  t.regex(approval.body, /Only approve if you are in front of this device/);
  t.is(await desktop.state(), 'scanned');

  const done = await decide(phone, approval, 'approve');
  t.regex(done.body, /Continue on the other device/);
  t.is(await desktop.state(), 'approved');

  const landed = await desktop.started.browser.follow(`${server.issuer}${desktop.base}/qr/${desktop.id}/complete`, REDIRECT_URI);
  const tokens = await completeAuthorization(rp, desktop.started, landed);
  t.is(tokens.claims()!.sub, phoneAccountId);
  t.deepEqual(tokens.claims()!.amr, ['mca']);
  t.is((await server.runtime.db('qr_logins').where({ id: desktop.id }).first()).state, 'completed');
});

test.serial('a second device scanning the same QR gets nothing', async (t) => {
  const desktop = await desktopAtLogin();
  const phone = await signedInPhone();
  t.is((await phone.follow(desktop.url)).status, 200);
  const other = await signedInPhone();
  const second = await other.follow(desktop.url);
  t.is(second.status, 400);
  t.regex(second.body, /expired or was already used/);
  t.is(await desktop.state(), 'scanned', 'the first phone still holds it');
});

test.serial('deny: the desktop sees denied and cannot complete', async (t) => {
  const desktop = await desktopAtLogin();
  const phone = await signedInPhone();
  const denied = await decide(phone, await phone.follow(desktop.url), 'deny');
  t.regex(denied.body, /Nobody was signed in/);
  t.is(await desktop.state(), 'denied');
  const attempt = await desktop.started.browser.follow(`${server.issuer}${desktop.base}/qr/${desktop.id}/complete`, REDIRECT_URI);
  t.false(attempt.url.startsWith(REDIRECT_URI), 'no sign-in');
});

test.serial('expiry after 2 minutes (clock moved): state expired, the phone is told, a renewal gives a new QR', async (t) => {
  const desktop = await desktopAtLogin();
  clockOffset = 121_000;
  try {
    t.is(await desktop.state(), 'expired');
    const phone = await signedInPhone();
    const late = await phone.follow(desktop.url);
    t.is(late.status, 400);
    const csrf = /data-csrf="([^"]+)"/.exec(desktop.page.body)![1]!;
    const renewed = await desktop.started.browser.request(`${server.issuer}${desktop.base}/qr`, { method: 'POST', headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
    t.is(renewed.status, 200);
    const next = JSON.parse(renewed.body) as { id: string; svg: string };
    t.not(next.id, desktop.id);
    t.not(decodeQrSvg(next.svg), desktop.url);
  } finally {
    clockOffset = 0;
  }
});

test.serial('a new QR retires the interaction\'s earlier one that nobody scanned', async (t) => {
  const desktop = await desktopAtLogin();
  const csrf = /data-csrf="([^"]+)"/.exec(desktop.page.body)![1]!;
  const renewed = await desktop.started.browser.request(`${server.issuer}${desktop.base}/qr`, { method: 'POST', headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
  t.is(renewed.status, 200);
  const next = JSON.parse(renewed.body) as { id: string; svg: string };
  t.is(await desktop.state(), 'expired', 'the first QR is over at once, not after its 2 minutes');
  const phone = await signedInPhone();
  const old = await phone.follow(desktop.url);
  t.is(old.status, 400);
  t.regex(old.body, /expired or was already used/);
  const current = await phone.follow(decodeQrSvg(next.svg));
  t.is(current.status, 200, 'the QR on the screen now works');
  t.regex(current.body, /Only approve if you are in front of this device/);
});

test.serial('a used token cannot be reused, and forged or malformed tokens get a clear page', async (t) => {
  const desktop = await desktopAtLogin();
  const phone = await signedInPhone();
  await decide(phone, await phone.follow(desktop.url), 'approve');
  await desktop.started.browser.follow(`${server.issuer}${desktop.base}/qr/${desktop.id}/complete`, REDIRECT_URI);
  const reuse = await phone.follow(desktop.url);
  t.is(reuse.status, 400);
  for (const bad of ['AAAAAAAAAAAAAAAAAAAAAA', 'short', '%00%ff', 'a'.repeat(300)]) {
    const page = await phone.follow(`${server.issuer}/qr/${bad}`);
    t.true(page.status === 400 || page.status === 404, `${bad}: ${page.status}`);
    t.notRegex(page.body, /\n\s+at /);
  }
  // Another interaction cannot read or complete this desktop's QR.
  const stranger = await beginAuthorization(rp, 'openid');
  const strangerBase = /data-base="([^"]+)"/.exec(stranger.page.body)![1]!;
  const peek = await stranger.browser.request(`${server.issuer}${strangerBase}/qr/${desktop.id}`, { headers: { accept: 'application/json' } });
  t.is(peek.status, 400);
});

test.serial('a phone that is not signed in signs in first, then lands on the approval', async (t) => {
  const desktop = await desktopAtLogin();
  const phone = createBrowser();
  const login = await phone.follow(desktop.url);
  t.regex(login.url, /\/interaction\//);
  const form = readForm(login, /\/code$/);
  const approval = await phone.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: PHONE_USER.email, password: PHONE_USER.password });
  t.is(approval.status, 200);
  t.regex(approval.body, /Desk App/);
  t.is(await desktop.state(), 'scanned');
});

test.serial('approval through the app API with a bearer token (qr-login scope, first-party app)', async (t) => {
  // The operator's own mobile app: only a first-party client may hold ISSUER/api tokens.
  const app = await operatorClient(server, { scope: 'openid qr-login', first_party: true });
  const resource = `${server.issuer}/api`;
  const { tokens } = await signIn(app, { ...PHONE_USER, scope: 'openid qr-login', resource });
  const call = (path: string, body: unknown, token = tokens.access_token) =>
    fetch(`${server.issuer}/api/qr/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const desktop = await desktopAtLogin();
  const noToken = await fetch(`${server.issuer}/api/qr/scan`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ qr: desktop.url }) });
  t.is(noToken.status, 401);
  const scanned = await call('scan', { qr: desktop.url });
  t.is(scanned.status, 200);
  const details = (await scanned.json()) as { client_name: string; ip: string };
  t.is(details.client_name, 'Desk App');
  t.is((await call('approve', { qr: desktop.url })).status, 200);
  t.is(await desktop.state(), 'approved');
  const landed = await desktop.started.browser.follow(`${server.issuer}${desktop.base}/qr/${desktop.id}/complete`, REDIRECT_URI);
  t.is((await completeAuthorization(rp, desktop.started, landed)).claims()!.sub, phoneAccountId);

  // A token without the scope is refused.
  const plain = await signIn(rp, { ...PHONE_USER, scope: 'openid' });
  const refused = await call('scan', { qr: (await desktopAtLogin()).url }, plain.tokens.access_token);
  t.is(refused.status, 403);
  t.is(((await refused.json()) as { error: string }).error, 'insufficient_scope');
  t.is((await call('scan', { qr: 'garbage' })).status, 400);

  // A client the operator demoted: its ISSUER/api token stops working at once.
  await server.runtime.adapters('Client').upsert(app.clientMetadata().client_id, { ...(app.clientMetadata() as Record<string, unknown>), first_party: false } as never, 0);
  const demoted = await call('scan', { qr: (await desktopAtLogin()).url });
  t.is(demoted.status, 401);
  t.is(((await demoted.json()) as { error: string }).error, 'invalid_token');
});
