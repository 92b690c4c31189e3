// Limits on guessing must not become a way to lock a person out (issue 10):
// per-identifier limits count an address however it is spelled, and what an
// attacker does from elsewhere does not stop the person on their own browser.
// Clients are told apart by IP (bound to 127.0.0.x local addresses, all
// loopback on Linux) and by the known-device cookie.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { fetchFrom } from './helpers/local-address.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { identifierKey } from '../server/accounts/identifiers.ts';
import { createLimiters } from '../server/rate-limit/limiters.ts';
import { CODE_LIMITS, PASSWORD_LIMITS } from '../server/verification/limits.ts';
import { waitAfterFailures } from '../server/verification/password-attempts.ts';

type Browser = ReturnType<typeof createBrowser>;

let server: TestServer;
let smtp: SmtpCapture;
let rp: oidc.Configuration;
let nextAddress = 10;

test.before(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url });
  rp = await registerClient(server.issuer, { scope: 'openid email' });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const tooMany = (page: Page) => Number(/Too many attempts\. Try again in (\d+) s\./.exec(page.body)?.[1] ?? NaN);

/** A browser with an IP of its own (127.0.0.10, .11, …): no test shares another's per-IP counts. */
const browserWithOwnIp = (): Browser => createBrowser({ fetch: fetchFrom(`127.0.0.${nextAddress++}`) });

async function newPerson() {
  const person = { email: `person-${randomBytes(6).toString('hex')}@example.com`, password: 'the right passphrase 42' };
  await createAccount(server.runtime.db, person);
  return person;
}

/** Opens an authorization request in `browser` (prompt=login: also when it is signed in); returns the sign-in page. */
async function openSignIn(browser: Browser) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', state, prompt: 'login',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const page = await browser.follow(url.href, REDIRECT_URI);
  const form = readForm(page, /\/code$/);
  return { page, form, verifier, state };
}

/** Password sign-in attempts on one sign-in page; each answer is the page it leads to (401, 429, or the client). */
async function passwordForm(browser: Browser) {
  const { form } = await openSignIn(browser);
  return (identifier: string, password: string): Promise<Page> =>
    browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier, password }, REDIRECT_URI);
}

/** The same address typed three other ways. */
const spellings = (email: string) => [email.toUpperCase(), email.replace(/^p/, 'P'), ` ${email.replace('@example.com', '@EXAMPLE.com')} `];

test('wrong passwords from unknown browsers count for the address however its case is typed', async (t) => {
  const person = await newPerson();
  const attempt = await passwordForm(browserWithOwnIp());
  let failedSentAt = 0;
  for (let i = 0; i < PASSWORD_LIMITS.freeFailuresPerIdentifier; i++) {
    failedSentAt = Date.now();
    t.is((await attempt(person.email, `wrong ${i}`)).status, 401);
  }
  // From another address, so only the identifier's wait can refuse it. The wait is 1 s
  // from the last failure: a try answered within it must be refused (a slow run checks less).
  const elsewhere = await passwordForm(browserWithOwnIp());
  for (const spelling of spellings(person.email)) {
    const page = await elsewhere(spelling, 'another wrong one');
    if (Date.now() - failedSentAt < 1000) t.is(page.status, 429, `${spelling}: ${page.body.match(/Too many[^<]*/)?.[0] ?? 'not refused'}`);
  }
});

test('wrong passwords from a known device count for the address however its case is typed', async (t) => {
  const person = await newPerson();
  const own = browserWithOwnIp();
  t.true(await reachedClient(own, await signInWithPassword(own, person)), 'signed in once: a known device');
  /** The same browser (its cookies, so the same device) from another address: per-IP counts stay apart. */
  const sameDevice = () => {
    const browser = browserWithOwnIp();
    for (const [name, cookie] of own.cookies) browser.cookies.set(name, cookie);
    return browser;
  };
  const [first, second, third] = spellings(person.email);
  const half = PASSWORD_LIMITS.failuresPerKnownDevicePerDay / 2;
  for (const [browser, spelling] of [[own, person.email], [sameDevice(), first!]] as const) {
    const attempt = await passwordForm(browser);
    for (let i = 0; i < half; i++) t.is((await attempt(spelling, `wrong ${i}`)).status, 401, `${spelling} ${i + 1}`);
  }
  for (const spelling of [second!, third!]) {
    const page = await (await passwordForm(sameDevice()))(spelling, person.password);
    t.is(page.status, 429, `${spelling}: the device's 100 failures, however typed, refuse even the right password`);
  }
});

/** From the page after a sign-in: through consent if asked, to the client; true when it got there. */
async function reachedClient(browser: Browser, page: Page): Promise<boolean> {
  if (!page.url.startsWith(REDIRECT_URI) && /\/confirm"/.test(page.body)) {
    const consent = readForm(page, /\/confirm$/);
    page = await browser.submit(consent.action, consent.hidden, REDIRECT_URI);
  }
  return page.url.startsWith(REDIRECT_URI);
}

/** Signs in with the right password: the browser becomes a known device of the account. */
async function signInWithPassword(browser: Browser, person: { email: string; password: string }): Promise<Page> {
  const attempt = await passwordForm(browser);
  return attempt(person.email, person.password);
}

/** Starts a sign-in by code for `email` in `browser`: the code page (200) or a refusal (429). */
async function startCodeSignIn(browser: Browser, email: string): Promise<Page> {
  const { form } = await openSignIn(browser);
  return browser.submit(form.action, { ...form.hidden, identifier: email }, REDIRECT_URI);
}

/** The code in the first mail to `email` from `from` on in the capture's list. */
async function codeMailedTo(email: string, from: number): Promise<string> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const mail = smtp.messages.slice(from).find((m) => m.envelopeTo.includes(email));
    if (mail) return /\b(\d{6})\b/.exec(mail.text ?? '')![1]!;
    await sleep(50);
  }
  throw new Error(`no mail to ${email}`);
}

/** The limiters of this server's storage, as another process of the deployment sees them. */
function storageLimiters() {
  const { db, redis, config } = server.runtime;
  return createLimiters({ db, redis, prefix: config.redisPrefix });
}

test('strangers starting sign-ins for a person do not stop the person\'s own known browser getting a code', async (t) => {
  const person = await newPerson();
  const own = browserWithOwnIp();
  t.true(await reachedClient(own, await signInWithPassword(own, person)), 'signed in once: a known device');

  // Three strangers, each from their own address, start more sign-ins than the person's hourly codes.
  const sent: number[] = [];
  for (const stranger of [browserWithOwnIp(), browserWithOwnIp(), browserWithOwnIp()]) {
    let codes = 0;
    for (let i = 0; i < CODE_LIMITS.sendsPerIdentifierPerIpPerHour + 1; i++) {
      const page = await startCodeSignIn(stranger, person.email);
      if (page.status === 200 && /one-time-code/.test(page.body)) codes++;
      else t.is(page.status, 429, `stranger flow ${i + 1}: ${page.status}`);
    }
    sent.push(codes);
  }
  t.true(sent.every((n) => n <= CODE_LIMITS.sendsPerIdentifierPerIpPerHour), `per address: ${sent.join(', ')}`);
  t.is(sent.reduce((a, b) => a + b, 0), CODE_LIMITS.sendsPerIdentifierPerHour, 'strangers together: the identifier-wide cap');

  const before = smtp.messages.length;
  const codePage = await startCodeSignIn(own, person.email);
  t.is(codePage.status, 200, codePage.body.match(/Too many[^<]*/)?.[0] ?? '');
  const code = await codeMailedTo(person.email, before);
  const form = readForm(codePage, /\/code$/);
  t.true(await reachedClient(own, await own.submit(form.action, { ...form.hidden, code }, REDIRECT_URI)), 'signed in by code');
});

test('a stranger\'s 100+ wrong passwords do not stop the person\'s known browser; the 100-failure cap binds only unknown browsers', async (t) => {
  const person = await newPerson();
  const own = browserWithOwnIp();
  t.true(await reachedClient(own, await signInWithPassword(own, person)), 'signed in once: a known device');

  const stranger = await passwordForm(browserWithOwnIp());
  const statuses: number[] = [];
  const started = Date.now();
  for (let i = 0; i < 105; i++) statuses.push((await stranger(person.email, `wrong ${i}`)).status);
  const seconds = (Date.now() - started) / 1000;
  t.true(statuses.every((s) => s === 401 || s === 429), statuses.join(','));
  // 5 free failures, then waits of 1, 2, 4, … s: in `seconds`, k more fit when 2^k − 1 ≤ seconds.
  const checked = statuses.filter((s) => s === 401).length;
  const most = PASSWORD_LIMITS.freeFailuresPerIdentifier + Math.floor(Math.log2(seconds + 1)) + 1;
  t.true(checked >= PASSWORD_LIMITS.freeFailuresPerIdentifier && checked <= most, `${checked} checked in ${seconds} s (at most ${most}), the rest told to wait`);

  t.true(await reachedClient(own, await signInWithPassword(own, person)), 'the known browser signs in with the right password');

  // Even with the NIST SP 800-63B §5.2.2 cap of 100 reached by strangers, as over a day:
  const key = identifierKey({ kind: 'email', value: person.email });
  await storageLimiters().passwordFailuresPerIdentifier.consume(key, PASSWORD_LIMITS.failuresPerIdentifierPerDay);
  const unknown = await (await passwordForm(browserWithOwnIp()))(person.email, person.password);
  t.is(unknown.status, 429, 'an unknown browser is refused, even with the right password');
  t.true(tooMany(unknown) > PASSWORD_LIMITS.maxWaitSeconds, `for the rest of the day: ${tooMany(unknown)} s`);
  t.true(await reachedClient(own, await signInWithPassword(own, person)), 'the known browser still signs in');
});

test('an unknown browser waits longer after each wrong password, not 24 hours; the right password clears it', async (t) => {
  const person = await newPerson();
  const attempt = await passwordForm(browserWithOwnIp());
  const free = PASSWORD_LIMITS.freeFailuresPerIdentifier;
  let failures = 0;
  let failedSentAt = 0;
  let failedAt = 0;
  for (let i = 0; i < free; i++) {
    failedSentAt = Date.now();
    t.is((await attempt(person.email, `wrong ${i}`)).status, 401, `free failure ${i + 1}`);
    failedAt = Date.now();
    failures++;
  }
  // Each failure sets its wait between our sending it and its answer, so a try answered within
  // `wait` of sending the failure surely came too soon, and one answered within the growth of the
  // wait is surely told more than the wait before. A slower machine only makes fewer such tries.
  const grew: string[] = [];
  let probedAfter = 0;
  for (;;) {
    const wait = waitAfterFailures(failures);
    const sentAt = Date.now();
    const page = await attempt(person.email, `try after ${failures} failures`);
    const since = Date.now() - failedSentAt;
    if (since < wait * 1000) t.is(page.status, 429, `within ${wait} s of failure ${failures}`);
    if (page.status === 429) {
      const told = tooMany(page);
      const before = waitAfterFailures(failures - 1);
      t.true(told >= 1 && told <= wait, `told ${told} s after failure ${failures}, the wait is ${wait} s`);
      if (probedAfter !== failures && since < (wait - before) * 1000) {
        t.true(told > before, `after failure ${failures} told ${told} s, more than the ${before} s before`);
        grew.push(`${told} s`);
      }
      probedAfter = failures;
      if (failures >= free + 2) break;
      await sleep(Math.max(0, failedAt + wait * 1000 + 200 - Date.now()));
      continue;
    }
    t.is(page.status, 401);
    failures++;
    [failedSentAt, failedAt] = [sentAt, Date.now()];
  }
  t.log(`told waits that show the growth: ${grew.join(', ') || 'none (a slow run)'}`);
  await sleep(Math.max(0, failedAt + waitAfterFailures(failures) * 1000 + 200 - Date.now()));

  const browser = browserWithOwnIp();
  t.true(await reachedClient(browser, await (await passwordForm(browser))(person.email, person.password)), 'the right password, from anywhere, once the wait is over');
  t.is((await attempt(person.email, 'wrong after success')).status, 401, 'the count starts again');
});

test('strangers\' wrong codes do not lock the person\'s known browser out of sign-in by code', async (t) => {
  const person = await newPerson();
  const own = browserWithOwnIp();
  t.true(await reachedClient(own, await signInWithPassword(own, person)), 'signed in once: a known device');
  // As if strangers had entered 100 wrong codes for the address (NIST SP 800-63B §5.2.2), over a day.
  const key = identifierKey({ kind: 'email', value: person.email });
  await storageLimiters().codeFailuresPerIdentifier.consume(key, CODE_LIMITS.verifyFailuresPerIdentifierPerDay);

  const stranger = browserWithOwnIp();
  let before = smtp.messages.length;
  let page = await startCodeSignIn(stranger, person.email);
  let code = await codeMailedTo(person.email, before);
  let form = readForm(page, /\/code$/);
  t.is((await stranger.submit(form.action, { ...form.hidden, code }, REDIRECT_URI)).status, 429, 'an unknown browser is refused, even the right code');

  before = smtp.messages.length;
  page = await startCodeSignIn(own, person.email);
  code = await codeMailedTo(person.email, before);
  form = readForm(page, /\/code$/);
  t.true(await reachedClient(own, await own.submit(form.action, { ...form.hidden, code }, REDIRECT_URI)), 'the known browser signs in by code');
});

test('concurrent wrong passwords from unknown browsers: once the free failures are used, one try at a time', async (t) => {
  const person = await newPerson();
  const attempt = await passwordForm(browserWithOwnIp());
  let failedAt = 0;
  for (let i = 0; i < PASSWORD_LIMITS.freeFailuresPerIdentifier; i++) {
    t.is((await attempt(person.email, `wrong ${i}`)).status, 401);
    failedAt = Date.now();
  }
  // Ten strangers' sign-in pages open, then all of them try at once when the wait is over.
  const forms = [];
  for (let i = 0; i < 10; i++) forms.push(await passwordForm(browserWithOwnIp()));
  await sleep(Math.max(0, failedAt + waitAfterFailures(PASSWORD_LIMITS.freeFailuresPerIdentifier) * 1000 + 200 - Date.now()));
  const statuses = (await Promise.all(forms.map((form, i) => form(person.email, `at once ${i}`)))).map((p) => p.status);
  t.is(statuses.filter((s) => s === 401).length, 1, `one checked: ${statuses.join(',')}`);
  t.is(statuses.filter((s) => s === 429).length, 9);
});

test('a sign-in makes the browser a known device: a signed, httpOnly, SameSite=Lax cookie for a year; only its hash is stored', async (t) => {
  const person = await newPerson();
  const browser = browserWithOwnIp();
  const { form } = await openSignIn(browser);
  // The answer to the password itself (before the redirects), where the cookie is set.
  const answer = await browser.request(form.action.replace(/\/code$/, '/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'lockout-test/1.0' },
    body: new URLSearchParams({ ...form.hidden, identifier: person.email, password: person.password }).toString(),
  });
  t.is(answer.status, 303);
  const cookies = answer.headers.getSetCookie().filter((c) => c.startsWith('enot_device'));
  const device = cookies.find((c) => c.startsWith('enot_device='));
  t.truthy(device, cookies.join(' | '));
  t.truthy(cookies.find((c) => c.startsWith('enot_device.sig=')), 'signed');
  t.regex(device!, /; httponly/i);
  t.regex(device!, /; samesite=lax/i);
  t.regex(device!, /; path=\//);
  const expires = new Date(/; expires=([^;]+)/.exec(device!)![1]!).getTime();
  t.true(Math.abs(expires - Date.now() - 365 * 24 * 3600 * 1000) < 24 * 3600 * 1000, `expires ${new Date(expires).toISOString()}`);

  const id = /^enot_device=([^;]+)/.exec(device!)![1]!;
  const account = await server.runtime.db('accounts').first('id').where({ email: person.email });
  const rows = await server.runtime.db('known_devices').where({ account_id: account.id });
  t.is(rows.length, 1);
  t.is(rows[0].device_hash, createHash('sha256').update(id).digest('base64url'));
  t.is(rows[0].user_agent, 'lockout-test/1.0');
  t.false(JSON.stringify(rows).includes(id), 'the id itself is not stored');

  // With strangers' 100 failures reached, only known devices sign in: the device id
  // without its signature is no known device.
  await storageLimiters().passwordFailuresPerIdentifier.consume(identifierKey({ kind: 'email', value: person.email }), PASSWORD_LIMITS.failuresPerIdentifierPerDay);
  const forger = browserWithOwnIp();
  forger.cookies.set('enot_device;/', { name: 'enot_device', value: id, path: '/' });
  t.is((await signInWithPassword(forger, person)).status, 429, 'the unsigned id counts as an unknown browser');
  t.true(await reachedClient(browser, await signInWithPassword(browser, person)), 'the signed one is the known device');
});
