// An instance with BRAND_NAME sends its codes and security notices under its own
// name (views/messages/branded.ts): in the subject, the text and the HTML, where the
// name is escaped; the default name appears nowhere. Mailings keep the operator's words.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { createBrowser, readForm } from './helpers/browser.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { findAccountById } from '../server/accounts/queries.ts';
import { queueSecurityNotice } from '../server/notifications/security-notices.ts';
import { createLogger } from '../server/logging/logger.ts';
import { branded } from '../views/messages/branded.ts';

const NAME = 'Acme <Login> & Co';
let server: TestServer;
let smtp: SmtpCapture;

test.before(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, BRAND_NAME: NAME });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
});

function assertBranded(t: import('ava').ExecutionContext, mail: { subject: string; text?: string; html?: string }) {
  t.true(mail.subject.includes(NAME) || (mail.text ?? '').includes(NAME), `the name is in the message: ${mail.subject}`);
  for (const part of [mail.subject, mail.text ?? '', mail.html ?? '']) t.false(part.includes('Enot ID'), `no default name in: ${part.slice(0, 120)}`);
  t.true((mail.html ?? '').includes('Acme &lt;Login&gt; &amp; Co'), 'escaped in the HTML');
  t.false((mail.html ?? '').includes('<Login>'), 'never raw markup in the HTML');
}

test.serial('a sign-in code goes out under the instance’s name', async (t) => {
  await createAccount(server.runtime.db, { email: 'brand.code@example.com' });
  const rp = await registerClient(server.issuer);
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', state: oidc.randomState(),
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const browser = createBrowser();
  const page = await browser.follow(url.href, REDIRECT_URI);
  const form = readForm(page, /\/code$/);
  const codePage = await browser.submit(form.action, { ...form.hidden, identifier: 'brand.code@example.com' }, REDIRECT_URI);
  t.is(codePage.status, 200);
  const mail = await smtp.nextMessageTo('brand.code@example.com');
  t.regex(mail.text ?? '', /\b\d{6}\b/, 'the code is there');
  assertBranded(t, mail);
});

test.serial('a security notice goes out under the instance’s name', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'brand.notice@example.com', password: 'a branded password 1' });
  const account = (await findAccountById(server.runtime.db, id))!;
  const deps = { db: server.runtime.db, jobs: server.runtime.jobs, logger: createLogger('silent') };
  await queueSecurityNotice(deps, { account, event: 'password.changed', origin: { ip: '203.0.113.9', userAgent: 'Firefox', locale: 'en', at: new Date() } });
  const mail = await smtp.nextMessageTo('brand.notice@example.com');
  t.regex(mail.subject, /password was changed/);
  assertBranded(t, mail);
});

test('without BRAND_NAME a message is left as written; SMS text gets the plain name', (t) => {
  const message = { channel: 'sms' as const, to: '+4915100000000', text: 'Your Enot ID code is 123456' };
  t.is(branded(message, 'Enot ID'), message);
  t.is(branded(message, 'Acme & Co').text, 'Your Acme & Co code is 123456');
});
