// The account page: add and confirm a second identifier, proven by a code.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { startSmsReceiver, type SmsReceiver } from './helpers/sms-receiver.ts';
import { registerClient, beginAuthorization, completeAuthorization, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
let smtp: SmtpCapture;
let sms: SmsReceiver;
let rp: oidc.Configuration;

test.before(async () => {
  smtp = await startSmtpServer();
  sms = await startSmsReceiver();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url, DEFAULT_PHONE_REGION: 'DE' });
  rp = await registerClient(server.issuer, { scope: 'openid email phone' });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
  await sms?.close();
});

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1]!;

async function submit(browser: ReturnType<typeof createBrowser>, page: Page, action: RegExp, fields: Record<string, string>) {
  const form = readForm(page, action);
  return browser.submit(form.action, { ...form.hidden, ...fields }, REDIRECT_URI);
}

test.serial('an account made by phone adds an email; the relying party then sees both verified', async (t) => {
  const started = await beginAuthorization(rp, 'openid email phone');
  const codePage = await submit(started.browser, started.page, /\/code$/, { identifier: '+49 151 11112222', via: 'phone' });
  const code = codeIn(String((await sms.nextRequest(10_000)).json?.text));
  const first = await completeAuthorization(rp, started, await submit(started.browser, codePage, /\/code$/, { code }));
  t.is(first.claims()!.phone_number, '+4915111112222');
  t.is(first.claims()!.email, undefined);

  let account = await started.browser.follow(`${server.issuer}/account`);
  t.is(account.status, 200);
  t.regex(account.body, /\+4915111112222/);
  // Adding an identifier first asks to re-authenticate: here by a code to the phone.
  const reauth = await submit(started.browser, account, /\/account\/identifiers$/, { identifier: 'Phone.Person@Example.com', via: 'email' });
  t.true(reauth.url.endsWith('/account/reauth?needed'), reauth.url);
  const reauthCode = await submit(started.browser, reauth, /\/account\/reauth\/code$/, {});
  account = await submit(started.browser, reauthCode, /\/code$/, { code: codeIn(String((await sms.nextRequest(10_000)).json?.text)) });
  const emailCodePage = await submit(started.browser, account, /\/account\/identifiers$/, { identifier: 'Phone.Person@Example.com', via: 'email' });
  t.is(emailCodePage.status, 200);
  const mail = await smtp.nextMessageTo('Phone.Person@example.com', 10_000);
  t.deepEqual(mail.envelopeTo, ['Phone.Person@example.com']);
  account = await submit(started.browser, emailCodePage, /\/code$/, { code: codeIn(mail.text ?? '') });
  t.is(account.status, 200);
  t.regex(account.body, /role="status"/);
  t.regex(account.body, /Phone.Person@example.com/);
  // The phone is told an email was added.
  t.regex(String((await sms.nextRequest(10_000)).json?.text), /email P…@example\.com was added/);

  // The same browser signs in to the client again; the new token shows both.
  const again = await beginAuthorization(rp, 'openid email phone');
  const second = await completeAuthorization(rp, again, await submit(again.browser, again.page, /\/code$/, { identifier: '+4915111112222' })
    .then(async (page) => submit(again.browser, page, /\/code$/, { code: codeIn(String((await sms.nextRequest(10_000)).json?.text)) })));
  const claims = second.claims()!;
  t.is(claims.sub, first.claims()!.sub);
  t.is(claims.email, 'Phone.Person@example.com');
  t.true(claims.email_verified as boolean);
  t.true(claims.phone_number_verified as boolean);
});

test.serial('without a session, /account signs in through the provider first', async (t) => {
  await createAccount(server.runtime.db, { email: 'visitor@example.com', password: 'visiting password 1' });
  const browser = createBrowser();
  const login = await browser.follow(`${server.issuer}/account`);
  t.regex(login.url, /\/interaction\//);
  const form = readForm(login, /\/code$/);
  const page = await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: 'visitor@example.com', password: 'visiting password 1' });
  t.is(page.status, 200);
  t.regex(page.body, /visitor@example.com/);
  t.notRegex(page.body, /Allow .* access/, 'no consent screen for the account page');
});

test.serial('an identifier that belongs to another account is refused after the code', async (t) => {
  await createAccount(server.runtime.db, { email: 'taken@example.com' });
  await createAccount(server.runtime.db, { email: 'owner@example.com', password: 'keys to the front door 1' });
  const browser = createBrowser();
  const login = await browser.follow(`${server.issuer}/account`);
  const form = readForm(login, /\/code$/);
  await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: 'owner@example.com', password: 'keys to the front door 1' });
  const reauth = await browser.follow(`${server.issuer}/account/reauth`);
  const account = await submit(browser, reauth, /\/account\/reauth\/password$/, { password: 'keys to the front door 1' });
  const codePage = await submit(browser, account, /\/account\/identifiers$/, { identifier: 'taken@example.com', via: 'email' });
  const mail = await smtp.nextMessageTo('taken@example.com', 10_000);
  const result = await submit(browser, codePage, /\/code$/, { code: codeIn(mail.text ?? '') });
  t.is(result.status, 409);
  t.regex(result.body, /already belongs to another account/);
  const owner = await server.runtime.db('accounts').where({ email: 'owner@example.com' }).first();
  t.truthy(owner, 'the owner keeps their email');
});

test.serial('account forms are bound to the session: a foreign flow or missing CSRF is refused', async (t) => {
  const response = await fetch(`${server.issuer}/account/identifiers`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'identifier=x%40example.com&csrf=nope',
    redirect: 'manual',
  });
  t.is(response.status, 302);
  t.regex(response.headers.get('location') ?? '', /\/account\/sign-in$/);
});
