// Step-up on /account (issue 10, A6): a session alone cannot add or change an
// email or phone; the person proves themselves again by password or by a code
// to a confirmed identifier, for this session only and for 10 minutes, and the
// old identifier is told of the change.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { startSmsReceiver, type SmsReceiver } from './helpers/sms-receiver.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { accountByPassword, stepUpByPassword, submitForm } from './helpers/account-pages.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { createLimiters } from '../server/rate-limit/limiters.ts';
import { identifierKey } from '../server/accounts/identifiers.ts';
import { PASSWORD_LIMITS } from '../server/verification/limits.ts';
import { identifierChangedMessage } from '../views/messages/identifier-changed.ts';
import { flowStore } from '../server/flows/flow.ts';
import { queueSettled } from './helpers/jobs.ts';
import { SECURITY_NOTICES } from '../server/notifications/security-notices.ts';

type Browser = ReturnType<typeof createBrowser>;

let server: TestServer;
let smtp: SmtpCapture;
let sms: SmsReceiver;
let clockOffset = 0;

test.before(async () => {
  smtp = await startSmtpServer();
  sms = await startSmsReceiver();
  server = await startTestServer(
    { SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url, DEFAULT_PHONE_REGION: 'DE' },
    undefined,
    { now: () => Date.now() + clockOffset },
  );
});

test.afterEach.always(() => {
  clockOffset = 0;
  sms.behave('ok');
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
  await sms?.close();
});

const MINUTE = 60_000;
const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1];

async function mailTo(address: string) {
  // By recipient: queued security notices to others may arrive in between.
  const mail = await smtp.nextMessageTo(address, 10_000);
  return { mail, text: mail.text ?? '', code: codeIn(mail.text ?? '') };
}

async function smsTo(phone: string) {
  const request = await sms.nextRequest(10_000);
  if (request.json?.to !== phone) throw new Error(`expected SMS to ${phone}, got ${String(request.json?.to)}`);
  const text = String(request.json.text);
  return { text, code: codeIn(text) };
}

const submit = submitForm;

/** A new browser signed in to /account by password. */
const signedInByPassword = (email: string, password: string) => accountByPassword(server.issuer, email, password);

/** A new browser signed in to /account by a code to `email`. */
async function signedInByCode(email: string) {
  const browser = createBrowser();
  const login = await browser.follow(`${server.issuer}/account`);
  const codePage = await submit(browser, login, /\/code$/, { identifier: email, via: 'email' });
  const account = await submit(browser, codePage, /\/code$/, { code: (await mailTo(email)).code! });
  if (!account.url.endsWith('/account')) throw new Error(`sign-in did not reach /account: ${account.url} ${account.status}`);
  return { browser, account };
}

/** Re-authenticates by password; returns the account page it leads to. */
const reauthByPassword = (browser: Browser, password: string) => stepUpByPassword(server.issuer, browser, password);

/** Asks for a new identifier on the account page; returns the page that follows. */
async function askToChange(browser: Browser, identifier: string, via: 'email' | 'phone' = 'email') {
  const account = await browser.follow(`${server.issuer}/account`);
  return submit(browser, account, /\/account\/identifiers$/, { identifier, via });
}

const accountRow = (id: { email: string }) => server.runtime.db('accounts').whereRaw('lower(email) = lower(?)', [id.email]).first();

test.serial('a session alone cannot change the email: the change asks to re-authenticate and sends nothing', async (t) => {
  await createAccount(server.runtime.db, { email: 'alone@example.com', password: 'a quiet evening 1' });
  const { browser, account } = await signedInByPassword('alone@example.com', 'a quiet evening 1');
  t.regex(account.body, /href="\/account\/reauth"/, 'the account page offers the step-up');
  await queueSettled(server.runtime, SECURITY_NOTICES); // earlier tests' notices are not this one's
  const before = smtp.messages.length;
  const page = await askToChange(browser, 'thief@example.com');
  t.is(page.status, 200);
  t.true(page.url.endsWith('/account/reauth?needed'), page.url);
  t.regex(page.body, /Confirm it is you/);
  await queueSettled(server.runtime, SECURITY_NOTICES);
  t.is(smtp.messages.length, before, 'no code went to the new address');
  const { id } = await accountRow({ email: 'alone@example.com' });
  t.is((await server.runtime.db('flows').where({ account_id: id, kind: 'confirm' })).length, 0, 'no change was started');
  t.is((await accountRow({ email: 'alone@example.com' })).email, 'alone@example.com');
});

test.serial('after re-authentication by password the email changes; the old email is told, without a code', async (t) => {
  await createAccount(server.runtime.db, { email: 'old.pw@example.com', password: 'the first secret 1' });
  const { browser } = await signedInByPassword('old.pw@example.com', 'the first secret 1');
  const confirmed = await reauthByPassword(browser, 'the first secret 1');
  t.true(confirmed.url.endsWith('/account?reauthed'), confirmed.url);
  t.regex(confirmed.body, /Confirmed\. For the next 10 minutes/);
  t.notRegex(confirmed.body, /href="\/account\/reauth"/);

  const codePage = await askToChange(browser, 'new.pw@example.com');
  t.regex(codePage.body, /n…@example\.com/);
  const saved = await submit(browser, codePage, /\/code$/, { code: (await mailTo('new.pw@example.com')).code! });
  t.true(saved.url.endsWith('/account?saved'), saved.url);
  t.regex(saved.body, /new\.pw@example\.com/);
  t.truthy(await accountRow({ email: 'new.pw@example.com' }));

  const notice = await mailTo('old.pw@example.com');
  t.is(notice.mail.subject, 'Your Enot ID email address was changed');
  t.regex(notice.text, /changed to n…@example\.com/, 'the new value, masked');
  t.notRegex(notice.text, /new\.pw@example\.com/, 'never the new value in clear');
  t.regex(notice.text, /IP address (::ffff:)?127\.0\.0\.1/);
  t.regex(notice.text, /\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  t.regex(notice.text, /If it was not you/);
  t.is(codeIn(notice.text), undefined, 'no code in the notice');
  t.notRegex(notice.mail.html ?? '', /<a\s|https?:\/\//, 'no link in the notice');
});

test.serial('after re-authentication by a code to the existing email the email changes', async (t) => {
  await createAccount(server.runtime.db, { email: 'old.code@example.com' });
  const { browser } = await signedInByCode('old.code@example.com');
  const reauth = await browser.follow(`${server.issuer}/account/reauth`);
  t.notRegex(reauth.body, /name="password"/, 'no password form for an account without a password');
  const codePage = await submit(browser, reauth, /\/account\/reauth\/code$/);
  t.regex(codePage.body, /o…@example\.com/);
  const reauthMail = await mailTo('old.code@example.com');
  const wrong = await submit(browser, codePage, /\/code$/, { code: reauthMail.code === '000000' ? '111111' : '000000' });
  t.is(wrong.status, 400, 'a wrong code does not re-authenticate');
  t.true((await askToChange(browser, 'new.code@example.com')).url.endsWith('/account/reauth?needed'));

  const confirmed = await submit(browser, codePage, /\/code$/, { code: reauthMail.code! });
  t.true(confirmed.url.endsWith('/account?reauthed'), confirmed.url);
  const changePage = await askToChange(browser, 'new.code@example.com');
  const saved = await submit(browser, changePage, /\/code$/, { code: (await mailTo('new.code@example.com')).code! });
  t.true(saved.url.endsWith('/account?saved'), saved.url);
  t.truthy(await accountRow({ email: 'new.code@example.com' }));
  const notice = await mailTo('old.code@example.com');
  t.is(codeIn(notice.text), undefined);
});

test.serial('a re-authentication counts for 10 minutes, also when the change is completed', async (t) => {
  await createAccount(server.runtime.db, { email: 'clock@example.com', password: 'ten minutes later 1' });
  const { browser } = await signedInByPassword('clock@example.com', 'ten minutes later 1');
  await reauthByPassword(browser, 'ten minutes later 1');
  clockOffset = 11 * MINUTE;
  t.true((await askToChange(browser, 'later@example.com')).url.endsWith('/account/reauth?needed'), 'expired after 10 minutes');

  clockOffset = 0;
  await reauthByPassword(browser, 'ten minutes later 1');
  clockOffset = 8 * MINUTE;
  const codePage = await askToChange(browser, 'later@example.com');
  const { code } = await mailTo('later@example.com');
  clockOffset = 11 * MINUTE; // the code (5 minutes) still lives; the step-up does not
  const refused = await submit(browser, codePage, /\/code$/, { code: code! });
  t.true(refused.url.endsWith('/account/reauth?needed'), refused.url);
  t.truthy(await accountRow({ email: 'clock@example.com' }), 'the email did not change');
  t.falsy(await accountRow({ email: 'later@example.com' }));

  await reauthByPassword(browser, 'ten minutes later 1');
  const saved = await submit(browser, codePage, /\/code$/, { code: code! });
  t.true(saved.url.endsWith('/account?saved'), 'the unspent code completes the change after a new step-up');
  await mailTo('clock@example.com');
});

test.serial('a re-authentication in one session does not count in another of the same account', async (t) => {
  await createAccount(server.runtime.db, { email: 'two@example.com', password: 'two sessions 1' });
  const first = await signedInByPassword('two@example.com', 'two sessions 1');
  const second = await signedInByPassword('two@example.com', 'two sessions 1');
  // The second browser is new to the account: the person is told (issue 13 §2), once.
  t.is((await mailTo('two@example.com')).mail.subject, 'New sign-in to your Enot ID account');
  await reauthByPassword(first.browser, 'two sessions 1');
  t.true((await askToChange(second.browser, 'other@example.com')).url.endsWith('/account/reauth?needed'));
  const codePage = await askToChange(first.browser, 'other@example.com');
  t.regex(codePage.body, /Enter the code/);
  await mailTo('other@example.com');
});

test.serial('wrong passwords at re-authentication count against the sign-in limit of the account', async (t) => {
  await createAccount(server.runtime.db, { email: 'guess@example.com', password: 'guessed password 1' });
  const { browser } = await signedInByPassword('guess@example.com', 'guessed password 1');
  const wrong = await reauthByPassword(browser, 'not the password');
  t.is(wrong.status, 401);
  t.regex(wrong.body, /The password is not correct/);

  // Another process's limiters on the same storage bring the account to its last try.
  const { db, redis, config } = server.runtime;
  const limiters = createLimiters({ db, redis, prefix: config.redisPrefix });
  // Counted under the normalised identifier, as sign-in counts it (accounts/identifiers.ts).
  await limiters.passwordFailuresPerIdentifier.consume(identifierKey({ kind: 'email', value: 'guess@example.com' }), PASSWORD_LIMITS.failuresPerIdentifierPerDay - 2);
  t.is((await reauthByPassword(browser, 'still not it')).status, 401, 'the last allowed try');
  const limited = await reauthByPassword(browser, 'guessed password 1');
  t.is(limited.status, 429, 'even the right password is refused once the limit is reached');
  t.regex(limited.body, /Too many attempts/);
  t.true((await askToChange(browser, 'guess.new@example.com')).url.endsWith('/account/reauth?needed'));

  // The guesses came out of the same count sign-in uses.
  const signIn = createBrowser();
  const login = await signIn.follow(`${server.issuer}/account`);
  const form = readForm(login, /\/code$/);
  const refused = await signIn.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: 'guess@example.com', password: 'guessed password 1' });
  t.is(refused.status, 429);
});

test.serial('a phone account re-authenticates by SMS; a notice that cannot be delivered does not undo the change', async (t) => {
  const browser = createBrowser();
  const login = await browser.follow(`${server.issuer}/account`);
  const codePage = await submit(browser, login, /\/code$/, { identifier: '+49 151 33334444', via: 'phone' });
  await submit(browser, codePage, /\/code$/, { code: (await smsTo('+4915133334444')).code! });

  const reauth = await browser.follow(`${server.issuer}/account/reauth`);
  t.regex(reauth.body, /Send a code to \+49…444/);
  const reauthCode = await submit(browser, reauth, /\/account\/reauth\/code$/);
  await submit(browser, reauthCode, /\/code$/, { code: (await smsTo('+4915133334444')).code! });

  const changePage = await askToChange(browser, '+49 151 55556666', 'phone');
  const { code } = await smsTo('+4915155556666');
  sms.behave(500);
  const saved = await submit(browser, changePage, /\/code$/, { code: code! });
  t.true(saved.url.endsWith('/account?saved'), saved.url);
  t.regex(saved.body, /\+4915155556666/);
  const notice = await smsTo('+4915133334444');
  t.regex(notice.text, /changed to \+49…666/);
  t.is(codeIn(notice.text), undefined);
});

test.serial('without a password and without a confirmed identifier, the step-up says how to get one and sends nothing', async (t) => {
  await createAccount(server.runtime.db, { email: 'unconfirmed@example.com' });
  const { browser } = await signedInByCode('unconfirmed@example.com');
  await server.runtime.db('accounts').where({ email: 'unconfirmed@example.com' }).update({ email_verified_at: null });
  const reauth = await browser.follow(`${server.issuer}/account/reauth`);
  t.regex(reauth.body, /cannot confirm it is you here/);
  t.notRegex(reauth.body, /action="\/account\/reauth\//);
  await queueSettled(server.runtime, SECURITY_NOTICES); // earlier tests' notices are not this one's
  const before = smtp.messages.length;
  const csrf = /name="csrf" value="([^"]+)"/.exec((await browser.follow(`${server.issuer}/account`)).body)![1]!;
  const refused = await browser.submit(`${server.issuer}/account/reauth/code`, { csrf, to: 'email' });
  t.is(refused.status, 400);
  await queueSettled(server.runtime, SECURITY_NOTICES);
  t.is(smtp.messages.length, before);
});

test('the change notice in English and Russian: what, when, where from, what to do; never a code or a link', (t) => {
  for (const locale of ['en', 'ru'] as const) {
    for (const channel of ['email', 'sms'] as const) {
      const message = identifierChangedMessage({
        channel, to: 'x', change: 'email-changed', masked: 'n…@example.com', at: new Date('2026-11-30T08:01:00Z'), ip: '203.0.113.9', locale,
      });
      t.regex(message.text, /n…@example\.com/);
      t.regex(message.text, /203\.0\.113\.9/);
      t.notRegex(message.text, /\d{6}|https?:/);
      if (channel === 'email') {
        t.regex(message.text, /2026-11-30 08:01 UTC/);
        t.regex(message.subject!, locale === 'ru' ? /изменена/ : /was changed/);
        t.notRegex(message.html!, /<a\s|https?:\/\//);
      }
    }
  }
});

test.serial('flow store: only a reauth flow may start completed; the latest completed one is found for its session and account only', async (t) => {
  const accountId = await createAccount(server.runtime.db, { email: 'store@example.com' });
  const otherId = await createAccount(server.runtime.db, { email: 'store.other@example.com' });
  let clock = Date.now();
  const flows = flowStore(server.runtime.db, () => clock);
  const identifier = { kind: 'email', value: 'store@example.com' } as const;
  await t.throwsAsync(flows.create({ kind: 'confirm', state: 'completed', boundTo: 'session:a', accountId, identifier, locale: 'en' }));
  const query = { kind: 'reauth', state: 'completed', boundTo: 'session:a', accountId } as const;
  t.is(await flows.findLatest(query), undefined);

  const pending = await flows.create({ kind: 'reauth', boundTo: 'session:a', accountId, identifier, locale: 'en' });
  await flows.create({ kind: 'reauth', state: 'completed', ttlSeconds: 600, boundTo: 'session:b', accountId, identifier, locale: 'en' });
  await flows.create({ kind: 'reauth', state: 'completed', ttlSeconds: 600, boundTo: 'session:a', accountId: otherId, identifier, locale: 'en' });
  t.is(await flows.findLatest(query), undefined, 'not a pending one, another session\'s or another account\'s');

  clock += 14 * 60_000;
  const completed = await flows.transition(pending, 'completed', { ttlSeconds: 600 });
  t.is(completed.expiresAt.getTime(), clock + 600_000, 'counted from completion');
  t.is((await flows.findLatest(query))?.id, pending.id);
  clock += 601_000;
  t.is(await flows.findLatest(query), undefined, 'expired');
});
