// The Content-Security-Policy as Chromium enforces it (the other browser tests
// bypass it to inject axe-core): pages are styled, the QR page's script runs and
// polls, nothing is refused, and a sign-in and a logout, whose form POSTs are
// answered with redirects to the client, reach the client (Chromium checks
// form-action on those redirects too).
import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { launchChromium, newTestContext } from './helpers/chromium.ts';
import { createAccount } from '../server/accounts/create-account.ts';

const POST_LOGOUT_URI = 'https://rp.example.test/signed-out';
let server: TestServer;
let browser: Browser;
let launching: Promise<Browser> | undefined;
let rp: oidc.Configuration;
const user = { email: 'csp@example.com', password: 'a policy that holds' };

test.before(async () => {
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  browser = await launching;
  rp = await registerClient(server.issuer, { client_name: 'CSP Notes', post_logout_redirect_uris: [POST_LOGOUT_URI] });
  await createAccount(server.runtime.db, user);
});

test.after.always(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await server?.stop();
});

/** A context that enforces the CSP, and every CSP refusal Chromium reports in it. */
async function enforcing(t: ExecutionContext) {
  const opened = await newTestContext(browser, { bypassCSP: false });
  t.teardown(() => opened.context.close());
  const refused: string[] = [];
  opened.page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  return { ...opened, refused };
}

async function go(page: Page, action: () => Promise<void>, where: (url: URL) => boolean): Promise<void> {
  const arrived = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() && where(new URL(frame.url())) });
  await Promise.all([arrived, action()]);
  await page.waitForLoadState('load');
}

const buttonColour = (page: Page, name: string) =>
  page.getByRole('button', { name, exact: true }).first().evaluate((button) => {
    const { getComputedStyle } = globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } };
    return getComputedStyle(button).backgroundColor;
  });

test.serial('sign-in with a password, consent and logout under the enforced policy reach the client', async (t) => {
  const { page, refused, scriptErrors } = await enforcing(t);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid', state: 'csp-state',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  await page.goto(url.href);
  t.is(await page.locator('h1').innerText(), 'Sign in to CSP Notes');
  // The layout's <style> applied (its nonce matched): the primary button is blue.
  t.is(await buttonColour(page, 'Send me a code'), 'rgb(43, 89, 195)');
  // The QR script runs (its nonce matched) and polls its own origin (connect-src 'self').
  const poll = await page.waitForRequest((request) => /\/interaction\/[^/]+\/qr\/[^/]+$/.test(new URL(request.url()).pathname), { timeout: 10_000 });
  t.is(new URL(poll.url()).origin, server.issuer);

  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await go(page, () => page.getByRole('button', { name: 'Sign in with password' }).click(), (u) => /^\/interaction\/[^/]+$/.test(u.pathname));
  t.regex(await page.locator('h1').innerText(), /^Allow .+ access\?$/);
  // Consent posts to us; the answer redirects to /auth/:uid and from there to the client.
  await go(page, () => page.getByRole('button', { name: 'Allow', exact: true }).click(), (u) => u.href.startsWith(REDIRECT_URI));
  t.is(await page.locator('h1').innerText(), 'Back at the app');
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: 'csp-state' });

  // RP-initiated logout: the confirmation form posts to us, the answer redirects to the client.
  const logout = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI });
  await page.goto(logout.href);
  t.regex(await page.locator('h1').innerText(), /^Sign out/);
  await go(page, () => page.getByRole('button', { name: 'Yes, sign me out' }).click(), (u) => u.href.startsWith(POST_LOGOUT_URI));

  t.deepEqual(refused, [], 'Chromium refused nothing');
  t.deepEqual(scriptErrors, []);
});

test.serial('the device pages under the enforced policy: styled, nothing refused', async (t) => {
  const { page, refused } = await enforcing(t);
  await page.goto(`${server.issuer}/device`);
  t.is(await page.locator('h1').innerText(), 'Connect a device');
  t.is(await buttonColour(page, 'Continue'), 'rgb(43, 89, 195)');
  await page.getByLabel('Code').fill('BCDF-GHJK');
  await go(page, () => page.getByRole('button', { name: 'Continue' }).click(), (u) => u.pathname === '/device');
  t.regex(await page.locator('main').innerText(), /not correct/);
  t.deepEqual(refused, [], 'Chromium refused nothing');
});
