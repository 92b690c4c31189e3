// A walk through every page a person can meet, in one browser page: the start page,
// sign-in (with its QR), a refused password, register, recover by code, a refused
// then a good new password, consent, the account page, its step-up, password, sessions
// and apps, and delete pages, a QR approval
// on the phone side, the device pages, logout, three error pages, and a mailing's
// unsubscribe page and its answer. At each page it
// calls `at(name)`: test/browser-pages.test.ts checks accessibility there, and
// scripts/screenshots.ts takes the README's screenshots. The language follows the
// browser context's locale (Accept-Language); the buttons are found by the catalogue's words.
import type { BrowserContextOptions, Page } from 'playwright-core';
import { startTestServer, type TestServer } from './server.ts';
import { startSmtpServer, type SmtpCapture } from './smtp.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './oidc.ts';
import { decodeQrSvg } from './qr-decode.ts';
import { RP_LOGO_PATH } from './chromium.ts';
import { createAccount } from '../../server/accounts/create-account.ts';
import { loadCookieKeys } from '../../server/keys/cookie-keys.ts';
import { unsubscribeToken } from '../../server/mailings/unsubscribe-token.ts';
import { strings } from '../../views/strings.ts';
import type { Locale } from '../../server/i18n/locale.ts';

export interface TourWorld {
  server: TestServer;
  smtp: SmtpCapture;
  rp: oidc.Configuration;
  tv: oidc.Configuration;
  stop(): Promise<void>;
}

/** A server with an SMTP capture, a web client "Notes" (with a logo and links) and a device client "Living Room TV". */
export async function startTourWorld(): Promise<TourWorld> {
  const smtp = await startSmtpServer();
  const server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, DEFAULT_PHONE_REGION: 'DE' });
  // With a logo and links (RFC 7591 §2) on its sign-in and consent pages; the logo's origin is the
  // redirect URI's, which the test browser answers itself (test/helpers/chromium.ts).
  const rp = await registerClient(server.issuer, {
    client_name: 'Notes', scope: 'openid email',
    logo_uri: new URL(RP_LOGO_PATH, REDIRECT_URI).href, policy_uri: new URL('/privacy', REDIRECT_URI).href, tos_uri: new URL('/terms', REDIRECT_URI).href,
  });
  const tv = await registerClient(server.issuer, {
    client_name: 'Living Room TV',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
  });
  return {
    server, smtp, rp, tv,
    async stop() {
      await server.stop();
      await smtp.close();
    },
  };
}

/** The pages the tour stops at, in its order: the screenshots under docs/screenshots/pages/ are named after them. */
export const TOUR_STOPS = [
  'home', 'sign-in', 'sign-in-wrong-password', 'register', 'recover', 'code', 'new-password', 'new-password-refused',
  'consent', 'account', 'reauth', 'account-password', 'account-sessions', 'account-delete', 'qr-approve', 'qr-denied', 'device-code', 'device-code-wrong', 'device-confirm',
  'device-done', 'logout', 'signed-out', 'error-unknown-client', 'error-redirect-uri', 'error-not-found', 'unsubscribe', 'unsubscribed',
  'account-deleted',
] as const;
export type TourStop = (typeof TOUR_STOPS)[number];

/** The browser sizes of the screenshots (scripts/screenshots.ts), by width in CSS pixels: a phone and a desktop. */
export const SCREENSHOT_SIZES: Record<number, BrowserContextOptions & { viewport: { width: number; height: number } }> = {
  390: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  1280: { viewport: { width: 1280, height: 800 } },
};

/** Runs `action` and waits until a main-frame navigation matching `where` has loaded. */
export async function go(page: Page, action: () => Promise<unknown>, where: (url: URL) => boolean): Promise<void> {
  const arrived = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() && where(new URL(frame.url())) });
  await Promise.all([arrived, action()]);
  await page.waitForLoadState('load');
}

const path = (pattern: RegExp) => (url: URL) => pattern.test(url.pathname);

/**
 * Walks every page in `page` (a fresh context whose locale is `locale`), calling `at` on each.
 * `email`: an address no other tour of this world uses (the tour creates its account).
 */
export async function tour(world: TourWorld, page: Page, locale: Locale, email: string, at: (stop: TourStop) => Promise<void>): Promise<void> {
  const t = strings(locale);
  const { server, smtp, rp, tv } = world;
  const accountId = await createAccount(server.runtime.db, { email, password: 'the first password 1' });
  const mailedCode = async () => {
    // By recipient: queued security notices to others may arrive in between, and this
    // account's own notices (password set, new browser) carry no code: skipped.
    for (;;) {
      const mail = await smtp.nextMessageTo(email, 10_000);
      const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
      if (code) return code;
    }
  };

  await page.goto(`${server.issuer}/`);
  await at('home');

  const verifier = oidc.randomPKCECodeVerifier();
  const authorize = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  await page.goto(authorize.href);
  await at('sign-in');

  await page.getByLabel(t.emailLabel).fill(email);
  await page.getByLabel(t.password, { exact: true }).fill('not the password');
  await go(page, () => page.getByRole('button', { name: t.signInWithPassword }).click(), path(/\/login$/));
  await at('sign-in-wrong-password');

  await go(page, () => page.getByRole('link', { name: t.createAccount }).click(), path(/\/register$/));
  await at('register');
  await go(page, () => page.getByRole('link', { name: t.signInTitle, exact: true }).click(), path(/^\/interaction\/[^/]+$/));
  // The QR's URL, for the phone side later: the last one this sign-in showed (each showing makes a new one).
  // The SVG is in the page even where the block is hidden.
  const qrUrl = decodeQrSvg(await page.locator('#qr .qr-image').innerHTML());
  await go(page, () => page.getByRole('link', { name: t.forgotPassword }).click(), path(/\/recover$/));
  await at('recover');

  await page.getByLabel(t.emailLabel).fill(email);
  await go(page, () => page.getByRole('button', { name: t.sendCode }).click(), path(/\/flows\/[^/]+$/));
  await at('code');
  await page.getByLabel(t.codeLabel, { exact: true }).fill(await mailedCode());
  await go(page, () => page.getByRole('button', { name: t.confirm }).click(), path(/\/flows\/[^/]+$/));
  await at('new-password');
  await page.getByLabel(t.newPassword).fill('password');
  await go(page, () => page.getByRole('button', { name: t.setPassword }).click(), path(/\/password$/));
  await at('new-password-refused');
  await page.getByLabel(t.newPassword).fill('the second password 2');
  await go(page, () => page.getByRole('button', { name: t.setPassword }).click(), path(/^\/interaction\/[^/]+$/));
  await at('consent');
  await go(page, () => page.getByRole('button', { name: t.allow, exact: true }).click(), (url) => url.href.startsWith(REDIRECT_URI));

  await page.goto(`${server.issuer}/account`);
  await at('account');
  await page.goto(`${server.issuer}/account/reauth`);
  await at('reauth');
  await page.goto(`${server.issuer}/account/password`);
  await at('account-password');
  // This browser's session, and the app "Notes" it allowed above.
  await page.goto(`${server.issuer}/account/sessions`);
  await at('account-sessions');
  await page.goto(`${server.issuer}/account/delete`);
  await at('account-delete');

  // The phone side of the QR shown on the sign-in page: this browser is signed in now.
  await page.goto(qrUrl);
  await at('qr-approve');
  await go(page, () => page.getByRole('button', { name: t.qrDeny }).click(), path(/\/deny$/));
  await at('qr-denied');

  await page.goto(`${server.issuer}/device`);
  await at('device-code');
  await page.getByLabel(t.codeLabel, { exact: true }).fill('BCDF-GHJK');
  await go(page, () => page.getByRole('button', { name: t.confirm }).click(), path(/^\/device$/));
  await at('device-code-wrong');
  const device = (await (await fetch(`${server.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: tv.clientMetadata().client_id, scope: 'openid' }),
  })).json()) as { user_code: string };
  await page.getByLabel(t.codeLabel, { exact: true }).fill(device.user_code);
  await go(page, () => page.getByRole('button', { name: t.confirm }).click(), path(/^\/device$/));
  await at('device-confirm');
  await go(page, () => page.getByRole('button', { name: t.confirm }).click(), () => true);
  // Signed in already: at most a consent before the device is connected.
  for (let hops = 0; hops < 3 && (await page.locator('h1').innerText()) !== t.deviceDoneTitle; hops++) {
    await go(page, () => page.getByRole('button', { name: t.allow, exact: true }).click(), () => true);
  }
  await at('device-done');

  await page.goto(`${server.issuer}/session/end?client_id=${rp.clientMetadata().client_id}`);
  await at('logout');
  await go(page, () => page.getByRole('button', { name: t.signOutYes }).click(), path(/\/session\/end\/success$/));
  await at('signed-out');

  await page.goto(`${server.issuer}/auth?client_id=nobody&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=openid`);
  await at('error-unknown-client');
  await page.goto(`${server.issuer}/auth?client_id=${rp.clientMetadata().client_id}&redirect_uri=${encodeURIComponent('https://elsewhere.example/cb')}&response_type=code&scope=openid`);
  await at('error-redirect-uri');
  await page.goto(`${server.issuer}/no/such/page`);
  await at('error-not-found');

  // The unsubscribe link of a mailing sent to this account, then its button.
  const key = (await loadCookieKeys(server.runtime.db, server.runtime.sealer, server.runtime.config.cookieKeys))[0]!;
  await page.goto(`${server.issuer}/unsubscribe/${unsubscribeToken(key, accountId)}`);
  await at('unsubscribe');
  await go(page, () => page.getByRole('button', { name: t.unsubscribeButton }).click(), path(/^\/unsubscribe\//));
  await at('unsubscribed');

  // Last, as it ends the account: sign in to /account again, delete it with a code by mail.
  await page.goto(`${server.issuer}/account`);
  await page.getByLabel(t.emailLabel).fill(email);
  await page.getByLabel(t.password, { exact: true }).fill('the second password 2');
  await go(page, () => page.getByRole('button', { name: t.signInWithPassword }).click(), path(/^\/account$/));
  await page.goto(`${server.issuer}/account/delete`);
  await go(page, () => page.getByRole('button', { name: /@/ }).click(), path(/\/account\/flows\/[^/]+$/));
  await page.getByLabel(t.codeLabel, { exact: true }).fill(await mailedCode());
  await go(page, () => page.getByRole('button', { name: t.confirm }).click(), path(/\/account\/flows\/[^/]+\/code$/));
  if ((await page.locator('h1').innerText()) !== t.deletedTitle) throw new Error(`the tour's account was not deleted: ${page.url()}`);
  await at('account-deleted');
}
