// The pages over real HTTP: the start page at /, the language switcher and the order
// in which the language is chosen (ui_locales, the switcher's cookie, Accept-Language,
// English), the switcher's refusal of anything but a path of ours, oidc-provider's
// device, logout and error pages in Russian, and where Cancel and sign-out lead.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
let rp: oidc.Configuration;
let tv: oidc.Configuration;
const USER = { email: 'pages@example.com', password: 'a page turner 1851' };

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  rp = await registerClient(server.issuer, { client_name: 'Notes' });
  tv = await registerClient(server.issuer, {
    client_name: 'Телевизор',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
  });
  await createAccount(server.runtime.db, USER);
});

test.after.always(async () => {
  await server?.stop();
});

const h1 = (page: Page) => /<h1>([^<]*)<\/h1>/.exec(page.body)?.[1];
const lang = (page: Page) => /<html lang="([a-z]+)">/.exec(page.body)?.[1];
/** The href of the switcher's link, when the page has one. */
const switcher = (page: Page) => /<nav class="lang"[^>]*><a href="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
/** A browser whose language cookie says `locale` (set through the switcher itself). */
async function browserIn(locale: 'en' | 'ru') {
  const browser = createBrowser();
  const set = await browser.request(`${server.issuer}/language?set=${locale}&return=/`);
  if (set.status !== 303) throw new Error(`the switcher answered ${set.status}`);
  return browser;
}

test('the start page links the documentation and its quick start when DOCS_URL says where they are, in both languages', async (t) => {
  const docs = 'https://docs.example.test/enot-id/README.md';
  const withDocs = await startTestServer({ DOCS_URL: docs });
  try {
    const browser = createBrowser();
    const en = await browser.request(`${withDocs.issuer}/`);
    t.true(en.body.includes(`<a href="${docs}#quick-start">Quick start: from a fresh clone to a signed-in sample app</a>`), en.body);
    t.true(en.body.includes(`<a href="${docs}">Documentation</a>`));
    const ru = await browser.request(`${withDocs.issuer}/`, { headers: { 'accept-language': 'ru' } });
    t.true(ru.body.includes(`<a href="${docs}">Документация</a>`));
    t.true(ru.body.includes(`<a href="${docs}#quick-start">Быстрый старт:`));
  } finally {
    await withDocs.stop();
  }
  // Without DOCS_URL (the suite's server) the page names them in words, with no link to guess.
  const plain = await createBrowser().request(`${server.issuer}/`);
  t.false(plain.body.includes('#quick-start'));
  t.regex(plain.body, /the section “Quick start” of the README/);
});

test('the start page: for a person the account, for a developer the issuer, discovery, JWKS and docs; in both languages; HEAD too', async (t) => {
  const browser = createBrowser();
  const en = await browser.request(`${server.issuer}/`);
  t.is(en.status, 200);
  t.is(en.headers.get('content-type'), 'text/html; charset=utf-8');
  t.is(lang(en), 'en');
  t.is(h1(en), 'Sign in with Enot ID');
  t.regex(en.body, /<a class="button" href="\/account">Sign in to your account<\/a>/);
  t.true(en.body.includes(`<a href="${server.issuer}/.well-known/openid-configuration">`));
  t.true(en.body.includes(`<a href="${server.issuer}/jwks">`));
  t.regex(en.body, /Quick start/);
  t.regex(en.body, /README/);
  // Nothing loaded from elsewhere: no external script, style sheet or font.
  t.notRegex(en.body, /<script|<link|@import|url\(/);
  // Both links work.
  const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string; issuer: string };
  t.is(discovery.jwks_uri, `${server.issuer}/jwks`);

  const ru = await browser.request(`${server.issuer}/`, { headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.5' } });
  t.is(lang(ru), 'ru');
  t.is(h1(ru), 'Вход через Enot ID');
  t.regex(ru.body, /<a class="button" href="\/account">Войти в аккаунт<\/a>/);

  const head = await fetch(`${server.issuer}/`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.headers.get('content-type'), 'text/html; charset=utf-8');
  t.is(await head.text(), '');
  const post = await fetch(`${server.issuer}/`, { method: 'POST', headers: { accept: 'application/json' } });
  t.is(post.status, 405, 'a method / does not take');
});

test('the switcher: the cookie beats Accept-Language, ui_locales beats the cookie; it returns to the page it was used on', async (t) => {
  const browser = createBrowser();
  const home = await browser.request(`${server.issuer}/`, { headers: { 'accept-language': 'en' } });
  t.is(switcher(home), '/language?set=ru&return=/');
  const set = await browser.request(new URL(switcher(home)!, server.issuer).href);
  t.is(set.status, 303);
  t.is(set.headers.get('location'), '/');
  t.is(set.headers.get('set-cookie'), 'enot_lang=ru; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly', 'no Secure on an http ISSUER');
  t.is(set.headers.get('cache-control'), 'no-store');

  // The cookie now beats the browser's English.
  const again = await browser.request(`${server.issuer}/`, { headers: { 'accept-language': 'en-GB,en;q=0.9' } });
  t.is(lang(again), 'ru');
  t.is(switcher(again), '/language?set=en&return=/');

  // A sign-in page without ui_locales follows the cookie and offers the switcher back to itself.
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  const signInRu = await browser.follow(url.href, REDIRECT_URI, { headers: { 'accept-language': 'en' } });
  t.is(h1(signInRu), 'Вход в Notes');
  const back = switcher(signInRu)!;
  t.regex(back, /^\/language\?set=en&return=\/interaction\/[A-Za-z0-9_-]+$/);
  const signInEn = await browser.follow(new URL(back, server.issuer).href);
  t.is(h1(signInEn), 'Sign in to Notes', 'switched back to English, on the same sign-in page');

  // ui_locales beats the cookie (now English): the page is Russian, and has no switcher, which could not change it.
  const withUiLocales = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT_URI, scope: 'openid', ui_locales: 'ru', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  const fixed = await browser.follow(withUiLocales.href, REDIRECT_URI);
  t.is(h1(fixed), 'Вход в Notes');
  t.is(switcher(fixed), undefined);
  // And an unsupported ui_locales leaves the choice to the cookie, with the switcher.
  const unsupported = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT_URI, scope: 'openid', ui_locales: 'de fr', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  const byCookie = await browser.follow(unsupported.href, REDIRECT_URI);
  t.is(h1(byCookie), 'Sign in to Notes');
  t.truthy(switcher(byCookie));
});

test('the switcher refuses every return that is not a path of ours (no open redirect), with a 400 page in the person’s language', async (t) => {
  const attempts = [
    '//evil.example/', '/\\evil.example', '\\\\evil.example', 'https://evil.example/', 'http:evil.example', 'evil.example',
    'javascript:alert(1)', '/\t/evil.example', '/\n/evil.example', '/\r\nSet-Cookie:x=1', ' /account', '', `/${'a'.repeat(2100)}`,
  ];
  for (const attempt of attempts) {
    const page = await createBrowser().request(`${server.issuer}/language?set=ru&return=${encodeURIComponent(attempt)}`, { headers: { 'accept-language': 'ru' } });
    t.is(page.status, 400, JSON.stringify(attempt));
    t.is(page.headers.get('location'), null, JSON.stringify(attempt));
    t.is(page.headers.get('set-cookie'), null, `${JSON.stringify(attempt)}: nothing remembered`);
    t.is(lang(page), 'ru');
    t.is(h1(page), 'Что-то пошло не так');
  }
  // The return is sent back as a path of this origin, whatever spelling reached it.
  const tricky = await createBrowser().request(`${server.issuer}/language?set=en&return=${encodeURIComponent('/./account?x=1#frag')}`);
  t.is(tricky.status, 303);
  t.is(tricky.headers.get('location'), '/account?x=1');
  // Percent-encoded line breaks stay encoded: a path, not a header.
  const encoded = await createBrowser().request(`${server.issuer}/language?set=en&return=${encodeURIComponent('/%0d%0aSet-Cookie:x=1')}`);
  t.is(encoded.headers.get('location'), '/%0d%0aSet-Cookie:x=1');
  t.deepEqual(encoded.headers.getSetCookie(), ['enot_lang=en; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly']);
  const odd = await createBrowser().request(`${server.issuer}/language?set=en&return=${encodeURIComponent('/.//evil.example')}`);
  t.is(odd.status, 400, 'a path that normalises to //host is refused too');
  // An unknown language, or two of them.
  t.is((await createBrowser().request(`${server.issuer}/language?set=de&return=/`)).status, 400);
  t.is((await createBrowser().request(`${server.issuer}/language?set=en&set=ru&return=/`)).status, 400);
  t.is((await createBrowser().request(`${server.issuer}/language?set=ru`)).headers.get('location'), '/', 'no return: the start page');
});

test('the language cookie is Secure when ISSUER is https', async (t) => {
  const https = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, ISSUER: 'https://id.example.test' });
  t.teardown(() => https.stop());
  const { port } = new URL(`http://${https.environment.env.HOST}:${https.environment.env.PORT}`);
  const set = await fetch(`http://127.0.0.1:${port}/language?set=ru&return=/`, { redirect: 'manual' });
  t.is(set.status, 303);
  t.is(set.headers.get('set-cookie'), 'enot_lang=ru; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly; Secure');
});

test('error pages of oidc-provider in Russian: an unknown client, a redirect_uri it never registered; and a missing page', async (t) => {
  const ru = { headers: { 'accept-language': 'ru' } };
  const browser = createBrowser();
  const unknown = await browser.request(`${server.issuer}/auth?client_id=nobody&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=openid`, ru);
  t.is(unknown.status, 400);
  t.is(lang(unknown), 'ru');
  t.is(h1(unknown), 'Что-то пошло не так');
  t.regex(unknown.body, /Мы не знаем приложение, которое отправило вас сюда/);
  t.regex(unknown.body, /<code>invalid_client<\/code>/);
  t.regex(unknown.body, /<a href="\/">На главную страницу<\/a>/);

  const client = rp.clientMetadata().client_id;
  const badRedirect = await browser.request(`${server.issuer}/auth?client_id=${client}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&response_type=code&scope=openid&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, ru);
  t.is(badRedirect.status, 400);
  t.is(lang(badRedirect), 'ru');
  t.regex(badRedirect.body, /с адресом возврата, который оно не зарегистрировало/);
  t.regex(badRedirect.body, /<code>invalid_redirect_uri<\/code>/);
  // The switcher shows the same error again in English.
  const english = await browser.follow(new URL(switcher(badRedirect)!, server.issuer).href);
  t.is(lang(english), 'en');
  t.regex(english.body, /with a return address it has not registered/);

  // ui_locales of the failed request itself counts (the cookie now says English).
  const viaUi = await browser.request(`${server.issuer}/auth?client_id=nobody&ui_locales=ru&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=openid`);
  t.is(lang(viaUi), 'ru');

  const missing = await createBrowser().request(`${server.issuer}/no/such/page`, ru);
  t.is(missing.status, 404);
  t.is(lang(missing), 'ru');
  t.regex(missing.body, /По этому адресу ничего нет/);
});

test('the device pages in Russian: enter the code, a wrong code, confirm, sign in, connected', async (t) => {
  const started = await fetch(`${server.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: tv.clientMetadata().client_id, scope: 'openid' }),
  }).then((r) => r.json() as Promise<{ user_code: string }>);
  const browser = await browserIn('ru');
  const entry = await browser.follow(`${server.issuer}/device`);
  t.is(lang(entry), 'ru');
  t.is(h1(entry), 'Подключение устройства');
  t.regex(entry.body, /Введите код, показанный на вашем устройстве\./);
  t.regex(entry.body, /<label for="user-code">Код<\/label>/);
  t.regex(entry.body, /<button type="submit">Продолжить<\/button>/);
  let form = readForm(entry, /\/device$/);
  const wrong = await browser.submit(form.action, { ...form.hidden, user_code: 'BCDF-GHJK' });
  t.is(h1(wrong), 'Подключение устройства');
  t.regex(wrong.body, /role="alert">Код неверный\. Сверьте его с кодом на устройстве/);
  t.regex(wrong.body, /aria-invalid="true"/);

  form = readForm(wrong, /\/device$/);
  const confirm = await browser.submit(form.action, { ...form.hidden, user_code: started.user_code });
  t.is(lang(confirm), 'ru');
  t.is(h1(confirm), 'Войти в Телевизор на вашем устройстве?');
  t.regex(confirm.body, /Продолжайте, только если вы сами начали вход/);
  t.regex(confirm.body, /name="abort" value="yes" class="secondary">Отмена<\/button>/);
  form = readForm(confirm, /\/device$/);
  const signInPage = await browser.submit(form.action, form.hidden);
  t.is(h1(signInPage), 'Вход в Телевизор');
  form = readForm(signInPage, /\/code$/);
  const consent = await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: USER.email, password: USER.password });
  t.is(h1(consent), 'Разрешить доступ приложению Телевизор?');
  form = readForm(consent, /\/confirm$/);
  const done = await browser.submit(form.action, form.hidden);
  t.is(lang(done), 'ru');
  t.is(h1(done), 'Устройство подключено');
  t.regex(done.body, /Вход в Телевизор выполнен\. Эту страницу можно закрыть\./);
});

test('RP-initiated logout without post_logout_redirect_uri, in Russian: the question, then a way back (sign in again, the start page)', async (t) => {
  const browser = await browserIn('ru');
  const { tokens } = await signIn(rp, { ...USER, scope: 'openid', browser });
  const confirm = await browser.follow(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! }).href);
  t.is(lang(confirm), 'ru');
  t.is(h1(confirm), 'Выйти из Notes?');
  t.regex(confirm.body, /name="logout" value="yes">Да, выйти<\/button>/);
  t.regex(confirm.body, /class="secondary">Нет, остаться<\/button>/);
  const form = readForm(confirm, /\/session\/end\/confirm$/);
  const done = await browser.submit(form.action, { ...form.hidden, logout: 'yes' });
  t.is(done.status, 200);
  t.is(lang(done), 'ru');
  t.is(h1(done), 'Вы вышли');
  t.regex(done.body, /<a class="button" href="\/account">Войти снова<\/a>/);
  t.regex(done.body, /<a class="button secondary" href="\/">На главную страницу<\/a>/);
  // "Sign in again" leads to a sign-in page indeed: the session is over.
  const again = await browser.follow(`${server.issuer}/account`);
  t.regex(again.url, /\/interaction\/[A-Za-z0-9_-]+$/);
  t.is(h1(again), 'Вход в Enot ID', 'the account page’s own client, named in the page’s language');
});

test('/account: Cancel on its sign-in leads to the start page; its sign-out offers a way back; "stay signed in" says so', async (t) => {
  const browser = createBrowser();
  const signInPage = await browser.follow(`${server.issuer}/account`);
  t.is(h1(signInPage), 'Sign in to Enot ID');
  const cancel = readForm(signInPage, /\/abort$/);
  const afterCancel = await browser.submit(cancel.action, cancel.hidden);
  t.is(new URL(afterCancel.url).pathname, '/', `ended at ${afterCancel.url}`);
  t.is(afterCancel.status, 200);
  t.is(h1(afterCancel), 'Sign in with Enot ID');

  // Signed in through /account, then its "Sign out" link, answered "No, stay signed in".
  let page = await browser.follow(`${server.issuer}/account`);
  let form = readForm(page, /\/code$/);
  page = await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: USER.email, password: USER.password });
  t.is(h1(page), 'Your account');
  t.regex(page.body, /<a href="\/session\/end">Sign out<\/a>/);
  let confirm = await browser.follow(`${server.issuer}/session/end`);
  t.is(h1(confirm), 'Sign out?');
  form = readForm(confirm, /\/session\/end\/confirm$/);
  const stayed = await browser.submit(form.action, form.hidden);
  t.is(h1(stayed), 'You are still signed in');
  t.is(h1(await browser.follow(`${server.issuer}/account`)), 'Your account', 'and so it is');

  confirm = await browser.follow(`${server.issuer}/session/end`);
  form = readForm(confirm, /\/session\/end\/confirm$/);
  const out = await browser.submit(form.action, { ...form.hidden, logout: 'yes' });
  t.is(h1(out), 'You are signed out');
  t.regex(out.body, /<a class="button" href="\/account">Sign in again<\/a>/);
  t.regex(out.body, /<a class="button secondary" href="\/">Go to the start page<\/a>/);
});

test('a malformed email on the sign-in page is told in Russian under its field', async (t) => {
  const browser = await browserIn('ru');
  const page = await browser.follow(`${server.issuer}/account`);
  const form = readForm(page, /\/code$/);
  const refused = await browser.submit(form.action, { ...form.hidden, identifier: 'not an address@', via: 'email' });
  t.is(refused.status, 400);
  t.regex(refused.body, /role="alert" id="form-error">Введите правильный адрес почты\.<\/p>/);
  const phone = await browser.submit(form.action, { ...form.hidden, identifier: '12', via: 'phone' });
  t.regex(phone.body, /Введите правильный номер телефона с кодом страны/);
});
