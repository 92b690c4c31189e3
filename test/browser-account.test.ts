// The account page journeys of issue 13 §1 in real headless Chromium, each page
// checked with axe-core: remove an identifier, change the password, see two
// sessions from two browser contexts and sign the other out (its refresh token
// stops), revoke an app's access (its tokens stop), delete the account by a code.
// The relying party is openid-client; its redirect_uri is answered in the browser.
import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { nextMailTo, startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { startSmsReceiver, type SmsReceiver } from './helpers/sms-receiver.ts';
import { registerClient, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { checkAccessibility, horizontalOverflow, launchChromium, newTestContext } from './helpers/chromium.ts';
import { go } from './helpers/page-tour.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { setIdentifier } from '../server/accounts/queries.ts';

let server: TestServer;
let smtp: SmtpCapture;
let sms: SmsReceiver;
let rp: oidc.Configuration;
let browser: Browser;
let launching: Promise<Browser> | undefined;
const CLIENT_NAME = 'Example Notes';

test.before(async () => {
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  smtp = await startSmtpServer();
  sms = await startSmsReceiver();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url, DEFAULT_PHONE_REGION: 'DE' });
  browser = await launching;
  rp = await registerClient(server.issuer, { scope: 'openid email offline_access', client_name: CLIENT_NAME });
});

test.after.always(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await server?.stop();
  await smtp?.close();
  await sms?.close();
});

const mailTo = (address: string) => nextMailTo(smtp, address);

async function openBrowser(t: ExecutionContext) {
  const opened = await newTestContext(browser);
  t.teardown(() => opened.context.close());
  return opened;
}

const path = (pattern: RegExp) => (url: URL) => pattern.test(url.pathname);
const atClient = (url: URL) => url.href.startsWith(REDIRECT_URI);

/** The page is the one expected (its heading); then axe and no sideways scrolling. */
async function visit(t: ExecutionContext, page: Page, name: string, heading: string): Promise<void> {
  t.is(await page.locator('h1').innerText(), heading, `${name}: heading`);
  const report = await checkAccessibility(page, `account-${name}`);
  t.deepEqual(report.blocking, [], `${name}: serious or critical accessibility violations`);
  t.is(await horizontalOverflow(page), 0, `${name}: sideways scrolling`);
}

/** Fills the sign-in page's email and password and submits, until `where`. */
async function passwordSignIn(page: Page, email: string, password: string, where: (url: URL) => boolean) {
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await go(page, () => page.getByRole('button', { name: 'Sign in with password' }).click(), where);
}

/** Signs in to /account in this browser by password. */
async function accountSignIn(page: Page, email: string, password: string) {
  await page.goto(`${server.issuer}/account`);
  await passwordSignIn(page, email, password, path(/^\/account$/));
}

/** Signs in to the app (offline_access, so a refresh token) in this browser; returns its tokens. */
async function appSignIn(page: Page, email: string, password: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  await page.goto(oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email offline_access', prompt: 'consent', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).href);
  if (await page.getByLabel('Email address').count()) await passwordSignIn(page, email, password, (url) => atClient(url) || path(/^\/interaction\/[^/]+$/)(url));
  if (!atClient(new URL(page.url()))) await go(page, () => page.getByRole('button', { name: 'Allow', exact: true }).click(), atClient);
  return oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
}

/** Confirms it is you by password on the step-up page this browser was sent to. */
async function stepUp(t: ExecutionContext, page: Page, password: string) {
  t.regex(page.url(), /\/account\/reauth\?needed$/);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await go(page, () => page.getByRole('button', { name: 'Confirm with password' }).click(), path(/^\/account$/));
}

const refreshFails = (refreshToken: string) => oidc.refreshTokenGrant(rp, refreshToken).then(() => false, (err: unknown) => (err as { error?: string }).error === 'invalid_grant');
const introspected = async (token: string) => (await oidc.tokenIntrospection(rp, token)).active;

test.serial('remove the phone: asked to confirm it is you, then removed; the phone is told', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'two.ways@example.com', password: 'walking in the park 7' });
  await setIdentifier(server.runtime.db, id, { kind: 'phone', value: '+4915122223333' });
  const { page, scriptErrors } = await openBrowser(t);
  await accountSignIn(page, 'two.ways@example.com', 'walking in the park 7');
  await visit(t, page, 'profile', 'Your account');
  t.regex(await page.locator('dl').innerText(), /\+4915122223333 \(confirmed\)/);

  await go(page, () => page.getByRole('button', { name: 'Remove phone number' }).click(), path(/\/account\/reauth$/));
  await stepUp(t, page, 'walking in the park 7');
  await go(page, () => page.getByRole('button', { name: 'Remove phone number' }).click(), path(/^\/account$/));
  await visit(t, page, 'profile-removed', 'Your account');
  t.is(await page.getByRole('status').innerText(), 'Removed.');
  t.regex(await page.locator('dl').innerText(), /Phone number\s+not added/);
  // The email is now the only way in: no remove button for it.
  t.is(await page.getByRole('button', { name: 'Remove email address' }).count(), 0);
  const row = await server.runtime.db('accounts').where({ id }).first();
  t.is(row.phone, null);
  const notice = await sms.nextRequest(10_000);
  t.is(notice.json?.to, '+4915122223333', 'the removed phone hears of it');
  t.regex(String(notice.json?.text), /phone number \S+ removed/);
  t.is((await mailTo('two.ways@example.com')).subject, 'A phone number was removed from your Enot ID account', 'and so does the email');
  t.truthy(await server.runtime.db('audit_log').where({ action: 'identifier.removed', outcome: 'success', actor_id: id }).first());
  t.deepEqual(scriptErrors, []);
});

test.serial('change the password: the new one signs in, the old one no longer; the email is told', async (t) => {
  await createAccount(server.runtime.db, { email: 'changer@example.com', password: 'the old password 42' });
  const { page, scriptErrors } = await openBrowser(t);
  await accountSignIn(page, 'changer@example.com', 'the old password 42');
  await go(page, () => page.getByRole('link', { name: 'Password', exact: true }).click(), path(/\/account\/password$/));
  await visit(t, page, 'password', 'Password');
  await page.getByLabel('New password').fill('a brand new secret 43');
  await go(page, () => page.getByRole('button', { name: 'Change password' }).click(), path(/\/account\/reauth$/));
  await visit(t, page, 'reauth', 'Confirm it is you');
  await stepUp(t, page, 'the old password 42');
  await page.goto(`${server.issuer}/account/password`);
  // The policy of sign-up applies.
  await page.getByLabel('New password').fill('password');
  await go(page, () => page.getByRole('button', { name: 'Change password' }).click(), path(/\/account\/password$/));
  await visit(t, page, 'password-refused', 'Password');
  t.regex(await page.getByRole('alert').innerText(), /most common/);
  await page.getByLabel('New password').fill('a brand new secret 43');
  await go(page, () => page.getByRole('button', { name: 'Change password' }).click(), path(/\/account\/password$/));
  await visit(t, page, 'password-saved', 'Password');
  t.is(await page.getByRole('status').innerText(), 'Password saved.');

  const notice = await mailTo('changer@example.com');
  t.is(notice.subject, 'Your Enot ID password was changed');
  t.is(notice.code, undefined, 'no code in the notice');
  const { tokens } = await signIn(rp, { email: 'changer@example.com', password: 'a brand new secret 43', scope: 'openid' });
  t.truthy(tokens.id_token);
  await t.throwsAsync(signIn(rp, { email: 'changer@example.com', password: 'the old password 42', scope: 'openid' }));
  t.deepEqual(scriptErrors, []);
});

test.serial('two browsers, two sessions: one signs the other out, whose refresh token stops; its own goes on', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'two.browsers@example.com', password: 'one person two laptops' });
  const first = await openBrowser(t);
  const second = await openBrowser(t);
  const mine = await appSignIn(first.page, 'two.browsers@example.com', 'one person two laptops');
  const theirs = await appSignIn(second.page, 'two.browsers@example.com', 'one person two laptops');
  t.truthy(theirs.refresh_token);

  await first.page.goto(`${server.issuer}/account/sessions`);
  await visit(t, first.page, 'sessions', 'Sessions and apps');
  const sessions = first.page.locator('#sessions > li');
  t.is(await sessions.count(), 2);
  const texts = await sessions.allInnerTexts();
  t.regex(texts[0]!, /^Chrome \d+, Linux \(this device\)/, 'this one first, marked');
  t.regex(texts[1]!, /^Chrome \d+, Linux\n/);
  for (const text of texts) {
    t.regex(text, /Signed in: \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/);
    t.regex(text, /Last used: /);
    t.regex(text, /IP address: (::ffff:)?127\.0\.0\.1/);
  }
  t.regex(await first.page.locator('#apps').innerText(), new RegExp(`${CLIENT_NAME}[\\s\\S]*See your email address`), 'the app, its scopes in words');
  t.regex(await first.page.locator('#apps').innerText(), /Allowed: \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/, 'and since when');

  t.false(await refreshFails(theirs.refresh_token!), 'the other browser’s refresh token works before');
  await go(first.page, () => first.page.getByRole('button', { name: 'Sign out this session' }).click(), path(/\/account\/sessions$/));
  await visit(t, first.page, 'sessions-ended', 'Sessions and apps');
  t.regex(await first.page.getByRole('status').innerText(), /That session is signed out/);
  t.is(await first.page.locator('#sessions > li').count(), 1);
  t.true(await refreshFails(theirs.refresh_token!), 'its refresh token stops at once');
  t.false(await refreshFails(mine.refresh_token!), 'this browser’s app goes on');
  // The other browser is signed out: /account asks it to sign in.
  await second.page.goto(`${server.issuer}/account`);
  t.regex(second.page.url(), /\/interaction\//);
  t.is((await server.runtime.accountModels(id, 'Session')).length, 1);
  t.deepEqual([...first.scriptErrors, ...second.scriptErrors], []);
});

test.serial('revoke an app: its refresh and access tokens stop at once, and it must ask again', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'revoker@example.com', password: 'no more notes for you' });
  const { page, scriptErrors } = await openBrowser(t);
  const tokens = await appSignIn(page, 'revoker@example.com', 'no more notes for you');
  t.true(await introspected(tokens.access_token));
  t.true((await server.runtime.db('remembered_consents').where({ account_id: id })).length > 0);

  await page.goto(`${server.issuer}/account/sessions`);
  await go(page, () => page.getByRole('button', { name: 'Remove access' }).click(), path(/\/account\/sessions$/));
  await visit(t, page, 'sessions-revoked', 'Sessions and apps');
  t.regex(await page.getByRole('status').innerText(), /Access removed/);
  t.regex(await page.locator('main').innerText(), /No app has access to your account\./);
  t.true(await refreshFails(tokens.refresh_token!), 'the refresh token stops');
  t.false(await introspected(tokens.access_token), 'the access token stops');
  t.is((await server.runtime.db('remembered_consents').where({ account_id: id })).length, 0, 'the consent is forgotten');
  t.truthy(await server.runtime.db('audit_log').where({ action: 'app.revoked', actor_id: id }).first());

  // Signing in to the app again asks for consent again.
  await page.goto(oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }).href);
  t.regex(await page.locator('h1').innerText(), new RegExp(`^Allow ${CLIENT_NAME} access\\?$`));
  t.deepEqual(scriptErrors, []);
});

test.serial('delete the account with a code by mail: everything ends, only an audit record with the account id is left', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'leaver@example.com', password: 'goodbye and thanks 9' });
  const { page, scriptErrors } = await openBrowser(t);
  const tokens = await appSignIn(page, 'leaver@example.com', 'goodbye and thanks 9');
  await page.goto(`${server.issuer}/account`);
  await go(page, () => page.getByRole('link', { name: 'Delete account' }).click(), path(/\/account\/delete$/));
  await visit(t, page, 'delete', 'Delete account');
  await go(page, () => page.getByRole('button', { name: 'Send the code to l…@example.com' }).click(), path(/\/account\/flows\/[^/]+$/));
  await visit(t, page, 'delete-code', 'Enter the code');
  const mail = await mailTo('leaver@example.com');
  t.is(mail.subject, 'Your code to delete your Enot ID account');
  await page.getByLabel('Code', { exact: true }).fill(mail.code!);
  await go(page, () => page.getByRole('button', { name: 'Continue' }).click(), path(/\/account\/flows\/[^/]+\/code$/));
  await visit(t, page, 'deleted', 'Account deleted');

  t.is((await mailTo('leaver@example.com')).subject, 'Your Enot ID account was deleted');
  t.is(await server.runtime.db('accounts').where({ id }).first(), undefined);
  t.true(await refreshFails(tokens.refresh_token!));
  t.false(await introspected(tokens.access_token));
  t.deepEqual(await server.runtime.accountModels(id, 'Session'), []);
  t.deepEqual(await server.runtime.accountModels(id, 'Grant'), []);
  for (const table of ['session_devices', 'known_devices', 'remembered_consents', 'flows']) {
    t.deepEqual(await server.runtime.db(table).where({ account_id: id }), [], table);
  }
  t.deepEqual(await server.runtime.db('verification_codes').where({ identifier: 'leaver@example.com' }), [], 'no code to the address is kept');
  const record = await server.runtime.db('audit_log').where({ action: 'account.deleted', outcome: 'success' }).first();
  t.like(record, { actor_kind: 'account', actor_id: id, target_kind: 'account', target_id: id, ip: null, user_agent: null });
  t.deepEqual(record.details, {});
  // The browser is signed out: /account asks to sign in, and the old password finds no account.
  await page.goto(`${server.issuer}/account`);
  t.regex(page.url(), /\/interaction\//);
  await t.throwsAsync(signIn(rp, { email: 'leaver@example.com', password: 'goodbye and thanks 9', scope: 'openid' }));
  t.deepEqual(scriptErrors, []);
});

