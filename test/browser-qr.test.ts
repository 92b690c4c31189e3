// QR sign-in and the device flow in real headless Chromium, with two browser
// contexts: a "desktop" (1000×800) and a "phone" (390×844, touch, a mobile user
// agent). The desktop's QR is read the way a camera reads it: from a screenshot
// of the page, decoded with jsQR. The desktop page is never reloaded by the
// test: its own polling script learns the phone's decision and moves on.
// Every page visited is checked with axe-core (no serious or critical
// violation) and for sideways scrolling.
import test, { type ExecutionContext } from 'ava';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { serverMode } from './helpers/environment.ts';
import { startTwoProcesses } from './helpers/round-robin-proxy.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { checkAccessibility, horizontalOverflow, launchChromium, newTestContext, type TestContext } from './helpers/chromium.ts';
import { decodeQrPng } from './helpers/qr-decode.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { qrApprovePage } from '../views/qr.ts';
import { accountPage } from '../views/account.ts';
import { decodeJwt } from 'jose';

const CLIENT_NAME = 'Example Notes';
const TV_NAME = 'Living Room TV';
const PHONE_OWNER = { email: 'pat@example.com', password: 'phone owner passphrase' };
const OTHER_PHONE_OWNER = { email: 'sam@example.com', password: 'someone else passphrase' };
const VIEWER = { email: 'viewer@example.com', password: 'tv viewer passphrase' };
const QR_TEXT = {
  scanned: 'Scanned. Check your phone and approve there.',
  expired: 'The code expired; here is a new one.',
  denied: 'The sign-in was denied on the phone.',
  unavailable: 'This QR code has expired or was already used. Show a new one on the other device.',
  warning: /Only approve if you are in front of this device right now and you opened its sign-in page yourself\./,
};

let server: TestServer;
let smtp: SmtpCapture;
let rp: oidc.Configuration;
let tv: oidc.Configuration;
let browser: Browser;
let launching: Promise<Browser> | undefined;
/** Added to the server's clock (QR expiry); only the expiry test moves it. */
let clockOffset = 0;
let phoneOwnerId: string;
let otherPhoneOwnerId: string;
let viewerId: string;

test.before(async () => {
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  smtp = await startSmtpServer();
  server = await startTestServer(
    { INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, DEVICE_POLL_INTERVAL: '1', DEVICE_CODE_TTL: '120' },
    undefined,
    { now: () => Date.now() + clockOffset },
  );
  browser = await launching;
  rp = await registerClient(server.issuer, { scope: 'openid email', client_name: CLIENT_NAME });
  tv = await registerClient(server.issuer, {
    client_name: TV_NAME,
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'none',
    scope: 'openid email',
  });
  phoneOwnerId = await createAccount(server.runtime.db, PHONE_OWNER);
  otherPhoneOwnerId = await createAccount(server.runtime.db, OTHER_PHONE_OWNER);
  viewerId = await createAccount(server.runtime.db, VIEWER);
});

test.after.always(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await server?.stop();
  await smtp?.close();
});

// ---------------------------------------------------------------- browsers

const DESKTOP: BrowserContextOptions = { viewport: { width: 1000, height: 800 } };

/** A phone: its viewport, touch, and the user agent of Chrome on Android (of this Chromium's version). */
function phoneOptions(): BrowserContextOptions {
  const major = browser.version().split('.')[0];
  return {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: `Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Mobile Safari/537.36`,
  };
}

const openedBy = new WeakMap<ExecutionContext, TestContext[]>();

/** A fresh browser context (own cookies) with one page, closed after the test. */
async function openBrowser(t: ExecutionContext, options: BrowserContextOptions) {
  const opened = await newTestContext(browser, options);
  t.teardown(() => opened.context.close());
  openedBy.set(t, [...(openedBy.get(t) ?? []), opened]);
  return opened;
}

/** No page of any context this test opened threw an uncaught script error (the desktop's polling script included). */
function noScriptErrors(t: ExecutionContext): void {
  t.deepEqual((openedBy.get(t) ?? []).flatMap((opened) => opened.scriptErrors), [], 'uncaught script errors');
}

/** Runs `action` and waits until a main-frame navigation matching `where` has loaded (a form may lead back to the same URL). */
async function go(page: Page, action: () => Promise<unknown>, where: (url: URL) => boolean, timeout = 15_000): Promise<void> {
  const arrived = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() && where(new URL(frame.url())), timeout });
  await Promise.all([arrived, action()]);
  await page.waitForLoadState('load');
}

const atPath = (pattern: RegExp) => (url: URL) => pattern.test(url.pathname);
const atClient = (url: URL) => url.href.startsWith(REDIRECT_URI);
const atInteraction = atPath(/^\/interaction\/[^/]+$/);

/** The page is the one expected (its heading), then axe (no serious or critical violation) and no sideways scrolling. */
async function visit(t: ExecutionContext, page: Page, name: string, heading: RegExp): Promise<void> {
  t.regex(await page.locator('h1').innerText(), heading, `${name}: heading`);
  const report = await checkAccessibility(page, `qr-${name}`);
  for (const v of report.violations) t.log(`${name}: ${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`);
  t.deepEqual(report.blocking, [], `${name}: serious or critical accessibility violations`);
  t.is(await horizontalOverflow(page), 0, `${name}: the page scrolls sideways`);
}


const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1];

async function mailedCode(address: string): Promise<string> {
  // By recipient: queued security notices to others may arrive in between.
  const mail = await smtp.nextMessageTo(address, 10_000);
  return codeIn(mail.text ?? '')!;
}

// ---------------------------------------------------------------- the desktop

interface Desktop {
  page: Page;
  /** The QR's URL, read from a screenshot. */
  qr: string;
  verifier: string;
  state: string;
  /** Every main-frame document the desktop page committed, in order. */
  navigations: string[];
}

/** What a camera sees: the desktop's QR, from a screenshot of the page. */
async function scanQr(page: Page): Promise<string> {
  return decodeQrPng(await page.locator('#qr .qr-image').screenshot());
}

/** Waits until the desktop's status line (updated by its polling script) says `text`. */
async function desktopSays(page: Page, text: string, timeout = 15_000): Promise<void> {
  await page.locator('#qr-status', { hasText: text }).waitFor({ timeout });
}

/** A desktop browser opening the relying party's authorization URL (code + PKCE, built by openid-client) at the sign-in page with its QR. */
async function desktopAtLogin(t: ExecutionContext, client = rp, issuer = server.issuer, name = 'desktop-sign-in'): Promise<Desktop> {
  const { page } = await openBrowser(t, DESKTOP);
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(client, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  await page.goto(url.href);
  await visit(t, page, name, new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  const qr = await scanQr(page);
  t.regex(qr, new RegExp(`^${issuer}/qr/[A-Za-z0-9_-]{22}$`), 'the QR encodes ISSUER/qr/<token>');
  return { page, qr, verifier, state, navigations };
}

/**
 * The desktop, left alone, leaves the sign-in page by itself once the phone
 * approved (`approve` runs the phone's tap); through consent if it is asked; then
 * the relying party redeems the code.
 */
async function desktopSignsIn(t: ExecutionContext, desktop: Desktop, approve: () => Promise<unknown>, client = rp, name = 'desktop') {
  const { page } = desktop;
  const loginPage = page.url();
  const before = desktop.navigations.length;
  // Any next document: the page's script goes to …/complete, which redirects to the consent page or the client.
  await go(page, approve, (url) => atClient(url) || atInteraction(url), 20_000);
  t.deepEqual(desktop.navigations.slice(0, before), [loginPage], 'the desktop stayed on its sign-in page, never reloaded, until the phone approved');
  if (!atClient(new URL(page.url()))) {
    await visit(t, page, `${name}-consent`, new RegExp(`^Allow ${CLIENT_NAME} access\\?$`));
    await go(page, () => page.getByRole('button', { name: 'Allow', exact: true }).click(), atClient);
  }
  t.is(await page.locator('h1').innerText(), 'Back at the app');
  return oidc.authorizationCodeGrant(client, new URL(page.url()), { pkceCodeVerifier: desktop.verifier, expectedState: desktop.state });
}

// ---------------------------------------------------------------- the phone

/** Fills the sign-in page the phone is on (email + password) and submits it; lands wherever the sign-in leads. */
async function signInWithPassword(page: Page, who: { email: string; password: string }, where: (url: URL) => boolean) {
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await go(page, () => page.getByRole('button', { name: 'Sign in with password' }).tap(), where);
}

/** A phone signed in to Enot ID through /account, by password (the same pages as the first journey's, checked there with axe). */
async function signedInPhone(t: ExecutionContext, who: { email: string; password: string }) {
  const phone = await openBrowser(t, phoneOptions());
  await phone.page.goto(`${server.issuer}/account`);
  t.regex(await phone.page.locator('h1').innerText(), /^Sign in/);
  await signInWithPassword(phone.page, who, atPath(/^\/account$/));
  t.is(await phone.page.locator('h1').innerText(), 'Your account');
  return phone;
}

/** The phone opens the URL it read from the QR and gets the approval page. */
async function phoneOpensQr(t: ExecutionContext, page: Page, qr: string, name: string) {
  const response = await page.goto(qr);
  t.is(response?.status(), 200, `${name}: the approval page`);
  await visit(t, page, name, /^Sign in on another device\?$/);
  const details = await page.locator('dl').innerText();
  t.regex(details, new RegExp(CLIENT_NAME), 'the app that asks');
  t.regex(details, /Chrome, Linux/, 'the desktop\'s browser and system');
  t.regex(details, /127\.0\.0\.1/, 'the desktop\'s IP address');
  t.regex(await page.locator('main').innerText(), QR_TEXT.warning);
}

/** The phone opens a QR URL that is no longer usable: a clear page, nothing to approve. */
async function phoneGetsUnavailable(t: ExecutionContext, page: Page, qr: string, name: string) {
  const response = await page.goto(qr);
  t.is(response?.status(), 400, `${name}: status`);
  await visit(t, page, name, /^Sign in with your phone$/);
  t.is(await page.getByRole('status').innerText(), QR_TEXT.unavailable);
  t.is(await page.getByRole('button', { name: 'Approve' }).count(), 0, `${name}: nothing to approve`);
}

// ---------------------------------------------------------------- QR sign-in

test.serial('QR: the desktop shows a QR; a phone signs in by code, scans it, sees who asks, approves; the desktop signs in by itself', async (t) => {
  const desktop = await desktopAtLogin(t);

  // The phone signs in to Enot ID by a code sent by mail.
  const { page: phone } = await openBrowser(t, phoneOptions());
  await phone.goto(`${server.issuer}/account`);
  await visit(t, phone, 'phone-1-sign-in', /^Sign in/);
  await phone.getByLabel('Email address').fill(PHONE_OWNER.email);
  await go(phone, () => phone.getByRole('button', { name: 'Send me a code' }).tap(), atPath(/\/flows\/[^/]+$/));
  await visit(t, phone, 'phone-2-code', /^Enter the code$/);
  await phone.getByLabel('Code', { exact: true }).fill(await mailedCode(PHONE_OWNER.email));
  await go(phone, () => phone.getByRole('button', { name: 'Continue' }).tap(), atPath(/^\/account$/));
  await visit(t, phone, 'phone-3-account', /^Your account$/);
  t.regex(await phone.locator('main').innerText(), /pat@example\.com/);

  // It opens what it read from the desktop's screen; the desktop learns it was scanned.
  await phoneOpensQr(t, phone, desktop.qr, 'phone-4-approve');
  await desktopSays(desktop.page, QR_TEXT.scanned);
  await visit(t, desktop.page, 'desktop-scanned', new RegExp(`^Sign in to ${CLIENT_NAME}$`));

  const tokens = await desktopSignsIn(t, desktop, () => go(phone, () => phone.getByRole('button', { name: 'Approve' }).tap(), atPath(/\/approve$/)));
  await visit(t, phone, 'phone-5-approved', /^Sign in with your phone$/);
  t.is(await phone.getByRole('status').innerText(), 'Approved. Continue on the other device.');

  const claims = tokens.claims()!;
  t.is(claims.sub, phoneOwnerId, 'the phone\'s account');
  t.deepEqual(claims.amr, ['mca']);
  t.is(claims.email, PHONE_OWNER.email);
  noScriptErrors(t);
});

test.serial('QR: a phone that is not signed in signs in first and denies; the desktop says so and shows a new QR', async (t) => {
  const desktop = await desktopAtLogin(t);
  const { page: phone } = await openBrowser(t, phoneOptions());
  // Opening the QR without a session leads through sign-in and back to the approval.
  await go(phone, () => phone.goto(desktop.qr), atInteraction);
  await visit(t, phone, 'deny-phone-1-sign-in', /^Sign in/);
  await signInWithPassword(phone, PHONE_OWNER, atPath(/^\/qr\/[^/]+$/));
  await visit(t, phone, 'deny-phone-2-approve', /^Sign in on another device\?$/);
  t.regex(await phone.locator('dl').innerText(), new RegExp(CLIENT_NAME));
  await desktopSays(desktop.page, QR_TEXT.scanned);

  await go(phone, () => phone.getByRole('button', { name: 'Deny' }).tap(), atPath(/\/deny$/));
  await visit(t, phone, 'deny-phone-3-denied', /^Sign in with your phone$/);
  t.is(await phone.getByRole('status').innerText(), 'Denied. Nobody was signed in.');

  await desktopSays(desktop.page, QR_TEXT.denied);
  const renewed = await scanQr(desktop.page);
  t.not(renewed, desktop.qr, 'a new QR after the denial');
  t.regex(renewed, new RegExp(`^${server.issuer}/qr/[A-Za-z0-9_-]{22}$`));
  await visit(t, desktop.page, 'deny-desktop-denied', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  t.is(desktop.navigations.length, 1, 'the desktop page was not reloaded');

  // The denied QR is spent; the new one works.
  await phoneGetsUnavailable(t, phone, desktop.qr, 'deny-phone-4-old-qr');
  await phoneOpensQr(t, phone, renewed, 'deny-phone-5-new-qr');
  noScriptErrors(t);
});

test.serial('QR: after 2 minutes (server clock moved) the desktop renews its QR by itself; the old one is refused', async (t) => {
  const desktop = await desktopAtLogin(t);
  const { page: phone } = await signedInPhone(t, PHONE_OWNER);
  let renewed: string;
  clockOffset = 121_000;
  try {
    await desktopSays(desktop.page, QR_TEXT.expired);
    renewed = await scanQr(desktop.page);
    // Still past the first QR's expiry: the phone is told it is no longer usable.
    await phoneGetsUnavailable(t, phone, desktop.qr, 'expiry-phone-old-qr');
  } finally {
    clockOffset = 0;
  }
  t.not(renewed, desktop.qr, 'the decoded URL changed');
  await visit(t, desktop.page, 'expiry-desktop-renewed', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  t.is(desktop.navigations.length, 1, 'the desktop page was not reloaded');
  await phoneOpensQr(t, phone, renewed, 'expiry-phone-new-qr');
  noScriptErrors(t);
});

test.serial('QR: when its sign-in page is over (the interaction cookie gone), the desktop says so, hides the QR and stops polling', async (t) => {
  const desktop = await desktopAtLogin(t);
  const polls: string[] = [];
  desktop.page.on('request', (request) => {
    if (/\/qr(\/[A-Za-z0-9_-]+)?$/.test(new URL(request.url()).pathname)) polls.push(request.url());
  });
  await desktop.page.context().clearCookies();
  await desktopSays(desktop.page, 'This sign-in page has expired. Go back to the app and start again.');
  t.false(await desktop.page.locator('.qr-image').isVisible(), 'no dead QR left to scan');
  const seen = polls.length;
  t.true(seen >= 1);
  await new Promise((resolve) => setTimeout(resolve, 4500));
  t.is(polls.length, seen, 'no polling after that');
  noScriptErrors(t);
});

test.serial('QR: a second phone scanning the same QR gets "already used"; so does the first phone once the sign-in is complete', async (t) => {
  const desktop = await desktopAtLogin(t);
  const { page: first } = await signedInPhone(t, PHONE_OWNER);
  const { page: second } = await signedInPhone(t, OTHER_PHONE_OWNER);

  await phoneOpensQr(t, first, desktop.qr, 'twice-phone-a-approve');
  await desktopSays(desktop.page, QR_TEXT.scanned);
  await phoneGetsUnavailable(t, second, desktop.qr, 'twice-phone-b-already-used');

  const tokens = await desktopSignsIn(t, desktop, () => go(first, () => first.getByRole('button', { name: 'Approve' }).tap(), atPath(/\/approve$/)), rp, 'twice-desktop');
  t.is(tokens.claims()!.sub, phoneOwnerId, 'the first phone\'s account, not the second\'s');
  t.not(tokens.claims()!.sub, otherPhoneOwnerId);

  await phoneGetsUnavailable(t, first, desktop.qr, 'twice-phone-a-reuse');
  await phoneGetsUnavailable(t, second, desktop.qr, 'twice-phone-b-reuse');
  noScriptErrors(t);
});

test.serial('the register page from the desktop sign-in page', async (t) => {
  const desktop = await desktopAtLogin(t, rp, server.issuer, 'register-desktop-sign-in');
  await go(desktop.page, () => desktop.page.getByRole('link', { name: 'Create an account' }).click(), atPath(/\/register$/));
  await visit(t, desktop.page, 'register-desktop-register', new RegExp(`^Create an account for ${CLIENT_NAME}$`));
  noScriptErrors(t);
});

// ---------------------------------------------------------------- device flow

const deviceAuthorization = () =>
  fetch(`${server.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: tv.clientMetadata().client_id, scope: 'openid email' }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string | number> }));

/** The device's side: polls the token endpoint at the interval it was given (RFC 8628 §3.4, §3.5) until it gets tokens or an error. */
async function pollForTokens(deviceCode: string, intervalSeconds: number, stopped: () => boolean) {
  let interval = intervalSeconds;
  const polls: string[] = [];
  while (!stopped()) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000 + 100));
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: tv.clientMetadata().client_id }),
    });
    const body = (await response.json()) as Record<string, string>;
    if (response.status === 200) return { tokens: body, polls };
    polls.push(body.error!);
    if (body.error === 'slow_down') interval += 5;
    else if (body.error !== 'authorization_pending') return { error: body.error, polls };
  }
  return { error: 'stopped', polls };
}

test.serial('device flow: the phone opens verification_uri_complete, confirms, signs in, consents; the polling device gets tokens', async (t) => {
  const { status, body } = await deviceAuthorization();
  t.is(status, 200);
  const userCode = String(body.user_code);
  let stop = false;
  t.teardown(() => {
    stop = true;
  });
  const polling = pollForTokens(String(body.device_code), Number(body.interval), () => stop);

  const { page } = await openBrowser(t, phoneOptions());
  // The link carries the code: a small self-submitting form posts it, and the confirm page follows.
  await go(page, () => page.goto(String(body.verification_uri_complete)), (url) => url.pathname === '/device' && !url.searchParams.has('user_code'));
  await visit(t, page, 'device-1-confirm', new RegExp(`^Sign in ${TV_NAME} on your device\\?$`));
  const text = await page.locator('main').innerText();
  t.regex(text, new RegExp(`Code: ${userCode}`));
  t.regex(text, /Only continue if you started this yourself on your own device and the code matches it\./, 'RFC 8628 §5.4 warning');
  for (const name of ['Continue', 'Cancel']) {
    const box = await page.getByRole('button', { name }).boundingBox();
    t.true(box !== null && box.width >= 300 && box.height >= 44, `${name}: a full-width touch target like on the other pages: ${JSON.stringify(box)}`);
  }

  await go(page, () => page.getByRole('button', { name: 'Continue' }).tap(), atInteraction);
  await visit(t, page, 'device-2-sign-in', new RegExp(`^Sign in to ${TV_NAME}$`));
  await signInWithPassword(page, VIEWER, (url) => atInteraction(url) || url.pathname.startsWith('/device'));
  if (atInteraction(new URL(page.url()))) {
    await visit(t, page, 'device-3-consent', new RegExp(`^Allow ${TV_NAME} access\\?$`));
    await go(page, () => page.getByRole('button', { name: 'Allow', exact: true }).tap(), atPath(/^\/device/));
  }
  await visit(t, page, 'device-4-done', /^Device connected$/);
  t.regex(await page.locator('main').innerText(), new RegExp(`${TV_NAME} is signed in`));

  const result = await polling;
  t.truthy(result.tokens, `the device got tokens (polls: ${result.polls.join(', ')}; ${result.error ?? ''})`);
  t.truthy(result.tokens?.access_token);
  t.false(result.polls.includes('slow_down'), 'polling at the given interval is never told to slow down');
  const idToken = decodeJwt(result.tokens!.id_token!);
  t.is(idToken.sub, viewerId);
  t.is(idToken.aud, tv.clientMetadata().client_id);
  noScriptErrors(t);
});

test.serial('device flow: /device with a wrong code says so clearly', async (t) => {
  const { page } = await openBrowser(t, phoneOptions());
  await page.goto(`${server.issuer}/device`);
  await visit(t, page, 'device-code-1-entry', /^Connect a device$/);
  const field = page.getByLabel('Code', { exact: true });
  t.is(await field.getAttribute('autocapitalize'), 'characters');
  await field.fill('bcdf ghjk');
  await go(page, () => page.getByRole('button', { name: 'Continue' }).tap(), atPath(/^\/device$/));
  await visit(t, page, 'device-code-2-wrong', /^Connect a device$/);
  t.is(await page.getByRole('alert').innerText(), 'That code is not correct. Check the code on your device and try again.');
  const refused = page.getByLabel('Code', { exact: true });
  t.is(await refused.getAttribute('aria-invalid'), 'true', 'the field is marked invalid');
  t.is(await refused.evaluate((el) => (el as unknown as { ariaDescribedByElements?: Array<{ textContent: string }> }).ariaDescribedByElements?.map((e) => e.textContent).join(' ')), 'That code is not correct. Check the code on your device and try again.', 'the field is described by the message');
  noScriptErrors(t);
});

// ---------------------------------------------------------------- phone-width rendering

/** Long values the journeys above do not produce, rendered on a phone. */
async function renderOnPhone(t: ExecutionContext, markup: string) {
  const { page } = await openBrowser(t, phoneOptions());
  await page.setContent(markup);
  return page;
}

test.serial('the approval page fits a phone with a full IPv6 address and a long app name', async (t) => {
  const page = await renderOnPhone(t, qrApprovePage({
    locale: 'en',
    nonce: 'bm9uY2U',
    action: '/qr/AAAAAAAAAAAAAAAAAAAAAA',
    csrf: 'csrf',
    clientName: 'ExampleNotesEnterpriseWorkspaceAdministration',
    device: 'Yandex Browser, ChromeOS',
    ip: '2a02:8109:b6c0:1c00:1d3b:5c17:9e2f:4a01',
    requestedAt: new Date('2025-01-02T03:04:05Z'),
  }));
  await visit(t, page, 'render-approve-ipv6', /^Sign in on another device\?$/);
  t.regex(await page.locator('dl').innerText(), /2a02:8109:b6c0:1c00:1d3b:5c17:9e2f:4a01/, 'the whole address is shown');
  const approve = await page.getByRole('button', { name: 'Approve' }).boundingBox();
  t.true(approve !== null && approve.x + approve.width <= 390, `the Approve button is on the screen: ${JSON.stringify(approve)}`);
  noScriptErrors(t);
});

// A long address must wrap (`dd { overflow-wrap: anywhere }` in views/layout.ts), not widen the page.
test.serial('the account page fits a phone with a long email address', async (t) => {
  const page = await renderOnPhone(t, accountPage({ locale: 'en', nonce: 'bm9uY2U', csrf: 'csrf', email: 'phone.owner@example.com', emailVerified: true, phone: null, phoneVerified: false }));
  await visit(t, page, 'render-account-long-email', /^Your account$/);
});

// ---------------------------------------------------------------- two processes

// An embedded DATA_DIR belongs to one Enot ID process; two processes need PostgreSQL and Redis.
const canScaleOut = serverMode && Boolean(process.env.REDIS_URL);
const scaleOut = canScaleOut ? test.serial : test.serial.skip;
const scaleOutTitle = 'QR in Chromium with the desktop and the phone on two server processes behind a round-robin proxy';

scaleOut(canScaleOut ? scaleOutTitle : `${scaleOutTitle} (skipped: needs DATABASE_URL and REDIS_URL; the embedded database serves one process)`, async (t) => {
  const { issuer, a, proxy } = await startTwoProcesses(t, { INITIAL_ACCESS_TOKEN: TEST_IAT });

  const owner = await createAccount(a.runtime.db, PHONE_OWNER);
  const client = await registerClient(issuer, { scope: 'openid email', client_name: CLIENT_NAME });
  const desktop = await desktopAtLogin(t, client, issuer, 'scale-desktop-sign-in');

  const { page: phone } = await openBrowser(t, phoneOptions());
  await go(phone, () => phone.goto(desktop.qr), atInteraction);
  await visit(t, phone, 'scale-phone-sign-in', /^Sign in/);
  await signInWithPassword(phone, PHONE_OWNER, atPath(/^\/qr\/[^/]+$/));
  await visit(t, phone, 'scale-phone-approve', /^Sign in on another device\?$/);
  await desktopSays(desktop.page, QR_TEXT.scanned);
  const hitsBefore = [...proxy.hits];
  const tokens = await desktopSignsIn(t, desktop, () => go(phone, () => phone.getByRole('button', { name: 'Approve' }).tap(), atPath(/\/approve$/)), client, 'scale-desktop');
  t.is(tokens.claims()!.sub, owner);
  t.deepEqual(tokens.claims()!.amr, ['mca']);
  t.true(proxy.hits[0]! > hitsBefore[0]! && proxy.hits[1]! > hitsBefore[1]!, `both processes served the end of the journey: ${hitsBefore.join(' / ')} → ${proxy.hits.join(' / ')}`);
  t.true(proxy.hits[0]! > 10 && proxy.hits[1]! > 10, `both processes served: ${proxy.hits.join(' / ')}`);
  noScriptErrors(t);
});
