// /account self-service at the HTTP level (issue 13 §1): the refusals (the last
// way to sign in, a password without a confirmed identifier to fall back on, a
// deletion without a fresh code, a change without a fresh step-up), the CSRF
// check of every new form, bad input on every new route answered with a 4xx page
// in the person's language, and the language of messages chosen on /account.
// The journeys themselves run in Chromium: test/browser-account.test.ts.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { nextMailTo, startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { startSmsReceiver, type SmsReceiver } from './helpers/sms-receiver.ts';
import { accountByPassword, stepUpByPassword, submitForm, type Browser } from './helpers/account-pages.ts';
import { createBrowser } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { setIdentifier } from '../server/accounts/queries.ts';
import { strings } from '../views/strings.ts';
import { queueSettled } from './helpers/jobs.ts';
import { SECURITY_NOTICES } from '../server/notifications/security-notices.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';

let server: TestServer;
let smtp: SmtpCapture;
let sms: SmsReceiver;

test.before(async () => {
  smtp = await startSmtpServer();
  sms = await startSmsReceiver();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url, DEFAULT_PHONE_REGION: 'DE' });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
  await sms?.close();
});

const mailTo = (address: string) => nextMailTo(smtp, address);

const accountRow = (id: string) => server.runtime.db('accounts').where({ id }).first();
const post = (browser: Browser, path: string, fields: Record<string, string>) => browser.submit(`${server.issuer}${path}`, fields);
/** The CSRF token of this browser's session, as its account page carries it. */
const csrfOf = async (browser: Browser) => /name="csrf" value="([^"]+)"/.exec((await browser.follow(`${server.issuer}/account`)).body)![1]!;

/** An account with a password, signed in and stepped up in a new browser. */
async function freshlyConfirmed(email: string, password = 'a good long password 1') {
  const id = await createAccount(server.runtime.db, { email, password });
  const { browser } = await accountByPassword(server.issuer, email, password);
  const page = await stepUpByPassword(server.issuer, browser, password);
  if (!page.url.endsWith('/account?reauthed')) throw new Error(`step-up failed: ${page.url}`);
  return { id, browser, csrf: await csrfOf(browser) };
}

test.serial('the last confirmed way to sign in cannot be removed; an unconfirmed phone does not count', async (t) => {
  const { id, browser, csrf } = await freshlyConfirmed('only.way@example.com');
  const page = await browser.follow(`${server.issuer}/account`);
  t.notRegex(page.body, /action="\/account\/identifiers\/remove"/, 'no remove button for the only way in');
  const refused = await post(browser, '/account/identifiers/remove', { csrf, kind: 'email' });
  t.is(refused.status, 409);
  t.regex(refused.body, /the last one cannot be removed/);
  t.is((await accountRow(id)).email, 'only.way@example.com');

  // A phone that was never confirmed is no way in either.
  await server.runtime.db('accounts').where({ id }).update({ phone: '+4915133334444', phone_verified_at: null });
  t.is((await post(browser, '/account/identifiers/remove', { csrf, kind: 'email' })).status, 409);
  t.is((await accountRow(id)).email, 'only.way@example.com');
  t.regex((await browser.follow(`${server.issuer}/account`)).body, /\+4915133334444 <span class="hint">\(not confirmed\)/);
  // The unconfirmed phone itself may go: the confirmed email stays.
  const removed = await post(browser, '/account/identifiers/remove', { csrf, kind: 'phone' });
  t.true(removed.url.endsWith('/account?removed'), removed.url);
  t.is((await accountRow(id)).phone, null);
  t.is((await mailTo('only.way@example.com')).subject, 'A phone number was removed from your Enot ID account');
  const records = await server.runtime.db('audit_log').where({ action: 'identifier.removed', actor_id: id }).orderBy('id');
  t.deepEqual(records.map((r) => [r.outcome, r.details.kind]), [['refused', 'email'], ['refused', 'email'], ['success', 'phone']]);
});

test.serial('the password cannot be removed without a confirmed email or phone for codes; with one it can', async (t) => {
  const { id, browser, csrf } = await freshlyConfirmed('unconfirmed@example.com');
  await server.runtime.db('accounts').where({ id }).update({ email_verified_at: null });
  const refused = await post(browser, '/account/password/remove', { csrf });
  t.is(refused.status, 409);
  t.regex(refused.body, /only be removed while you have a confirmed email or phone/);
  t.not((await accountRow(id)).password_hash, null);

  await server.runtime.db('accounts').where({ id }).update({ email_verified_at: new Date() });
  const removed = await post(browser, '/account/password/remove', { csrf });
  t.true(removed.url.endsWith('/account/password?removed'), removed.url);
  t.regex(removed.body, /Password removed/);
  t.is((await accountRow(id)).password_hash, null);
  t.is((await mailTo('unconfirmed@example.com')).subject, 'Your Enot ID password was removed');
});

test.serial('without a fresh step-up, changes to how one signs in go to the step-up and change nothing', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'not.fresh@example.com', password: 'stale but valid password' });
  await setIdentifier(server.runtime.db, id, { kind: 'phone', value: '+4915144445555' });
  const { browser } = await accountByPassword(server.issuer, 'not.fresh@example.com', 'stale but valid password');
  const csrf = await csrfOf(browser);
  const before = await accountRow(id);
  for (const [path, fields] of [
    ['/account/password', { password: 'another fine password 2' }],
    ['/account/password/remove', {}],
    ['/account/identifiers/remove', { kind: 'phone' }],
  ] as const) {
    const page = await post(browser, path, { csrf, ...fields });
    t.true(page.url.endsWith('/account/reauth?needed'), `${path}: ${page.url}`);
    t.regex(page.body, /This change needs a fresh confirmation that it is you/);
  }
  t.deepEqual(await accountRow(id), before);
});

test.serial('deleting needs a fresh code: not the session, not a wrong code, not another session’s code, not a made-up target', async (t) => {
  const { id, browser, csrf } = await freshlyConfirmed('stays@example.com');
  // A fresh step-up is not enough: the delete page only offers a code.
  const page = await browser.follow(`${server.issuer}/account/delete`);
  t.notRegex(page.body, /name="password"/);
  const madeUp = await post(browser, '/account/delete', { csrf, to: 'phone' });
  t.is(madeUp.status, 400, 'the account has no phone to send a code to');
  const codePage = await post(browser, '/account/delete', { csrf, to: 'email' });
  t.regex(codePage.url, /\/account\/flows\/[A-Za-z0-9_-]{22}$/);
  const { code } = await mailTo('stays@example.com');
  const wrong = await submitForm(browser, codePage, /\/code$/, { code: code === '000000' ? '111111' : '000000' });
  t.is(wrong.status, 400);
  t.truthy(await accountRow(id), 'a wrong code deletes nothing');

  // The same account in another browser cannot use this browser's deletion.
  const other = (await accountByPassword(server.issuer, 'stays@example.com', 'a good long password 1')).browser;
  t.is((await mailTo('stays@example.com')).subject, 'New sign-in to your Enot ID account');
  const stolen = await post(other, `${new URL(codePage.url).pathname}/code`, { csrf: await csrfOf(other), code: code! });
  t.is(stolen.status, 400);
  t.truthy(await accountRow(id), 'a code entered in another session deletes nothing');
  t.is((await server.runtime.db('audit_log').where({ action: 'account.deleted', actor_id: id, outcome: 'failure' })).length, 1);
});

// Every new form with its valid fields; each must refuse a wrong CSRF token.
const NEW_FORMS: Array<[string, Record<string, string>]> = [
  ['/account/identifiers/remove', { kind: 'phone' }],
  ['/account/language', { locale: 'ru' }],
  ['/account/password', { password: 'a password never set 3' }],
  ['/account/password/remove', {}],
  ['/account/sessions/end-others', {}],
  ['/account/sessions/end', { session: 'placeholder' }],
  ['/account/apps/revoke', { client: 'placeholder' }],
  ['/account/delete', { to: 'email' }],
];

test.serial('every new form refuses a missing or foreign CSRF token and changes nothing', async (t) => {
  const { id, browser } = await freshlyConfirmed('csrf@example.com');
  await setIdentifier(server.runtime.db, id, { kind: 'phone', value: '+4915155556666' });
  const otherSession = await accountByPassword(server.issuer, 'csrf@example.com', 'a good long password 1');
  const [session] = (await server.runtime.accountModels(id, 'Session')).filter((s) => s.payload.uid !== undefined);
  const foreign = await csrfOf(otherSession.browser);
  // The second browser is a new device: its notice goes out after the sign-in, and
  // must not be counted as sent by the refused forms below.
  t.is((await mailTo('csrf@example.com')).subject, 'New sign-in to your Enot ID account');
  await queueSettled(server.runtime, SECURITY_NOTICES);
  const before = await accountRow(id);
  const sessionsBefore = (await server.runtime.accountModels(id, 'Session')).length;
  const sentBefore = smtp.messages.length;
  const smsBefore = sms.requests.length;
  for (const [path, fields] of NEW_FORMS) {
    const values = path === '/account/sessions/end' ? { session: session!.id } : fields;
    for (const csrf of [undefined, 'nope', foreign]) {
      const page = await post(browser, path, { ...values, ...(csrf === undefined ? {} : { csrf }) });
      t.is(page.status, 400, `${path} with ${csrf === foreign ? 'another session’s' : csrf ?? 'no'} token`);
      t.regex(page.body, /<html lang="en">/);
    }
  }
  t.deepEqual(await accountRow(id), before);
  t.is((await server.runtime.accountModels(id, 'Session')).length, sessionsBefore);
  // A refused form that had queued a notice would show here: wait for the queue first.
  await queueSettled(server.runtime, SECURITY_NOTICES);
  t.is(smtp.messages.length, sentBefore, 'no code or notice went out by mail');
  t.is(sms.requests.length, smsBefore, 'no code or notice went out by SMS');
});

test.serial('bad input on every new route is a 4xx page in the person’s language', async (t) => {
  const { browser, csrf } = await freshlyConfirmed('bad.input@example.com');
  await browser.follow(`${server.issuer}/language?set=ru&return=/account`);
  const ru = strings('ru');
  const bad: Array<[string, Record<string, string>]> = [
    ['/account/identifiers/remove', { kind: 'fax' }],
    ['/account/language', { locale: 'de' }],
    ['/account/password', { password: 'x'.repeat(2000) }],
    ['/account/sessions/end', { session: 'no-such-session' }],
    ['/account/apps/revoke', { client: 'no-such-app' }],
    ['/account/apps/revoke', { client: 'enot-id-account' }],
    ['/account/delete', { to: 'fax' }],
  ];
  for (const [path, fields] of bad) {
    const page = await post(browser, path, { csrf, ...fields });
    t.true(page.status >= 400 && page.status < 500, `${path} ${JSON.stringify(fields)}: ${page.status}`);
    t.regex(page.body, /<html lang="ru">/, path);
    t.true(Object.values(ru.errors).some((text) => page.body.includes(text)) || page.body.includes(ru.invalidInput), `${path}: the Russian words for it`);
  }
  // A field sent twice.
  const twice = await browser.request(`${server.issuer}/account/language`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}&locale=ru&locale=en`,
  });
  t.is(twice.status, 400);
  t.regex(twice.body, /<html lang="ru">/);
  // A form that is not a form at all.
  for (const [path] of NEW_FORMS) {
    const page = await browser.request(`${server.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    t.true(page.status >= 400 && page.status < 500, `${path} as JSON: ${page.status}`);
  }
});

test.serial('the language chosen on /account is the language of the codes and notices, whatever the page’s', async (t) => {
  const { id, browser, csrf } = await freshlyConfirmed('polyglot@example.com');
  const saved = await post(browser, '/account/language', { csrf, locale: 'ru' });
  t.true(saved.url.endsWith('/account?language'), saved.url);
  t.regex(saved.body, /<html lang="en">/, 'the page keeps its own language');
  t.regex(saved.body, /<p>Now: Русский<\/p>/);
  t.regex(saved.body, /<button type="submit" name="locale" value="en"/, 'the other choices are offered');
  t.notRegex(saved.body, /name="locale" value="ru"/);
  t.is((await accountRow(id)).locale, 'ru');

  // A notice: the password changed.
  const changed = await post(browser, '/account/password', { csrf, password: 'новый пароль для проверки' });
  t.true(changed.url.endsWith('/account/password?saved'), changed.url);
  t.is((await mailTo('polyglot@example.com')).subject, 'Пароль аккаунта Enot ID изменён');
  // A code: a step-up by mail, asked from an English page.
  const reauth = await browser.follow(`${server.issuer}/account/reauth`);
  await submitForm(browser, reauth, /\/account\/reauth\/code$/);
  t.is((await mailTo('polyglot@example.com')).subject, 'Код для входа в Enot ID');

  // Back to the page's language.
  await post(browser, '/account/language', { csrf, locale: '' });
  t.is((await accountRow(id)).locale, null);
  const again = await browser.follow(`${server.issuer}/account/reauth`);
  await submitForm(browser, again, /\/account\/reauth\/code$/);
  t.is((await mailTo('polyglot@example.com')).subject, 'Your Enot ID sign-in code');
});

test.serial('sign out all other sessions: the others end and their apps\' refresh tokens stop; this one and its page go on', async (t) => {
  const email = 'three.browsers@example.com';
  const password = 'one person three browsers';
  const id = await createAccount(server.runtime.db, { email, password });
  const rp = await registerClient(server.issuer, { scope: 'openid offline_access' });
  const { browser } = await accountByPassword(server.issuer, email, password);
  const others = [await signIn(rp, { email, password, scope: 'openid offline_access' }), await signIn(rp, { email, password, scope: 'openid offline_access' })];
  t.is((await server.runtime.accountModels(id, 'Session')).length, 3);
  const sessionsPage = await browser.follow(`${server.issuer}/account/sessions`);
  t.is((sessionsPage.body.match(/name="session"/g) ?? []).length, 2, 'each other session can be signed out alone');

  const ended = await submitForm(browser, sessionsPage, /\/account\/sessions\/end-others$/);
  t.true(ended.url.endsWith('/account/sessions?others'), ended.url);
  t.regex(ended.body, new RegExp(strings('en').otherSessionsEnded));
  t.is((ended.body.match(/name="session"/g) ?? []).length, 0);
  t.is((await server.runtime.accountModels(id, 'Session')).length, 1);
  for (const other of others) {
    await t.throwsAsync(oidc.refreshTokenGrant(rp, other.tokens.refresh_token!), undefined, 'its refresh token stops');
    t.regex((await other.browser.follow(`${server.issuer}/account`)).url, /\/interaction\//, 'that browser must sign in again');
  }
  t.true((await browser.follow(`${server.issuer}/account`)).url.endsWith('/account'), 'this browser stays signed in');
  t.is((await server.runtime.db('audit_log').where({ action: 'session.ended', actor_id: id })).length, 2);
});

test.serial('a browser that sends no User-Agent sees its session as an unknown browser, not an error (found by the fuzzer)', async (t) => {
  const email = 'no.agent@example.com';
  const password = 'a good long password 1';
  const id = await createAccount(server.runtime.db, { email, password });
  const browser = createBrowser({
    fetch: (input, init) => {
      const headers = new Headers(init.headers);
      headers.set('user-agent', '');
      return fetch(input, { ...init, headers });
    },
  });
  await accountByPassword(server.issuer, email, password, browser);
  t.deepEqual(await server.runtime.db('session_devices').where({ account_id: id }).pluck('user_agent'), ['']);
  const page = await browser.follow(`${server.issuer}/account/sessions`);
  t.is(page.status, 200);
  t.regex(page.body, new RegExp(strings('en').unknownBrowser));
});

test.serial('an account made by a code sets its first password on /account: it signs in with it, and is told once, in its language, without the password', async (t) => {
  const email = 'first.password@example.com';
  const password = 'мой первый пароль 7';
  // Signed up by a code on /account: no password yet.
  const browser = createBrowser();
  const login = await browser.follow(`${server.issuer}/account`);
  const codePage = await submitForm(browser, login, /\/code$/, { identifier: email, via: 'email' });
  const signedUp = await submitForm(browser, codePage, /\/code$/, { code: (await mailTo(email)).code! });
  t.true(signedUp.url.endsWith('/account'), signedUp.url);
  const row = await server.runtime.db('accounts').where({ email }).first();
  t.truthy(row, 'the code made the account');
  t.is(row.password_hash, null, 'no password yet');
  // Its language, chosen on /account, differs from the page's (English).
  t.true((await post(browser, '/account/language', { csrf: await csrfOf(browser), locale: 'ru' })).url.endsWith('/account?language'));
  // The step-up by a code to the confirmed email, then the first password.
  const reauth = await browser.follow(`${server.issuer}/account/reauth`);
  t.notRegex(reauth.body, /name="password"/, 'no password to step up with');
  const reauthCode = await submitForm(browser, reauth, /\/account\/reauth\/code$/);
  const stepped = await submitForm(browser, reauthCode, /\/code$/, { code: (await mailTo(email)).code! });
  t.true(stepped.url.endsWith('/account?reauthed'), stepped.url);
  const form = await browser.follow(`${server.issuer}/account/password`);
  t.regex(form.body, new RegExp(strings('en').passwordSetButton), 'the page offers to set, not change');
  const set = await submitForm(browser, form, /\/account\/password$/, { password });
  t.true(set.url.endsWith('/account/password?saved'), set.url);
  t.regex(set.body, new RegExp(strings('en').passwordSaved));
  t.not((await accountRow(row.id)).password_hash, null);

  // Told once, at the account's address, in its language; the password is not in it.
  await queueSettled(server.runtime, SECURITY_NOTICES);
  const notices = smtp.messages.filter((m) => m.envelopeTo.includes(email) && !/\b\d{6}\b/.test(m.text ?? ''));
  t.deepEqual(notices.map((m) => m.subject), ['Для аккаунта Enot ID задан пароль']);
  t.regex(notices[0]!.text ?? '', /Для вашего аккаунта Enot ID задан пароль\./);
  for (const part of [notices[0]!.text ?? '', notices[0]!.html ?? '', notices[0]!.raw]) t.false(part.includes(password), 'no password in the notice');
  const audit = await server.runtime.db('audit_log').where({ action: 'password.changed', actor_id: row.id });
  t.deepEqual(audit.map((r) => [r.outcome, r.details.replaced]), [['success', false]]);

  // The password signs in, in a new browser; a wrong one does not.
  const { account } = await accountByPassword(server.issuer, email, password);
  t.true(account.url.endsWith('/account'));
  await t.throwsAsync(accountByPassword(server.issuer, email, 'not my first password 8'), { message: /sign-in did not reach \/account/ });
});
