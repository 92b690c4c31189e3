// Pages people trust (issue 12 §4): the instance's branding from configuration on
// every page in both languages; each client's RFC 7591 §2 logo and links on sign-in
// and consent, shown only when their origins pass (checked at registration and again
// when drawn); consent names the signed-in person and switches account. A real
// server over HTTP, and real Chromium for colours, accessibility and the switch.
import test from 'ava';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI, operatorClient } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { checkAccessibility, launchChromium, newTestContext } from './helpers/chromium.ts';
import { go } from './helpers/page-tour.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { shownClientMetadata } from '../server/oidc/client-metadata-policy.ts';
import { strings } from '../views/strings.ts';

// A 1×1 PNG.
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PASSWORD = 'a trustworthy page 1851';
const BRAND = { BRAND_NAME: 'Example ID', BRAND_LOGO_URL: 'https://cdn.example.com/logo.png', BRAND_COLOR: '#ffd400', SUPPORT_URL: 'mailto:help@example.com' };

let server: TestServer;
let browser: Browser;
let launching: Promise<Browser> | undefined;

test.before(async () => {
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, ...BRAND });
  browser = await launching;
});

test.after.always(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await server?.stop();
});

const h1 = (page: Page) => /<h1>([^<]*)<\/h1>/.exec(page.body)?.[1];
const header = (page: Page) => /<header[^>]*>([\s\S]*?)<\/header>/.exec(page.body)?.[1] ?? '';
const footer = (page: Page) => /<footer[^>]*>([\s\S]*?)<\/footer>/.exec(page.body)?.[1] ?? '';
const imgSrc = (page: Page) => page.headers.get('content-security-policy')?.split(';').map((d) => d.trim()).find((d) => d.startsWith('img-src '));

async function authorize(rp: oidc.Configuration, extra: Record<string, string> = {}) {
  const web = createBrowser();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...extra,
  });
  return { web, page: await web.follow(url.href, REDIRECT_URI) };
}

test('the instance’s name, logo, colour and support link on every page, in English and Russian; the CSP allows the logo’s origin only', async (t) => {
  const rp = await registerClient(server.issuer, { client_name: 'Notes' });
  for (const [locale, language] of [['en', 'en-GB'], ['ru', 'ru-RU']] as const) {
    const s = strings(locale);
    const headers = { 'accept-language': language };
    const web = createBrowser();
    const pages = {
      home: await web.request(`${server.issuer}/`, { headers }),
      signIn: (await authorize(rp, { ui_locales: locale })).page,
      error: await web.request(`${server.issuer}/no/such/page`, { headers }),
      device: await web.request(`${server.issuer}/device`, { headers }),
    };
    t.is(h1(pages.home), s.brandHomeTitle('Example ID'));
    t.is(h1(pages.home), locale === 'en' ? 'Sign in with Example ID' : 'Вход через Example ID');
    for (const [name, page] of Object.entries(pages)) {
      t.regex(page.body, new RegExp(`<html lang="${locale}">`), name);
      t.regex(page.body, /<title>[^<]* · Example ID<\/title>/, `${name}: the title`);
      // The start page still says, for developers, which software this is.
      if (name !== 'home') t.notRegex(page.body, /Enot ID/, `${name}: the configured name everywhere`);
      t.notRegex(header(page) + /<title>.*<\/title>/.exec(page.body)![0], /Enot ID/, name);
      t.is(header(page).replace(/<nav[\s\S]*<\/nav>/, ''), '<span class="brand with-logo"><img src="https://cdn.example.com/logo.png" alt="" height="28">Example ID</span>', name);
      t.is(footer(page), `<a href="mailto:help@example.com">${s.brandSupport}</a>`, name);
      t.regex(page.body, /:root:root \{ --accent: #ffd400; --accent-hover: #[0-9a-f]{6}; --on-accent: #1b1f2a; \}/, `${name}: dark text on yellow`);
      t.is(imgSrc(page), "img-src 'self' data: https://cdn.example.com", name);
    }
  }
  // A JSON answer draws no page: its policy names no logo.
  const discovery = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  t.is(imgSrc({ headers: discovery.headers } as Page), "img-src 'self' data:");
});

test('a client’s logo and links (RFC 7591 §2) on sign-in and consent: shown with rel="noopener noreferrer"; http links allowed on this loopback http issuer', async (t) => {
  const rp = await registerClient(server.issuer, {
    client_name: 'Notes', logo_uri: 'https://rp.example.test/logo.png', client_uri: 'http://localhost:8080/',
    policy_uri: 'https://rp.example.test/privacy', tos_uri: 'https://rp.example.test/terms',
  });
  const { web, page } = await authorize(rp);
  t.regex(page.body, /<img class="client-logo" src="https:\/\/rp\.example\.test\/logo\.png" alt="" width="64" height="64"><h1>Sign in to Notes<\/h1>/);
  t.regex(page.body, /<nav class="client-links" aria-label="About Notes"><ul><li><a href="http:\/\/localhost:8080\/" rel="noopener noreferrer">Website<\/a><\/li><li><a href="https:\/\/rp\.example\.test\/privacy" rel="noopener noreferrer">Privacy policy<\/a><\/li><li><a href="https:\/\/rp\.example\.test\/terms" rel="noopener noreferrer">Terms of service<\/a><\/li><\/ul><\/nav>/);
  t.is(imgSrc(page), "img-src 'self' data: https://cdn.example.com https://rp.example.test", 'the instance’s and the client’s logo origins, nothing more');

  await createAccount(server.runtime.db, { email: 'links@example.com', password: PASSWORD });
  const login = readForm(page, /\/code$/);
  const consent = await web.submit(login.action.replace(/\/code$/, '/login'), { ...login.hidden, identifier: 'links@example.com', password: PASSWORD }, REDIRECT_URI);
  t.is(h1(consent), 'Allow Notes access?');
  t.regex(consent.body, /<img class="client-logo" src="https:\/\/rp\.example\.test\/logo\.png"/);
  t.regex(consent.body, /<a href="https:\/\/rp\.example\.test\/terms" rel="noopener noreferrer">Terms of service<\/a>/);

  // Without any: no image, no list.
  const plain = await authorize(await registerClient(server.issuer, { client_name: 'Plain' }));
  t.notRegex(plain.page.body, /<img class="client-logo"|<nav class="client-links"/);
});

test('registration refuses a logo that is not https and links that are not http(s): dynamic registration, RFC 7592 update, admin API', async (t) => {
  const register = (metadata: Record<string, unknown>, issuer = server.issuer) => fetch(`${issuer}/reg`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_IAT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], ...metadata }),
  });
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ logo_uri: 'javascript:alert(1)' }, /^logo_uri must be (a web uri|an https URL)/],
    [{ logo_uri: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=' }, /^logo_uri must be (a web uri|an https URL)/],
    [{ logo_uri: 'http://rp.example.test/logo.png' }, /^logo_uri must be an https URL/],
    [{ policy_uri: 'javascript:alert(1)' }, /^policy_uri must be (a web uri|an http or https URL)/],
    [{ tos_uri: 'data:text/html;base64,PHNjcmlwdD4=' }, /^tos_uri must be (a web uri|an http or https URL)/],
  ];
  for (const [metadata, pattern] of refused) {
    const response = await register(metadata);
    const body = (await response.json()) as { error: string; error_description: string };
    t.is(response.status, 400, JSON.stringify(metadata));
    t.is(body.error, 'invalid_client_metadata');
    t.regex(body.error_description, pattern);
  }
  t.is((await register({ logo_uri: 'https://rp.example.test/logo.png', policy_uri: 'http://127.0.0.1:8080/privacy' })).status, 201);

  // The operator's way: the admin API (and the CLI through it) holds clients to the same rules.
  const api = adminApi(server.issuer);
  const token = await clientToken(await machineClient(server), server.issuer);
  const badLogo = await api.call(t, 'post', '/clients', { token, body: { client_name: 'x', redirect_uris: [REDIRECT_URI], logo_uri: 'http://rp.example.test/logo.png' } });
  t.is(badLogo.status, 400);
  t.like(badLogo.body, { error: 'invalid_client_metadata' });
  t.regex(badLogo.body.error_description, /logo_uri must be an https URL/);
  const good = await api.call(t, 'post', '/clients', { token, body: { client_name: 'x', redirect_uris: [REDIRECT_URI], logo_uri: 'https://rp.example.test/logo.png', tos_uri: 'https://rp.example.test/terms' } });
  t.is(good.status, 201);
  t.like(good.body, { logo_uri: 'https://rp.example.test/logo.png', tos_uri: 'https://rp.example.test/terms' });
  const cleared = await api.call(t, 'patch', `/clients/${good.body.client_id}`, { token, body: { tos_uri: '', policy_uri: 'javascript:alert(1)' } });
  t.is(cleared.status, 400, 'javascript: refused on update');
  const removed = await api.call(t, 'patch', `/clients/${good.body.client_id}`, { token, body: { tos_uri: '' } });
  t.is(removed.status, 200);
  t.false('tos_uri' in removed.body, '"" removes a link');

  // An issuer that is not plain-http loopback: links must be https too, at registration and at its update.
  const https = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, ISSUER: 'https://id.example.test' });
  t.teardown(() => https.stop());
  const local = `http://127.0.0.1:${https.environment.env.PORT}`;
  for (const key of ['client_uri', 'policy_uri', 'tos_uri']) {
    const response = await register({ [key]: 'http://rp.example.test/page' }, local);
    t.is(response.status, 400, key);
    t.is(((await response.json()) as { error_description: string }).error_description, `${key} must be an https URL`);
  }
  const created = (await (await register({ policy_uri: 'https://rp.example.test/privacy' }, local)).json()) as Record<string, unknown>;
  const { registration_access_token: rat, registration_client_uri: uri, client_secret_expires_at: _e, client_id_issued_at: _i, ...current } = created;
  const update = await fetch(String(uri).replace('https://id.example.test', local), {
    method: 'PUT', headers: { authorization: `Bearer ${String(rat)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...current, policy_uri: 'http://rp.example.test/privacy' }),
  });
  t.is(update.status, 400);
  t.is(((await update.json()) as { error_description: string }).error_description, 'policy_uri must be an https URL');
});

test('drawn pages leave out a stored logo or link that breaks the rules (defence in depth): javascript:, SVG data, http on a non-loopback issuer', (t) => {
  const issuer = 'https://id.example.test';
  t.deepEqual(shownClientMetadata({
    logo_uri: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=', client_uri: 'javascript:alert(1)', policy_uri: 'http://rp.example.test/privacy', tos_uri: 'https://rp.example.test/terms',
  }, issuer), { logoUri: undefined, clientUri: undefined, policyUri: undefined, tosUri: 'https://rp.example.test/terms' });
  t.deepEqual(shownClientMetadata({ logo_uri: 'http://rp.example.test/logo.png', client_uri: 'data:text/html,hi' }, issuer), { logoUri: undefined, clientUri: undefined, policyUri: undefined, tosUri: undefined });
  t.is(shownClientMetadata({ logo_uri: PNG }, issuer).logoUri, PNG, 'a data: PNG is an image a page may show');
  t.is(shownClientMetadata({ policy_uri: 'http://127.0.0.1:8080/p' }, 'http://127.0.0.1:3000').policyUri, 'http://127.0.0.1:8080/p', 'http on a loopback http issuer');
  t.is(shownClientMetadata({ logo_uri: 'http://127.0.0.1:8080/l.png' }, 'http://127.0.0.1:3000').logoUri, undefined, 'a logo is never loaded over http');
});

test('a stored client whose links break the rules: the sign-in page leaves them out (operator storage, not registration)', async (t) => {
  // Stored straight through the adapter, as a client registered before the rules would be.
  const rp = await operatorClient(server, { client_name: 'Old', logo_uri: 'http://rp.example.test/logo.png', policy_uri: 'https://rp.example.test/privacy' });
  const { page } = await authorize(rp);
  t.is(h1(page), 'Sign in to Old');
  t.notRegex(page.body, /<img class="client-logo"|rp\.example\.test\/logo/);
  t.regex(page.body, /<a href="https:\/\/rp\.example\.test\/privacy" rel="noopener noreferrer">Privacy policy<\/a>/);
  t.is(imgSrc(page), "img-src 'self' data: https://cdn.example.com", 'no origin for a logo not shown');
});

for (const locale of ['en', 'ru'] as const) {
  test.serial(`Chromium (${locale}): the brand colour on buttons with its text colour; client logo, links and the signed-in person; no serious accessibility violation; “Not you?” switches account`, async (t) => {
    const s = strings(locale);
    const rp = await registerClient(server.issuer, {
      client_name: 'Notes', logo_uri: 'https://rp.example.test/logo.png', policy_uri: 'https://rp.example.test/privacy', tos_uri: 'https://rp.example.test/terms', scope: 'openid email',
    });
    const first = `first-${locale}@example.com`;
    const second = `second-${locale}@example.com`;
    await createAccount(server.runtime.db, { email: first, password: PASSWORD });
    const secondId = await createAccount(server.runtime.db, { email: second, password: PASSWORD });
    const { context, page, scriptErrors } = await newTestContext(browser, { locale: locale === 'en' ? 'en-GB' : 'ru-RU' });
    t.teardown(() => context.close());
    // The client's logo is not served in the test: answered inside Chromium, so axe sees the page as people do.
    await page.route('https://rp.example.test/logo.png', (route) => route.fulfill({ contentType: 'image/png', body: Buffer.from(PNG.split(',')[1]!, 'base64') }));
    await page.route('https://cdn.example.com/logo.png', (route) => route.fulfill({ contentType: 'image/png', body: Buffer.from(PNG.split(',')[1]!, 'base64') }));

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    await page.goto(oidc.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI, scope: 'openid email', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href);
    const button = page.getByRole('button', { name: s.continueWithCode });
    t.deepEqual(await button.evaluate((el) => {
      const style = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string; color: string } }).getComputedStyle(el);
      return [style.backgroundColor, style.color];
    }), ['rgb(255, 212, 0)', 'rgb(27, 31, 42)'], 'yellow with near-black text');
    t.true(await page.getByRole('link', { name: s.clientPolicy }).isVisible());
    t.deepEqual((await checkAccessibility(page, `branding-${locale}-sign-in`)).blocking, []);

    await page.getByLabel(s.emailLabel).fill(first);
    await page.getByLabel(s.password, { exact: true }).fill(PASSWORD);
    await go(page, () => page.getByRole('button', { name: s.signInWithPassword }).click(), (url) => /^\/interaction\/[^/]+$/.test(url.pathname));
    t.is(await page.locator('h1').innerText(), s.allowTitle('Notes'));
    t.is(await page.locator('.signed-in span').innerText(), s.signedInAs(`f…@example.com`));
    t.deepEqual((await checkAccessibility(page, `branding-${locale}-consent`)).blocking, []);
    await page.emulateMedia({ colorScheme: 'dark' });
    t.deepEqual((await checkAccessibility(page, `branding-${locale}-consent-dark`)).blocking, []);
    await page.emulateMedia({ colorScheme: 'light' });

    // Not you? The sign-in page of the same request; the second person signs in there.
    await go(page, () => page.getByRole('link', { name: s.notYou }).click(), (url) => url.searchParams.has('switch'));
    t.is(await page.locator('h1').innerText(), s.signInTo('Notes'));
    // Back, not Cancel: it returns to the consent page and cancels nothing.
    t.is(await page.getByRole('button', { name: s.cancel }).count(), 0);
    await go(page, () => page.getByRole('link', { name: s.back }).click(), (url) => /^\/interaction\/[^/]+$/.test(url.pathname) && !url.searchParams.has('switch'));
    t.is(await page.locator('.signed-in span').innerText(), s.signedInAs(`f…@example.com`), 'still the first person');
    await go(page, () => page.getByRole('link', { name: s.notYou }).click(), (url) => url.searchParams.has('switch'));
    await page.getByLabel(s.emailLabel).fill(second);
    await page.getByLabel(s.password, { exact: true }).fill(PASSWORD);
    // oidc-provider ends the first person's session (its form_post to end_session_confirm) and resumes with the second.
    await go(page, () => page.getByRole('button', { name: s.signInWithPassword }).click(), (url) => /^\/interaction\/[^/]+$/.test(url.pathname) && !url.searchParams.has('switch'));
    t.is(await page.locator('h1').innerText(), s.allowTitle('Notes'));
    t.is(await page.locator('.signed-in span').innerText(), s.signedInAs(`s…@example.com`), 'the second person is asked now');
    await go(page, () => page.getByRole('button', { name: s.allow, exact: true }).click(), (url) => url.href.startsWith(REDIRECT_URI));
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
    t.is(tokens.claims()!.sub, secondId, 'the app gets the second person, from the same authorization request');
    t.is(tokens.claims()!.email, second);
    t.deepEqual(scriptErrors, []);
  });
}
