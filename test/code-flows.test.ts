// Register, sign in and recover by one-time code, over real SMTP and a real SMS
// webhook, with openid-client as the relying party.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { startSmsReceiver, type SmsReceiver } from './helpers/sms-receiver.ts';
import { registerClient, beginAuthorization, completeAuthorization, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { readForm, type Page } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';

let server: TestServer;
let smtp: SmtpCapture;
let sms: SmsReceiver;
let rp: oidc.Configuration;
let clockOffset = 0;
const SCOPE = 'openid email phone roles offline_access api:read';

test.before(async () => {
  smtp = await startSmtpServer();
  sms = await startSmsReceiver();
  server = await startTestServer(
    { INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url, DEFAULT_PHONE_REGION: 'DE' },
    undefined,
    { now: () => Date.now() + clockOffset },
  );
  rp = await registerClient(server.issuer, { scope: SCOPE });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
  await sms?.close();
});

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)?.[1];

async function mailTo(address: string) {
  // By recipient: queued security notices to others may arrive in between.
  const mail = await smtp.nextMessageTo(address, 10_000);
  return { mail, code: codeIn(mail.text ?? '')! };
}

async function smsTo(phone: string) {
  const request = await sms.nextRequest(10_000);
  if (request.json?.to !== phone) throw new Error(`expected SMS to ${phone}, got ${String(request.json?.to)}`);
  return { text: String(request.json.text), code: codeIn(String(request.json.text))! };
}

/** Submits the first form whose action ends with `action`, with `fields`. */
async function post(started: Awaited<ReturnType<typeof beginAuthorization>>, page: Page, action: RegExp, fields: Record<string, string>) {
  const form = readForm(page, action);
  return started.browser.submit(form.action, { ...form.hidden, ...fields }, REDIRECT_URI);
}

/** Follows a link on the page whose path ends with `suffix`. */
async function open(started: Awaited<ReturnType<typeof beginAuthorization>>, page: Page, suffix: string) {
  const href = [...page.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&')).find((h) => h.split('?')[0]!.endsWith(suffix));
  if (!href) throw new Error(`no link to ${suffix} on ${page.url}`);
  return started.browser.follow(new URL(href, page.url).href, REDIRECT_URI);
}

test.serial('register by email with a password: code by mail, account created only after it, tokens', async (t) => {
  const started = await beginAuthorization(rp, SCOPE);
  const register = await open(started, started.page, '/register');
  t.regex(register.body, /autocomplete="new-password"/);
  const codePage = await post(started, register, /\/register$/, { identifier: 'Grace@Example.com', password: 'a sturdy passphrase' });
  t.is(codePage.status, 200);
  t.regex(codePage.body, /autocomplete="one-time-code"/);
  t.regex(codePage.body, /inputmode="numeric"/);
  const { mail, code } = await mailTo('Grace@example.com');
  t.regex(code, /^\d{6}$/);
  t.regex(mail.subject, /code/i);
  t.truthy(mail.html?.includes(code));
  t.is(await server.runtime.db('accounts').where({ email: 'Grace@example.com' }).first(), undefined, 'no account before the code');

  const done = await post(started, codePage, /\/code$/, { code });
  const tokens = await completeAuthorization(rp, started, done);
  const claims = tokens.claims()!;
  t.is(claims.email, 'Grace@example.com');
  t.true(claims.email_verified as boolean);
  t.deepEqual(claims.amr, ['otp']);

  const again = await signIn(rp, { email: 'grace@example.com', password: 'a sturdy passphrase', scope: 'openid' });
  t.is(again.tokens.claims()!.sub, claims.sub, 'the password chosen at registration works');
});

test.serial('register by phone: code by SMS (one segment, WebOTP line), phone_number_verified', async (t) => {
  const started = await beginAuthorization(rp, SCOPE, { ui_locales: 'ru' });
  let register = await open(started, started.page, '/register');
  register = await started.browser.follow(new URL(`${new URL(register.url).pathname}?via=phone`, register.url).href);
  t.regex(register.body, /type="tel" name="identifier" autocomplete="tel"/);
  t.regex(register.body, /<html lang="ru">/);
  const codePage = await post(started, register, /\/register$/, { identifier: '0151 2345 6789' });
  const { text, code } = await smsTo('+4915123456789');
  t.true(text.length <= 70, `one UCS-2 segment: ${text.length}`);
  t.is(text.trim().split('\n').at(-1), `@127.0.0.1 #${code}`);
  const tokens = await completeAuthorization(rp, started, await post(started, codePage, /\/code$/, { code }));
  const claims = tokens.claims()!;
  t.is(claims.phone_number, '+4915123456789');
  t.true(claims.phone_number_verified as boolean);
  t.deepEqual(claims.amr, ['otp', 'sms']);
});

test.serial('sign in by code to an existing account', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'ken@example.com', roles: ['reader'] });
  const started = await beginAuthorization(rp, SCOPE);
  const codePage = await post(started, started.page, /\/code$/, { identifier: 'KEN@example.com' });
  const { code, mail } = await mailTo('ken@example.com');
  t.regex(mail.text ?? '', /sign in/i);
  const tokens = await completeAuthorization(rp, started, await post(started, codePage, /\/code$/, { code }));
  t.is(tokens.claims()!.sub, id);
  t.deepEqual(tokens.claims()!.roles, ['reader', 'user']);
});

test.serial('known and unknown identifiers get the same answer; only the message differs', async (t) => {
  await createAccount(server.runtime.db, { email: 'known@example.com' });
  const pages: Page[] = [];
  for (const identifier of ['known@example.com', 'unknown@example.com']) {
    const started = await beginAuthorization(rp, 'openid');
    pages.push(await post(started, started.page, /\/code$/, { identifier }));
  }
  const normalise = (p: Page) => p.body.replace(/flows\/[A-Za-z0-9_-]+/g, 'flows/X').replace(/interaction\/[A-Za-z0-9_-]+/g, 'interaction/X')
    .replace(/name="csrf" value="[^"]+"/g, '').replace(/[a-z]…@example\.com/, 'MASK')
    // The Content-Security-Policy nonce is fresh on every response, known account or not.
    .replace(/ nonce="[^"]+"/g, '');
  t.is(pages[0]!.status, pages[1]!.status);
  t.is(normalise(pages[0]!), normalise(pages[1]!));
  const known = await mailTo('known@example.com');
  const unknown = await mailTo('unknown@example.com');
  t.regex(known.mail.text ?? '', /sign in/i);
  t.notRegex(unknown.mail.text ?? '', /sign in to your account/i);
  t.truthy(unknown.code, 'the unknown address gets a code that creates the account');
});

test.serial('wrong codes: 5 tries, then the code is dead even when right', async (t) => {
  const started = await beginAuthorization(rp, 'openid');
  let page = await post(started, started.page, /\/code$/, { identifier: 'tries@example.com' });
  const { code } = await mailTo('tries@example.com');
  const wrong = code === '000000' ? '111111' : '000000';
  for (let left = 4; left >= 0; left--) {
    page = await post(started, page, /\/code$/, { code: wrong });
    t.is(page.status, 400);
  }
  t.regex(page.body, /role="alert"/);
  page = await post(started, page, /\/code$/, { code });
  t.is(page.status, 400, 'the right code no longer works');
  t.regex(page.body, /Too many wrong codes/);
});

test.serial('a code expires after 5 minutes (clock moved, no sleeping)', async (t) => {
  const started = await beginAuthorization(rp, 'openid');
  const page = await post(started, started.page, /\/code$/, { identifier: 'late@example.com' });
  const { code } = await mailTo('late@example.com');
  clockOffset = 5 * 60 * 1000 + 1000;
  try {
    const after = await post(started, page, /\/code$/, { code });
    t.is(after.status, 400);
    t.regex(after.body, /expired/);
  } finally {
    clockOffset = 0;
  }
});

test.serial('resend: refused within 60 s, allowed after; the new code works and the old one is dead', async (t) => {
  const started = await beginAuthorization(rp, 'openid');
  let page = await post(started, started.page, /\/code$/, { identifier: 'resend@example.com' });
  const first = await mailTo('resend@example.com');
  const tooSoon = await post(started, page, /\/resend$/, {});
  t.is(tooSoon.status, 429);
  // Nothing is wrong with the code: the wait is said next to the resend button (still disabled), not under the code field.
  t.regex(tooSoon.body, /<p class="hint" id="resend-wait" role="status">You can ask for a new code in <span id="resend-seconds">\d+<\/span> s\.<\/p>/);
  t.regex(tooSoon.body, /<button type="submit" id="resend" class="secondary" disabled aria-describedby="resend-wait">/);
  t.notRegex(tooSoon.body.replace(/<style[\s\S]*?<\/style>/, ''), /Too many attempts|id="code-error"|aria-invalid/);
  clockOffset = 61 * 1000;
  try {
    page = await post(started, page, /\/resend$/, {});
    t.is(page.status, 200);
    const second = await mailTo('resend@example.com');
    t.not(second.code, first.code);
    const stale = await post(started, page, /\/code$/, { code: first.code });
    t.is(stale.status, 400);
    const tokens = await completeAuthorization(rp, started, await post(started, stale, /\/code$/, { code: second.code }));
    t.truthy(tokens.access_token);
  } finally {
    clockOffset = 0;
  }
});

test.serial('a code from another flow is rejected', async (t) => {
  const a = await beginAuthorization(rp, 'openid');
  const pageA = await post(a, a.page, /\/code$/, { identifier: 'twoflows@example.com' });
  const codeA = (await mailTo('twoflows@example.com')).code;
  const b = await beginAuthorization(rp, 'openid');
  const pageB = await post(b, b.page, /\/code$/, { identifier: 'twoflows@example.com' });
  const codeB = (await mailTo('twoflows@example.com')).code;
  if (codeA !== codeB) {
    const crossed = await post(b, pageB, /\/code$/, { code: codeA });
    t.is(crossed.status, 400);
  }
  // And flow B's form cannot be posted from browser A (different interaction, different cookie).
  const form = readForm(pageB, /\/code$/);
  const foreign = await a.browser.submit(form.action, { ...form.hidden, code: codeB }, REDIRECT_URI);
  t.is(foreign.status, 400);
  t.truthy(await completeAuthorization(rp, a, await post(a, pageA, /\/code$/, { code: codeA })));
});

test.serial('forgot password: code, new password, every old session and refresh token revoked', async (t) => {
  await createAccount(server.runtime.db, { email: 'forgetful@example.com', password: 'the old password 1' });
  const before = await signIn(rp, { email: 'forgetful@example.com', password: 'the old password 1', scope: 'openid offline_access api:read' });
  t.true((await oidc.tokenIntrospection(rp, before.tokens.refresh_token!)).active);

  const started = await beginAuthorization(rp, 'openid');
  const recover = await open(started, started.page, '/recover');
  const codePage = await post(started, recover, /\/recover$/, { identifier: 'forgetful@example.com' });
  const { code, mail } = await mailTo('forgetful@example.com');
  t.regex(mail.subject, /password/i);
  const passwordPage = await post(started, codePage, /\/code$/, { code });
  t.regex(passwordPage.body, /autocomplete="new-password"/);
  const weak = await post(started, passwordPage, /\/password$/, { password: 'password' });
  t.is(weak.status, 400);
  t.regex(weak.body, /most common/);
  const done = await post(started, weak, /\/password$/, { password: 'the new password 2' });
  t.truthy((await completeAuthorization(rp, started, done)).access_token);

  t.false((await oidc.tokenIntrospection(rp, before.tokens.refresh_token!)).active, 'old refresh token revoked');
  t.false((await oidc.tokenIntrospection(rp, before.tokens.access_token)).active, 'old access token revoked');
  await t.throwsAsync(signIn(rp, { email: 'forgetful@example.com', password: 'the old password 1', scope: 'openid' }));
  t.truthy((await signIn(rp, { email: 'forgetful@example.com', password: 'the new password 2', scope: 'openid' })).tokens.access_token);
});

test.serial('malformed phone numbers and emails get a clear message and keep what was typed', async (t) => {
  const started = await beginAuthorization(rp, 'openid');
  for (const [identifier, message] of [['12', /Enter a valid phone number with the country code, for example \+49/], ['+1 555', /too short for its country code/], ['+999 1234567', /No country has the code this number starts with/], ['ada@', /valid email/], ['', /email address or phone number/]] as const) {
    const page = await post(started, started.page, /\/code$/, { identifier });
    t.is(page.status, 400, identifier);
    t.regex(page.body, message);
    if (identifier) t.true(page.body.includes(`value="${identifier}"`), identifier);
  }
});

test.serial('SMTP down: a clear "could not send" page, the typed address kept, nothing created', async (t) => {
  const down = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: 'smtp://127.0.0.1:1', SMS_WEBHOOK_URL: sms.url });
  t.teardown(() => down.stop());
  const downRp = await registerClient(down.issuer);
  const started = await beginAuthorization(downRp, 'openid');
  const page = await post(started, started.page, /\/code$/, { identifier: 'nobody@example.com' });
  t.is(page.status, 503);
  t.regex(page.body, /could not send/);
  t.regex(page.body, /value="nobody@example.com"/);
  t.is(Number((await down.runtime.db('flows').count({ n: '*' }).first())!.n), 0);
  t.is(Number((await down.runtime.db('accounts').count({ n: '*' }).first())!.n), 0);
});

test.serial('prompt=create opens registration', async (t) => {
  const started = await beginAuthorization(rp, 'openid', { prompt: 'create' });
  t.is(started.page.status, 200);
  t.regex(started.page.body, /autocomplete="new-password"/);
  t.true((rp.serverMetadata().prompt_values_supported as string[] | undefined)?.includes('create') ?? false);
});
