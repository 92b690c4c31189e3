// The main sign-in journeys once in real headless Chromium: every page a journey
// visits is saved as test-artifacts/screenshots/<journey>-<step>.png and checked
// with axe-core (no serious or critical violation, no sideways scrolling). The
// relying party is openid-client; its redirect_uri is answered inside the browser.
import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { startSmsReceiver, type SmsReceiver } from './helpers/sms-receiver.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { checkAccessibility, focusedElement, horizontalOverflow, launchChromium, newTestContext } from './helpers/chromium.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { strings } from '../views/strings.ts';

let server: TestServer;
let smtp: SmtpCapture;
let sms: SmsReceiver;
let rp: oidc.Configuration;
let browser: Browser;
let launching: Promise<Browser> | undefined;
const CLIENT_NAME = 'Example Notes';

test.before(async () => {
  // Chromium starts while the servers do; each is assigned as soon as it runs, so test.after can stop it.
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  smtp = await startSmtpServer();
  sms = await startSmsReceiver();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url, DEFAULT_PHONE_REGION: 'DE' });
  browser = await launching;
  rp = await registerClient(server.issuer, { scope: 'openid email phone roles offline_access api:read', client_name: CLIENT_NAME });
});

test.after.always(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await server?.stop();
  await smtp?.close();
  await sms?.close();
});

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1];

async function mailedCode(address: string): Promise<string> {
  // By recipient: queued security notices to others may arrive in between.
  const mail = await smtp.nextMessageTo(address, 10_000);
  return codeIn(mail.text ?? '')!;
}

async function textedCode(phone: string): Promise<string> {
  const request = await sms.nextRequest(10_000);
  if (request.json?.to !== phone) throw new Error(`expected SMS to ${phone}, got ${String(request.json?.to)}`);
  return codeIn(String(request.json.text))!;
}

/** A fresh browser context for this test (its own cookies and session), closed after it. */
async function openBrowser(t: ExecutionContext, options: Parameters<typeof newTestContext>[1] = {}) {
  const opened = await newTestContext(browser, options);
  t.teardown(() => opened.context.close());
  return opened;
}

interface Started {
  verifier: string;
  state: string;
}

/** Navigates to an authorization request (code + PKCE S256) built by openid-client. */
async function authorize(page: Page, scope: string, extra: Record<string, string> = {}): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  await page.goto(url.href);
  return { verifier, state };
}

/** Runs `action` (a click or key press that submits a form or follows a link) and waits until a page matching `where` has loaded. */
async function go(page: Page, action: () => Promise<void>, where: (url: URL) => boolean): Promise<void> {
  // Waits for a navigation after the action (a form may lead back to the same URL), not for a URL.
  const arrived = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() && where(new URL(frame.url())) });
  await Promise.all([arrived, action()]);
  await page.waitForLoadState('load');
}

const at = (suffix: RegExp) => (url: URL) => suffix.test(url.pathname);
const atClient = (url: URL) => url.href.startsWith(REDIRECT_URI);
/** The client, or an interaction's main page (where consent is shown). */
const atClientOrConsent = (url: URL) => atClient(url) || /^\/interaction\/[^/]+$/.test(url.pathname);

/** The page is the one expected (its heading), then screenshot + axe + no sideways scrolling. */
async function visit(t: ExecutionContext, page: Page, name: string, heading: RegExp): Promise<void> {
  t.regex(await page.locator('h1').innerText(), heading, `${name}: heading`);
  const report = await checkAccessibility(page, name);
  for (const v of report.violations) t.log(`${name}: ${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`);
  t.deepEqual(report.blocking, [], `${name}: serious or critical accessibility violations`);
  t.is(await horizontalOverflow(page), 0, `${name}: the page scrolls sideways`);
}

/** From the page after sign-in: through consent if it is asked (checked too), to the client, then the token request. */
async function finish(t: ExecutionContext, page: Page, started: Started, journey: string, texts = { consent: /^Allow .+ access\?$/, allow: 'Allow' }) {
  if (!atClient(new URL(page.url()))) {
    await visit(t, page, `${journey}-consent`, texts.consent);
    await go(page, () => page.getByRole('button', { name: texts.allow, exact: true }).click(), atClient);
  }
  t.is(await page.locator('h1').innerText(), 'Back at the app');
  return oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: started.verifier, expectedState: started.state });
}

test.serial('register by email with a password: register page, code by mail, consent, tokens with email_verified', async (t) => {
  const { page, scriptErrors } = await openBrowser(t);
  const started = await authorize(page, 'openid email');
  await visit(t, page, 'register-email-1-sign-in', new RegExp(`^Sign in to ${CLIENT_NAME}$`));

  await go(page, () => page.getByRole('link', { name: 'Create an account' }).click(), at(/\/register$/));
  await visit(t, page, 'register-email-2-register', new RegExp(`^Create an account for ${CLIENT_NAME}$`));
  await page.getByLabel('Email address').fill('Grace@Example.com');
  await page.getByLabel('Password (optional)').fill('a sturdy passphrase');
  await go(page, () => page.getByRole('button', { name: 'Create account' }).click(), at(/\/flows\/[^/]+$/));

  await visit(t, page, 'register-email-3-code', /^Enter the code$/);
  t.regex(await page.locator('main').innerText(), /We sent a 6-digit code to G…@example\.com\./, 'the masked address');
  const code = await mailedCode('Grace@example.com');
  await page.getByLabel('Code', { exact: true }).fill(code);
  await go(page, () => page.getByRole('button', { name: 'Continue' }).click(), atClientOrConsent);

  const tokens = await finish(t, page, started, 'register-email-4');
  const claims = tokens.claims()!;
  t.is(claims.email, 'Grace@example.com');
  t.true(claims.email_verified as boolean);
  t.deepEqual(claims.amr, ['otp']);
  t.deepEqual(scriptErrors, []);
});

test.serial('register by phone on the Phone tab, in Russian: code by SMS, tokens with phone_number_verified', async (t) => {
  const { page, scriptErrors } = await openBrowser(t);
  const started = await authorize(page, 'openid phone', { ui_locales: 'ru' });
  t.is(await page.locator('html').getAttribute('lang'), 'ru');
  await visit(t, page, 'register-phone-1-sign-in', new RegExp(`^Вход в ${CLIENT_NAME}$`));

  await go(page, () => page.getByRole('link', { name: 'Зарегистрироваться' }).click(), at(/\/register$/));
  await visit(t, page, 'register-phone-2-register', new RegExp(`^Регистрация в ${CLIENT_NAME}$`));
  await go(page, () => page.getByRole('link', { name: 'Телефон', exact: true }).click(), (url) => url.searchParams.get('via') === 'phone');
  t.is(await page.getByRole('link', { name: 'Телефон', exact: true }).getAttribute('aria-current'), 'page');
  const phone = page.getByLabel('Номер телефона');
  t.is(await phone.getAttribute('type'), 'tel');
  t.is(await phone.getAttribute('autocomplete'), 'tel');
  await visit(t, page, 'register-phone-3-register-phone-tab', new RegExp(`^Регистрация в ${CLIENT_NAME}$`));
  await phone.fill('0151 2345 6789');
  await go(page, () => page.getByRole('button', { name: 'Создать аккаунт' }).click(), at(/\/flows\/[^/]+$/));

  await visit(t, page, 'register-phone-4-code', /^Введите код$/);
  const code = await textedCode('+4915123456789');
  await page.getByLabel('Код', { exact: true }).fill(code);
  await go(page, () => page.getByRole('button', { name: 'Продолжить' }).click(), atClientOrConsent);

  const tokens = await finish(t, page, started, 'register-phone-5', { consent: /^Разрешить доступ приложению .+\?$/, allow: 'Разрешить' });
  const claims = tokens.claims()!;
  t.is(claims.phone_number, '+4915123456789');
  t.true(claims.phone_number_verified as boolean);
  t.deepEqual(claims.amr, ['otp', 'sms']);
  t.deepEqual(scriptErrors, []);
});

test.serial('sign in by code with the keyboard only; then by password in a fresh context', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'ken@example.com', password: 'kens own passphrase' });

  const first = await openBrowser(t);
  let page = first.page;
  let started = await authorize(page, 'openid email');
  await visit(t, page, 'sign-in-code-1-sign-in', new RegExp(`^Sign in to ${CLIENT_NAME}$`));

  // Tab from the top of the page reaches the identifier field, and the next Tab the button that sends a code.
  const seen: string[] = [];
  for (let presses = 0; presses < 8; presses++) {
    await page.keyboard.press('Tab');
    const focused = await focusedElement(page);
    seen.push(`${focused.tag}${focused.name ? `[name=${focused.name}]` : ''} ${focused.text}`.trim());
    if (focused.tag === 'input' && focused.name === 'identifier') break;
  }
  t.regex(seen.at(-1)!, /^input\[name=identifier\]$/, `Tab order: ${seen.join(' → ')}`);
  await page.keyboard.type('KEN@example.com');
  await page.keyboard.press('Tab');
  t.deepEqual(await focusedElement(page), { tag: 'button', name: null, type: 'submit', text: 'Send me a code' });
  await go(page, () => page.keyboard.press('Enter'), at(/\/flows\/[^/]+$/));

  await visit(t, page, 'sign-in-code-2-code', /^Enter the code$/);
  t.is((await focusedElement(page)).name, 'code', 'the code field has the focus (autofocus)');
  const code = await mailedCode('ken@example.com');
  await page.keyboard.type(code);
  await go(page, () => page.keyboard.press('Enter'), atClientOrConsent);
  let tokens = await finish(t, page, started, 'sign-in-code-3');
  t.is(tokens.claims()!.sub, id);
  t.deepEqual(tokens.claims()!.amr, ['otp']);

  const second = await openBrowser(t);
  page = second.page;
  started = await authorize(page, 'openid email');
  await visit(t, page, 'sign-in-password-1-sign-in', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  await page.getByLabel('Email address').fill('ken@example.com');
  await page.getByLabel('Password', { exact: true }).fill('not my passphrase');
  await go(page, () => page.getByRole('button', { name: 'Sign in with password' }).click(), at(/\/login$/));
  await visit(t, page, 'sign-in-password-2-wrong-password', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  t.is(await page.getByRole('alert').innerText(), 'The email, phone or password is not correct.');
  t.is(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Password', { exact: true }).fill('kens own passphrase');
  await go(page, () => page.getByRole('button', { name: 'Sign in with password' }).click(), atClientOrConsent);
  tokens = await finish(t, page, started, 'sign-in-password-3');
  t.is(tokens.claims()!.sub, id);
  t.deepEqual(tokens.claims()!.amr, ['pwd']);
  t.deepEqual([...first.scriptErrors, ...second.scriptErrors], []);
});

test.serial('forgot password: code, a refused weak password, a new password, signed in', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'forgetful@example.com', password: 'the old password 1' });
  const { page, scriptErrors } = await openBrowser(t);
  const started = await authorize(page, 'openid email');
  await visit(t, page, 'recover-1-sign-in', new RegExp(`^Sign in to ${CLIENT_NAME}$`));

  await go(page, () => page.getByRole('link', { name: 'Forgot your password?' }).click(), at(/\/recover$/));
  await visit(t, page, 'recover-2-recover', /^Reset your password$/);
  await page.getByLabel('Email address').fill('forgetful@example.com');
  await go(page, () => page.getByRole('button', { name: 'Send code' }).click(), at(/\/flows\/[^/]+$/));

  await visit(t, page, 'recover-3-code', /^Enter the code$/);
  await page.getByLabel('Code', { exact: true }).fill(await mailedCode('forgetful@example.com'));
  await go(page, () => page.getByRole('button', { name: 'Continue' }).click(), at(/\/flows\/[^/]+$/));

  await visit(t, page, 'recover-4-new-password', /^Choose a new password$/);
  t.is(await page.getByLabel('New password').getAttribute('autocomplete'), 'new-password');
  await page.getByLabel('New password').fill('password');
  await go(page, () => page.getByRole('button', { name: 'Save password and sign in' }).click(), at(/\/password$/));
  await visit(t, page, 'recover-5-weak-password', /^Choose a new password$/);
  t.regex(await page.getByRole('alert').innerText(), /common/);

  await page.getByLabel('New password').fill('the new password 2');
  await go(page, () => page.getByRole('button', { name: 'Save password and sign in' }).click(), atClientOrConsent);
  const tokens = await finish(t, page, started, 'recover-6');
  t.is(tokens.claims()!.sub, id);
  t.deepEqual(tokens.claims()!.amr, ['otp', 'pwd']);
  t.deepEqual(scriptErrors, []);
});

test.serial('consent: offline_access with prompt=consent lists the scopes and gives a refresh token', async (t) => {
  await createAccount(server.runtime.db, { email: 'ada@example.com', password: 'analytical engine 1843' });
  const { page, scriptErrors } = await openBrowser(t);
  const started = await authorize(page, 'openid email offline_access api:read', { prompt: 'consent' });
  await visit(t, page, 'consent-1-sign-in', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByLabel('Password', { exact: true }).fill('analytical engine 1843');
  await go(page, () => page.getByRole('button', { name: 'Sign in with password' }).click(), atClientOrConsent);

  t.false(atClient(new URL(page.url())), 'prompt=consent shows the consent page');
  const scopes = await page.locator('ul.scopes li').allInnerTexts();
  t.true(scopes.includes('Keep access while you are not using it, until you sign out or the access expires'), scopes.join(' '));
  t.false(scopes.includes('offline_access'), 'offline_access in words, not its name');
  t.true(scopes.includes('api:read'), scopes.join(' '));
  const tokens = await finish(t, page, started, 'consent-2');
  t.truthy(tokens.refresh_token, 'offline_access granted: a refresh token');
  const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
  t.truthy(refreshed.access_token, 'the refresh token works');
  t.deepEqual(scriptErrors, []);
});

test.serial('without JavaScript: the language switcher, sign in by code, consent, back at the app; sign out', async (t) => {
  const ru = strings('ru');
  const id = await createAccount(server.runtime.db, { email: 'nojs@example.com' });
  const { page } = await openBrowser(t, { javaScriptEnabled: false });
  const started = await authorize(page, 'openid email');
  t.is(await page.locator('html').getAttribute('lang'), 'en');
  // The switcher is a link: the cookie it sets, then back to the same sign-in page in Russian.
  await go(page, () => page.getByRole('link', { name: 'Русский' }).click(), at(/^\/interaction\/[^/]+$/));
  t.is(await page.locator('html').getAttribute('lang'), 'ru');
  t.is(await page.locator('h1').innerText(), `Вход в ${CLIENT_NAME}`);
  await page.locator('input[name=identifier]').fill('nojs@example.com');
  await go(page, () => page.getByRole('button', { name: ru.continueWithCode }).click(), at(/\/flows\/[^/]+$/));
  t.is(await page.locator('h1').innerText(), ru.codeTitle);
  t.true(await page.locator('#resend').isDisabled(), 'the resend button waits (no countdown without scripts; the server refuses early resends anyway)');
  await page.locator('input[name=code]').fill(await mailedCode('nojs@example.com'));
  await go(page, () => page.getByRole('button', { name: ru.confirm }).click(), atClientOrConsent);
  t.false(atClient(new URL(page.url())), 'a first sign-in to this app asks for consent');
  t.is(await page.locator('html').getAttribute('lang'), 'ru');
  t.is(await page.locator('h1').innerText(), `Разрешить доступ приложению ${CLIENT_NAME}?`);
  await go(page, () => page.getByRole('button', { name: ru.allow, exact: true }).click(), atClient);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: started.verifier, expectedState: started.state });
  t.is(tokens.claims()!.sub, id);

  await page.goto(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! }).href);
  await go(page, () => page.getByRole('button', { name: ru.signOutYes }).click(), at(/\/session\/end\/success$/));
  t.is(await page.locator('h1').innerText(), ru.signedOutHeading);
});

test.serial('the sign-in page on a phone (390×844): fits, readable, accessible', async (t) => {
  const { page, scriptErrors } = await openBrowser(t, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await authorize(page, 'openid email');
  await visit(t, page, 'phone-1-sign-in', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  const field = await page.getByLabel('Email address').boundingBox();
  const button = await page.getByRole('button', { name: 'Send me a code' }).boundingBox();
  t.truthy(field && button);
  t.true(field!.x >= 8 && field!.x + field!.width <= 390 - 8, `the field sits inside the screen with a margin: ${JSON.stringify(field)}`);
  t.true(field!.width >= 300, `the field uses the width of the screen: ${field!.width}`);
  t.true(button!.height >= 44, `the button is a comfortable touch target: ${button!.height}px`);
  const fontSize = await page.getByLabel('Email address').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }).getComputedStyle(el).fontSize);
  t.true(parseFloat(fontSize) >= 16, `inputs at 16px or more (no zoom on focus): ${fontSize}`);

  await go(page, () => page.getByRole('link', { name: 'Phone', exact: true }).click(), (url) => url.searchParams.get('via') === 'phone');
  await visit(t, page, 'phone-2-sign-in-phone-tab', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  t.is(await page.getByLabel('Phone number').getAttribute('inputmode'), 'tel');
  t.deepEqual(scriptErrors, []);
});

test.serial('dark colour scheme: the sign-in page with an error and hints stays readable', async (t) => {
  const { page, scriptErrors } = await openBrowser(t, { colorScheme: 'dark' });
  await authorize(page, 'openid phone');
  await go(page, () => page.getByRole('link', { name: 'Phone', exact: true }).click(), (url) => url.searchParams.get('via') === 'phone');
  await page.getByLabel('Phone number').fill('+49 151 1111 2222');
  await page.getByLabel('Password', { exact: true }).fill('not anybody’s password');
  await go(page, () => page.getByRole('button', { name: 'Sign in with password' }).click(), at(/\/login$/));
  t.is(await page.getByRole('alert').innerText(), 'The email, phone or password is not correct.');
  const background = await page.locator('body').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);
  t.not(background, 'rgb(255, 255, 255)', 'the page follows the dark scheme');
  await visit(t, page, 'dark-1-sign-in-wrong-password', new RegExp(`^Sign in to ${CLIENT_NAME}$`));
  t.deepEqual(scriptErrors, []);
});
