// Issue 13 §2: security notices reach the person once, in their language, at the
// right address, through the durable job queue; a notice that cannot be delivered
// neither fails the action nor is lost. Real SMTP server, real SMS receiver, real server.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type CapturedMail, type SmtpCapture } from './helpers/smtp.ts';
import { startSmsReceiver, type SmsReceiver } from './helpers/sms-receiver.ts';
import { createBrowser } from './helpers/browser.ts';
import { freePort } from './helpers/environment.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { findAccountById } from '../server/accounts/queries.ts';
import { queueSecurityNotice } from '../server/notifications/security-notices.ts';
import { securityNoticeMessage } from '../views/messages/security-notice.ts';
import { createLogger } from '../server/logging/logger.ts';
import { unsubscribeToken } from '../server/mailings/unsubscribe-token.ts';
import { loadCookieKeys } from '../server/keys/cookie-keys.ts';
import { submitForm } from './helpers/account-pages.ts';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

let smtp: SmtpCapture;
let sms: SmsReceiver;
let server: TestServer;
let api: ReturnType<typeof adminApi>;
let token: string;
let rp: oidc.Configuration;

test.before(async () => {
  smtp = await startSmtpServer();
  sms = await startSmsReceiver();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url, DEFAULT_PHONE_REGION: 'DE' });
  api = adminApi(server.issuer);
  token = await clientToken(await machineClient(server), server.issuer);
  rp = await registerClient(server.issuer, { client_name: 'Shop' });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
  await sms?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mailsTo = (address: string) => smtp.messages.filter((m) => m.envelopeTo.includes(address));

/** Waits until `address` has `count` mails, then a little longer to see that no more come. */
async function settled(address: string, count: number, timeoutMs = 15_000): Promise<CapturedMail[]> {
  const until = Date.now() + timeoutMs;
  while (mailsTo(address).length < count && Date.now() < until) await sleep(100);
  await sleep(2_500); // longer than a poll of the queue (1 s): a second copy would arrive by now
  return mailsTo(address);
}

/** A browser that says who it is and which language it reads. */
function browserWith(headers: Record<string, string>) {
  return createBrowser({
    fetch: (url, init) => {
      const all = new Headers(init.headers);
      for (const [name, value] of Object.entries(headers)) all.set(name, value);
      return fetch(url, { ...init, headers: all });
    },
  });
}

/** Forgets the session (the next authorization asks to sign in again), keeps the known-device cookie. */
function signOutKeepingDevice(browser: ReturnType<typeof createBrowser>) {
  for (const key of [...browser.cookies.keys()]) if (!key.startsWith('enot_device')) browser.cookies.delete(key);
}

const noCodeOrLink = (t: import('ava').ExecutionContext, mail: CapturedMail) => {
  t.notRegex(mail.text ?? '', /\b\d{6}\b|https?:\/\//, 'no code and no link');
  t.notRegex(mail.html ?? '', /<a\s|https?:\/\/(?!www\.w3)/, 'no link in the HTML');
};

test.serial('sign-in from a new browser is told once, in the request\'s language, with IP and device; a known browser and the first sign-in are not', async (t) => {
  await createAccount(server.runtime.db, { email: 'devices@example.com', password: 'several devices 1' });
  const first = await signIn(rp, { email: 'devices@example.com', password: 'several devices 1', scope: 'openid' });
  signOutKeepingDevice(first.browser);
  await signIn(rp, { email: 'devices@example.com', password: 'several devices 1', scope: 'openid', browser: first.browser });
  t.is((await settled('devices@example.com', 0)).length, 0, 'the first sign-in and the same browser again: nothing');

  const russian = browserWith({ 'accept-language': 'ru-RU,ru;q=0.9', 'user-agent': FIREFOX_LINUX });
  await signIn(rp, { email: 'devices@example.com', password: 'several devices 1', scope: 'openid', browser: russian });
  const mails = await settled('devices@example.com', 1);
  t.is(mails.length, 1, 'one notice');
  const notice = mails[0]!;
  t.is(notice.subject, 'Новый вход в аккаунт Enot ID');
  t.regex(notice.text ?? '', /вошли с устройства или браузера/);
  t.regex(notice.text ?? '', /Firefox, Linux/);
  t.regex(notice.text ?? '', /127\.0\.0\.1/);
  t.regex(notice.text ?? '', /\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  t.regex(notice.text ?? '', /Если это были не вы/);
  noCodeOrLink(t, notice);

  signOutKeepingDevice(russian);
  await signIn(rp, { email: 'devices@example.com', password: 'several devices 1', scope: 'openid', browser: russian });
  t.is((await settled('devices@example.com', 1)).length, 1, 'that browser is known now');
});

test.serial('blocked and unblocked by an administrator: told once each (not again for a second block); a phone-only account by SMS', async (t) => {
  const created = await api.call(t, 'post', '/accounts', { token, body: { email: 'blocked@example.com' } });
  const id = created.body.id as string;
  t.is((await api.call(t, 'post', `/accounts/${id}/block`, { token })).status, 200);
  t.is((await api.call(t, 'post', `/accounts/${id}/block`, { token })).status, 200);
  let mails = await settled('blocked@example.com', 1);
  t.deepEqual(mails.map((m) => m.subject), ['Your Enot ID account was blocked']);
  t.regex(mails[0]!.text ?? '', /blocked by an administrator/);
  t.regex(mails[0]!.text ?? '', /By an administrator of the service/);
  noCodeOrLink(t, mails[0]!);
  t.is((await api.call(t, 'post', `/accounts/${id}/unblock`, { token })).status, 200);
  mails = await settled('blocked@example.com', 2);
  t.deepEqual(mails.map((m) => m.subject), ['Your Enot ID account was blocked', 'Your Enot ID account was unblocked']);

  const phone = await api.call(t, 'post', '/accounts', { token, body: { phone: '0151 70001234' } });
  const before = sms.requests.length;
  t.is((await api.call(t, 'post', `/accounts/${phone.body.id}/block`, { token })).status, 200);
  const request = await sms.nextRequest(15_000);
  t.is(request.json?.to, '+4915170001234');
  t.regex(String(request.json?.text), /blocked by an administrator/);
  await sleep(2_500);
  t.is(sms.requests.length, before + 1, 'one SMS');
});

test.serial('deleted by an administrator: the notice goes to the address the account had', async (t) => {
  const created = await api.call(t, 'post', '/accounts', { token, body: { email: 'deleted@example.com' } });
  t.is((await api.call(t, 'delete', `/accounts/${created.body.id}`, { token })).status, 204);
  const mails = await settled('deleted@example.com', 1);
  t.deepEqual(mails.map((m) => m.subject), ['Your Enot ID account was deleted']);
});

test.serial('deleted by an administrator: the notice is in the language the account had chosen', async (t) => {
  const created = await api.call(t, 'post', '/accounts', { token, body: { email: 'deleted.ru@example.com' } });
  await server.runtime.db('accounts').where({ id: created.body.id }).update({ locale: 'ru' });
  t.is((await api.call(t, 'delete', `/accounts/${created.body.id}`, { token })).status, 204);
  const mails = await settled('deleted.ru@example.com', 1);
  t.deepEqual(mails.map((m) => m.subject), ['Аккаунт Enot ID удалён']);
});

test.serial('email changed and phone removed by an administrator: the old email and the phone are told, as done by an administrator', async (t) => {
  const created = await api.call(t, 'post', '/accounts', { token, body: { email: 'admin.old@example.com', phone: '0151 70005678' } });
  const id = created.body.id as string;
  const before = sms.requests.length;
  t.is((await api.call(t, 'patch', `/accounts/${id}`, { token, body: { email: 'admin.new@example.com' } })).status, 200);
  const old = await settled('admin.old@example.com', 1);
  t.deepEqual(old.map((m) => m.subject), ['Your Enot ID email address was changed']);
  t.regex(old[0]!.text ?? '', /changed to a…@example\.com/);
  t.regex(old[0]!.text ?? '', /By an administrator of the service/);
  t.notRegex(old[0]!.text ?? '', /IP address/);
  t.regex(old[0]!.text ?? '', /If you do not know why, contact the service/);
  noCodeOrLink(t, old[0]!);
  const told = await sms.nextRequest(15_000);
  t.is(told.json?.to, '+4915170005678', 'the phone is told of the email change too');
  t.regex(String(told.json?.text), /email was changed/);
  t.notRegex(String(told.json?.text), /IP/);

  t.is((await api.call(t, 'patch', `/accounts/${id}`, { token, body: { phone: null } })).status, 200);
  const removedSms = await sms.nextRequest(15_000);
  t.is(removedSms.json?.to, '+4915170005678', 'the removed phone is told');
  t.regex(String(removedSms.json?.text), /removed/);
  const now = await settled('admin.new@example.com', 1);
  t.deepEqual(now.map((m) => m.subject), ['A phone number was removed from your Enot ID account']);
  t.regex(now[0]!.text ?? '', /By an administrator of the service/);
  t.regex(now[0]!.text ?? '', /If you do not know why, contact the service/);
  await sleep(1_000);
  t.is(sms.requests.length, before + 2, 'one SMS each');

  // The same value again is no change: nobody is told.
  t.is((await api.call(t, 'patch', `/accounts/${id}`, { token, body: { email: 'admin.new@example.com' } })).status, 200);
  t.is((await settled('admin.new@example.com', 1)).length, 1);
});

test.serial('a password change is told once, with IP and device, however often the same event is queued', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'recovered@example.com', password: 'the old password 1' });
  const account = (await findAccountById(server.runtime.db, id))!;
  const at = new Date();
  const deps = { db: server.runtime.db, jobs: server.runtime.jobs, logger: createLogger('silent') };
  // The same event queued twice (a retried request) is one job: one mail.
  await queueSecurityNotice(deps, { account, event: 'password.changed', origin: { ip: '203.0.113.7', userAgent: FIREFOX_LINUX, locale: 'en', at } });
  await queueSecurityNotice(deps, { account, event: 'password.changed', origin: { ip: '203.0.113.7', userAgent: FIREFOX_LINUX, locale: 'en', at } });
  const mails = await settled('recovered@example.com', 1);
  t.is(mails.length, 1);
  t.is(mails[0]!.subject, 'Your Enot ID password was changed');
  t.regex(mails[0]!.text ?? '', /From IP address 203\.0\.113\.7, Firefox, Linux\./);
});

test.serial('unsubscribed from mailings (one-click): sign-in codes and security notices still arrive', async (t) => {
  const email = 'quiet.reader@example.com';
  const id = await createAccount(server.runtime.db, { email, password: 'no news is good news 1' });
  // RFC 8058 §3.1 one-click, as a mail client sends it (test/mailings.test.ts).
  const [key] = await loadCookieKeys(server.runtime.db, server.runtime.sealer, server.runtime.config.cookieKeys);
  const oneClick = await fetch(`${server.issuer}/unsubscribe/${unsubscribeToken(key!, id)}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click',
  });
  t.is(oneClick.status, 200);
  t.truthy(await server.runtime.db('mailing_unsubscribes').first().where({ account_id: id }), 'unsubscribed');

  // A one-time code for sign-in still comes by mail, and signs in.
  const browser = createBrowser();
  const login = await browser.follow(`${server.issuer}/account`);
  const codePage = await submitForm(browser, login, /\/code$/, { identifier: email, via: 'email' });
  const codeMail = await smtp.nextMessageTo(email, 10_000);
  t.is(codeMail.subject, 'Your Enot ID sign-in code');
  const code = /\b(\d{6})\b/.exec(codeMail.text ?? '')?.[1];
  t.truthy(code, 'the mail carries the code');
  const account = await submitForm(browser, codePage, /\/code$/, { code: code! });
  t.true(account.url.endsWith('/account'), account.url);

  // A security notice still comes: the password changed on /account after a step-up by code.
  const reauth = await browser.follow(`${server.issuer}/account/reauth`);
  const reauthCode = await submitForm(browser, reauth, /\/account\/reauth\/code$/);
  const stepUpMail = await smtp.nextMessageTo(email, 10_000);
  t.is(stepUpMail.subject, 'Your Enot ID sign-in code');
  const stepped = await submitForm(browser, reauthCode, /\/code$/, { code: /\b(\d{6})\b/.exec(stepUpMail.text ?? '')![1]! });
  t.true(stepped.url.endsWith('/account?reauthed'), stepped.url);
  const changed = await submitForm(browser, await browser.follow(`${server.issuer}/account/password`), /\/account\/password$/, { password: 'still no news, new password 2' });
  t.true(changed.url.endsWith('/account/password?saved'), changed.url);
  const mails = await settled(email, 3);
  t.deepEqual(mails.map((m) => m.subject), ['Your Enot ID sign-in code', 'Your Enot ID sign-in code', 'Your Enot ID password was changed']);
  noCodeOrLink(t, mails[2]!);
  t.truthy(await server.runtime.db('mailing_unsubscribes').first().where({ account_id: id }), 'still unsubscribed');
});

test('every notice in English and Russian, by email and SMS: what, when, what to do; never a code or a link', (t) => {
  const events = ['sign_in.new_device', 'password.set', 'password.changed', 'password.removed', 'identifier.added', 'identifier.changed', 'identifier.removed', 'account.blocked', 'account.unblocked', 'account.deleted'] as const;
  for (const locale of ['en', 'ru'] as const) {
    for (const channel of ['email', 'sms'] as const) {
      for (const event of events) {
        const message = securityNoticeMessage({
          event, channel, to: 'x', locale, at: '2026-11-30T08:01:00.000Z', ip: '203.0.113.9', device: 'Chrome, Windows', kind: 'email', masked: 'n…@example.com',
        });
        t.notRegex(message.text, /\b\d{6}\b|https?:/, `${locale} ${channel} ${event}`);
        t.true(message.text.length > 20);
        if (channel === 'email') {
          t.regex(message.text, /2026-11-30 08:01 UTC/);
          t.truthy(message.subject);
          t.regex(message.subject!, locale === 'ru' ? /[а-я]/ : /^[A-Za-z -]+$/, `${locale} ${event}`);
          t.notRegex(message.html!, /<a\s|https?:\/\//);
        }
        if (event.startsWith('identifier.')) t.regex(message.text, /n…@example\.com/);
      }
    }
  }
});

test('a change made by an administrator (no ip) says so in English and Russian, by email and SMS, with the advice to ask the service', (t) => {
  for (const event of ['identifier.added', 'identifier.changed', 'identifier.removed'] as const) {
    for (const [locale, byAdmin, ask] of [['en', /administrator/, /[Cc]ontact the service/], ['ru', /администратор/, /[Сс]вяжитесь со службой/]] as const) {
      for (const channel of ['email', 'sms'] as const) {
        const message = securityNoticeMessage({ event, channel, to: 'x', locale, at: '2026-11-30T08:01:00.000Z', ip: null, device: null, kind: 'phone', masked: '+49…678' });
        t.regex(message.text, byAdmin, `${event} ${locale} ${channel}`);
        t.regex(message.text, ask, `${event} ${locale} ${channel}`);
        t.notRegex(message.text, /IP|Reset your password|Сбросьте пароль/, `${event} ${locale} ${channel}`);
      }
    }
  }
});

test.serial('SMTP down: the action succeeds, and the notice arrives once SMTP is back', async (t) => {
  const port = await freePort();
  const down = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: `smtp://127.0.0.1:${port}` });
  let late: SmtpCapture | undefined;
  try {
    const downApi = adminApi(down.issuer);
    const downToken = await clientToken(await machineClient(down), down.issuer);
    const created = await downApi.call(t, 'post', '/accounts', { token: downToken, body: { email: 'later@example.com' } });
    const blocked = await downApi.call(t, 'post', `/accounts/${created.body.id}/block`, { token: downToken });
    t.is(blocked.status, 200, 'the block is not held up by the mail');
    t.is(blocked.body.status, 'blocked');
    await sleep(3_000); // the first try fails (connection refused) and waits for its retry
    late = await startSmtpServer({ port });
    const mail = await late.nextMessage(30_000);
    t.deepEqual(mail.envelopeTo, ['later@example.com']);
    t.is(mail.subject, 'Your Enot ID account was blocked');
    await sleep(3_000);
    t.is(late.messages.length, 1, 'sent once');
  } finally {
    await down.stop();
    await late?.close();
  }
});
