// The string catalogue (views/strings.ts) and the pages drawn from it: English and
// Russian have exactly the same keys, and every page, drawn in one language, shows
// no text of the other: no value of the other catalogue, and (for Russian) no Latin
// word outside a short list of names and technical terms, so a string written into
// a page instead of the catalogue fails here. Every page function of views/ must be
// drawn here, and no HTML page may be written outside views/layout.ts.
import test from 'ava';
import { strings, identifierIssueText, errorText, passwordIssueText, appName, type Strings } from '../views/strings.ts';
import type { Locale } from '../server/i18n/locale.ts';
import type { PageFrame } from '../views/layout.ts';
import { signInPage } from '../views/sign-in.ts';
import { registerPage } from '../views/register.ts';
import { recoverPage } from '../views/recover.ts';
import { codePage } from '../views/code.ts';
import { newPasswordPage } from '../views/new-password.ts';
import { consentPage } from '../views/consent.ts';
import { accountPage } from '../views/account.ts';
import { reauthPage } from '../views/reauth.ts';
import { accountPasswordPage } from '../views/account-password.ts';
import { accountSessionsPage } from '../views/account-sessions.ts';
import { accountDeletePage, accountDeletedPage } from '../views/account-delete.ts';
import { scopeWords } from '../views/scope-words.ts';
import { qrApprovePage, qrMessagePage } from '../views/qr.ts';
import { errorPage } from '../views/error.ts';
import { logoutConfirmPage, logoutDonePage } from '../views/logout.ts';
import { deviceCodePage, deviceConfirmPage, deviceDonePage, type DeviceCodeProblem } from '../views/device.ts';
import { homePage } from '../views/home.ts';
import { unsubscribePage } from '../views/unsubscribe.ts';
import { ACCOUNT_CLIENT_ID } from '../server/self-service/first-party-client.ts';

/** Every key path of a catalogue ("errors.invalid_client" for nested ones), sorted. */
function keyPaths(value: object, prefix = ''): string[] {
  return Object.entries(value)
    .flatMap(([key, inner]) => (inner && typeof inner === 'object' ? keyPaths(inner, `${prefix}${key}.`) : [`${prefix}${key}`]))
    .sort();
}

const SAMPLE = 777;

/** The texts of a catalogue: each string, and the fixed parts of what each function returns (for a number and for 0). */
function catalogueTexts(value: object): string[] {
  const out: string[] = [];
  for (const inner of Object.values(value)) {
    if (typeof inner === 'string') out.push(inner);
    else if (typeof inner === 'function') {
      for (const arg of [SAMPLE, 0]) out.push(...String((inner as (a: unknown) => string)(arg)).split(String(SAMPLE)));
    } else if (inner && typeof inner === 'object') out.push(...catalogueTexts(inner));
  }
  return [...new Set(out.map((s) => s.trim()).filter((s) => s.length >= 3))];
}

/** What a person reads on a page: text and accessible names, without style, script, code and what is marked as English on purpose. */
function readable(page: string): string {
  const labels = [...page.matchAll(/\s(?:aria-label|title|alt|placeholder)="([^"]*)"/g)].map((m) => m[1]);
  const text = page
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<title>[\s\S]*?<\/title>/g, ' ')
    .replace(/<code>[\s\S]*?<\/code>/g, ' ')
    .replace(/<(\w+)[^>]*\slang="(?!ru)[^"]*"[^>]*>[\s\S]*?<\/\1>/g, (whole, _tag, ) => (/lang="en"/.test(whole) && !/hreflang/.test(whole) ? ' ' : whole))
    .replace(/<[^>]+>/g, ' ');
  return [text, ...labels].join(' ')
    .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&')
    .replace(/\s+/g, ' ');
}

// Names and technical terms a Russian page may show in Latin letters.
const LATIN_ALLOWED = new Set(['Enot', 'ID', 'English', 'OpenID', 'Connect', 'JWKS', 'README', 'docs', 'Quick', 'start', 'discovery', 'issuer', 'QR', 'IP', 'HTTP', 'UTC', 'Chrome', 'Android', 'abcd', 'Notes', 'a', 'example', 'com', 'https', 'app', 'jwks', 'well', 'known', 'openid', 'configuration', 'GMT']);

/** An instance's branding, its name among the allowed Latin words; a client's logo and links. */
const BRAND = { name: 'Notes', logoUrl: 'https://example.com/logo.png', supportUrl: 'https://example.com/help' };
const CARD = { logoUri: 'https://example.com/logo.png', clientUri: 'https://example.com/', policyUri: 'https://example.com/privacy', tosUri: 'https://example.com/terms' };

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';

/** Every page, drawn in `locale`, with what its routes give it (messages from the catalogue, as the routes pick them). */
function allPages(locale: Locale): Record<string, string> {
  const t: Strings = strings(locale);
  const frame: PageFrame = { locale, nonce: 'nonce', here: '/somewhere' };
  const common = { ...frame, base: '/interaction/abc', csrf: 'csrf' };
  const app = 'Notes';
  const pages: Record<string, string> = {
    home: homePage({ ...frame, issuer: 'https://id.example.com', discovery: 'https://id.example.com/.well-known/openid-configuration', jwks: 'https://id.example.com/jwks' }),
    'sign-in': signInPage({ ...common, clientName: app, via: 'email', qr: { id: 'q', svg: SVG, base: '/interaction/abc', csrf: 'csrf' } }),
    'sign-in-phone-error': signInPage({ ...common, clientName: appName(t, { clientId: 'x' }), via: 'phone', identifier: '123', error: identifierIssueText(t, 'phone_country') }),
    'sign-in-wrong-password': signInPage({ ...common, clientName: appName(t, { clientId: ACCOUNT_CLIENT_ID, clientName: 'Enot ID account' }), via: 'email', passwordError: t.wrongPassword }),
    register: registerPage({ ...common, clientName: app, via: 'email', identifierError: identifierIssueText(t, 'email'), passwordError: passwordIssueText(t, 'common') }),
    recover: recoverPage({ ...common, via: 'phone', identifierError: identifierIssueText(t, 'missing'), error: t.sendFailed }),
    code: codePage({ ...common, flowPath: '/interaction/abc/flows/f', sentTo: 'a…@example.com', resendInSeconds: 42, error: t.wrongCode(2) }),
    'code-resend-refused': codePage({ ...common, flowPath: '/interaction/abc/flows/f', sentTo: '+49…89', resendInSeconds: 30, resendRefused: true, notice: t.newCodeSent }),
    'code-ready': codePage({ ...common, flowPath: '/interaction/abc/flows/f', sentTo: '+49…89', resendInSeconds: 0, error: t.codeExpired }),
    'new-password': newPasswordPage({ ...frame, flowPath: '/f', csrf: 'c', username: 'a@example.com', error: passwordIssueText(t, 'too_short') }),
    consent: consentPage({ ...frame, action: '/a', abortAction: '/b', csrf: 'c', clientName: app, scopes: [{ scope: 'openid' }, { scope: 'email' }, { scope: 'offline_access' }], resources: [] }),
    // Branding, a client's logo and links, the signed-in person (wt-brand).
    'consent-client-card': consentPage({
      ...frame, brand: BRAND, action: '/a', abortAction: '/b', csrf: 'c', clientName: app, client: CARD,
      signedInAs: { who: 'a…@example.com', switchTo: '/interaction/abc?switch' }, scopes: [{ scope: 'openid' }], resources: [],
    }),
    'sign-in-client-card': signInPage({ ...common, brand: BRAND, clientName: app, client: CARD, via: 'email', qr: { id: 'q', svg: SVG, base: '/interaction/abc', csrf: 'csrf' } }),
    'sign-in-switching': signInPage({ ...common, clientName: app, via: 'phone', backTo: '/interaction/abc', passwordError: t.wrongPassword }),
    'home-branded': homePage({ ...frame, brand: BRAND, issuer: 'https://id.example.com', discovery: 'https://id.example.com/.well-known/openid-configuration', jwks: 'https://id.example.com/jwks' }),
    account: accountPage({ ...frame, csrf: 'c', email: 'a@example.com', emailVerified: true, phone: null, phoneVerified: false, notice: t.identifierAdded, error: { via: 'phone', message: identifierIssueText(t, 'phone'), typed: 'x' } }),
    reauth: reauthPage({ ...frame, csrf: 'c', username: 'a@example.com', hasPassword: true, codeTargets: [{ kind: 'email', masked: 'a…@example.com' }], notice: t.reauthNeededAny, passwordError: t.reauthWrongPassword }),
    'reauth-impossible': reauthPage({ ...frame, csrf: 'c', hasPassword: false, codeTargets: [], error: t.tooMany(5) }),
    'account-both-confirmed': accountPage({ ...frame, csrf: 'c', reauthFresh: true, email: 'a@example.com', emailVerified: true, phone: '+4915112345678', phoneVerified: false, messageLocale: 'ru', notice: t.identifierRemoved, error: { message: t.removeLastRefused, typed: '' } }),
    'account-password': accountPasswordPage({ ...frame, csrf: 'c', username: 'a@example.com', hasPassword: true, canRemove: true, reauthFresh: false, notice: t.passwordSaved, error: t.passwordRemoveRefused, passwordError: passwordIssueText(t, 'context') }),
    'account-password-none': accountPasswordPage({ ...frame, csrf: 'c', username: 'a@example.com', hasPassword: false, canRemove: false, reauthFresh: true, notice: t.passwordRemoved }),
    'account-sessions': accountSessionsPage({
      ...frame, csrf: 'c', notice: t.sessionEnded,
      sessions: [
        { id: 's1', current: true, browser: 'Chrome 130', system: 'Android', ip: '192.0.2.1', signedInAt: new Date(0), lastUsedAt: new Date(0) },
        { id: 's2', current: false },
      ],
      apps: [{ clientId: 'notes', name: app, scopes: [scopeWords('openid', locale), scopeWords('email', locale)], allowedAt: new Date(0) }],
    }),
    'account-sessions-others-ended': accountSessionsPage({ ...frame, csrf: 'c', notice: t.otherSessionsEnded, sessions: [{ id: 's1', current: true }], apps: [] }),
    'account-sessions-revoked': accountSessionsPage({ ...frame, csrf: 'c', notice: t.appRevoked, sessions: [], apps: [] }),
    'account-language-saved': accountPage({ ...frame, csrf: 'c', email: 'a@example.com', emailVerified: true, phone: null, phoneVerified: false, messageLocale: null, notice: t.messageLanguageSaved }),
    'account-delete': accountDeletePage({ ...frame, csrf: 'c', codeTargets: [{ kind: 'email', masked: 'a…@example.com' }], error: t.invalidInput }),
    'account-delete-impossible': accountDeletePage({ ...frame, csrf: 'c', codeTargets: [] }),
    'account-deleted': accountDeletedPage(frame),
    'qr-approve': qrApprovePage({ ...frame, action: '/qr/t', csrf: 'c', clientName: app, device: 'Chrome, Android', ip: '192.0.2.1', requestedAt: new Date(0) }),
    'qr-message': qrMessagePage(frame, t.qrUnavailable),
    'logout-confirm': logoutConfirmPage({ ...frame, form: '<form id="op.logoutForm" method="post" action="/session/end/confirm"></form>', clientName: app }),
    'logout-confirm-no-client': logoutConfirmPage({ ...frame, form: '<form id="op.logoutForm" method="post" action="/session/end/confirm"></form>' }),
    'logged-out': logoutDonePage(frame),
    'logged-out-of-client': logoutDonePage({ ...frame, clientName: app }),
    'still-signed-in': logoutDonePage({ ...frame, stillSignedIn: true }),
    'device-confirm': deviceConfirmPage({ ...frame, clientName: app, userCode: 'BCDF-GHJK', form: (buttons) => `<form method="post" action="/device">${buttons.value}</form>` }),
    'device-done': deviceDonePage({ ...frame, clientName: app }),
    'unsubscribe-ask': unsubscribePage({ ...frame, state: 'ask', action: '/unsubscribe/t' }),
    'unsubscribe-done': unsubscribePage({ ...frame, state: 'done' }),
    'unsubscribe-invalid': unsubscribePage({ ...frame, state: 'invalid' }),
  };
  for (const problem of [undefined, 'NotFoundError', 'ExpiredError', 'AlreadyUsedError', 'AbortedError', 'NoCodeError', 'other'] as (DeviceCodeProblem | undefined)[]) {
    pages[`device-code-${problem ?? 'fresh'}`] = deviceCodePage({ ...frame, problem, form: (buttons) => `<form method="post" action="/device"><input name="user_code">${buttons.value}</form>` });
  }
  for (const code of [...Object.keys(t.errors), 'invalid_scope']) {
    pages[`error-${code}`] = errorPage({ ...frame, status: 400, error: code, description: 'an English error_description for developers' });
  }
  return pages;
}

test('every page of views/ is drawn above, and no page is written outside views/layout.ts (whose frame gives it the catalogue, the switcher and the branding)', async (t) => {
  const { readdir, readFile } = await import('node:fs/promises');
  const root = new URL('../', import.meta.url);
  const own = await readFile(new URL('test/strings.test.ts', root), 'utf8');
  const pageFunctions: string[] = [];
  for (const file of (await readdir(new URL('views/', root))).filter((f) => f.endsWith('.ts'))) {
    const text = await readFile(new URL(`views/${file}`, root), 'utf8');
    pageFunctions.push(...[...text.matchAll(/^export function (\w+Page)\(/gm)].map((m) => m[1]!));
  }
  t.true(pageFunctions.length > 20, pageFunctions.join(', '));
  t.deepEqual(pageFunctions.filter((name) => !own.includes(`${name}(`)), [], 'page functions this test never draws');
  // A page written elsewhere (its own <html>) escapes this test, the catalogue and the switcher: the unsubscribe page did.
  const written: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(new URL(dir, root), { withFileTypes: true })) {
      const at = `${dir}${entry.name}`;
      if (entry.isDirectory()) await walk(`${at}/`);
      else if (at.endsWith('.ts') && /<html[\s>]/i.test(await readFile(new URL(at, root), 'utf8'))) written.push(at);
    }
  };
  await walk('server/');
  await walk('views/');
  t.deepEqual(written.sort(), ['views/layout.ts', 'views/messages/email.ts']);
});

test('English and Russian have exactly the same keys, nested ones too', (t) => {
  t.deepEqual(keyPaths(strings('ru')), keyPaths(strings('en')));
  t.true(keyPaths(strings('en')).length > 150, 'the whole catalogue is compared');
});

test('no Russian text repeats the English one (an untranslated copy), but for names', (t) => {
  const en = catalogueTexts(strings('en'));
  const ru = new Set(catalogueTexts(strings('ru')));
  t.deepEqual(en.filter((text) => ru.has(text)), []);
});

for (const [locale, other] of [['ru', 'en'], ['en', 'ru']] as const) {
  test(`every page in ${locale} shows no text of the ${other} catalogue`, (t) => {
    const foreign = catalogueTexts(strings(other));
    const pages = allPages(locale);
    t.true(Object.keys(pages).length > 30);
    for (const [name, page] of Object.entries(pages)) {
      t.regex(page, new RegExp(`<html lang="${locale}">`), name);
      const text = readable(page);
      t.deepEqual(foreign.filter((value) => text.includes(value)), [], `${name} (${locale}): ${text}`);
    }
  });
}

test('Russian pages have no Latin word beyond names and technical terms (a string written into a page, not the catalogue)', (t) => {
  for (const [name, page] of Object.entries(allPages('ru'))) {
    const words = readable(page).match(/[A-Za-z]+/g) ?? [];
    t.deepEqual(words.filter((word) => !LATIN_ALLOWED.has(word)), [], name);
  }
});

test('English pages have no Cyrillic but the switcher’s “Русский”', (t) => {
  for (const [name, page] of Object.entries(allPages('en'))) {
    t.deepEqual(readable(page).replaceAll('Русский', '').match(/[А-Яа-яЁё]+/g) ?? [], [], name);
    t.true(page.includes('<a href="/language?set=ru&amp;return=/somewhere" lang="ru" hreflang="ru">Русский</a>'), `${name}: the switcher`);
  }
});

test('each known error code has its own text; any other code the generic one', (t) => {
  for (const locale of ['en', 'ru'] as const) {
    const catalogue = strings(locale);
    for (const code of Object.keys(catalogue.errors)) t.not(errorText(catalogue, code), catalogue.errorGeneric, code);
    t.is(errorText(catalogue, 'invalid_scope'), catalogue.errorGeneric);
    t.is(errorText(catalogue, 'toString'), catalogue.errorGeneric, 'not a property of every object');
  }
});

test('the account page’s own client is shown as the product, a nameless client as “the app”, in the page’s language', (t) => {
  t.is(strings('ru').signInTo(appName(strings('ru'), { clientId: ACCOUNT_CLIENT_ID, clientName: 'Enot ID account' })), 'Вход в Enot ID');
  t.is(strings('ru').signInTo(appName(strings('ru'), { clientId: 'abc' })), 'Вход в приложение');
  t.is(strings('en').signInTo(appName(strings('en'), { clientId: 'abc', clientName: 'Notes' })), 'Sign in to Notes');
});
