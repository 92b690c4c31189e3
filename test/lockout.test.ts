// Limits on guessing must not become a way to lock a person out (issue 10):
// per-identifier limits count an address however it is spelled, and what an
// attacker does from elsewhere does not stop the person on their own browser.
// Clients are told apart by IP (bound to 127.0.0.x local addresses, all
// loopback on Linux) and by the known-device cookie.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { fetchFrom } from './helpers/local-address.ts';
import { createAccount } from '../server/accounts/create-account.ts';

type Browser = ReturnType<typeof createBrowser>;

let server: TestServer;
let rp: oidc.Configuration;
let nextAddress = 10;

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  rp = await registerClient(server.issuer, { scope: 'openid email' });
});

test.after.always(async () => {
  await server?.stop();
});

/** A browser with an IP of its own (127.0.0.10, .11, …): no test shares another's per-IP counts. */
const browserWithOwnIp = (): Browser => createBrowser({ fetch: fetchFrom(`127.0.0.${nextAddress++}`) });

async function newPerson() {
  const person = { email: `person-${randomBytes(6).toString('hex')}@example.com`, password: 'the right passphrase 42' };
  await createAccount(server.runtime.db, person);
  return person;
}

/** Opens an authorization request in `browser`; returns the sign-in page and what finishing needs. */
async function openSignIn(browser: Browser) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', state,
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

test('wrong passwords count for the address however its case is typed', async (t) => {
  const person = await newPerson();
  const attempt = await passwordForm(browserWithOwnIp());
  let refusedAfter = 0;
  for (let i = 1; i <= 101; i++) {
    const page = await attempt(person.email, `wrong ${i}`);
    if (page.status === 429) break;
    t.is(page.status, 401);
    refusedAfter = i;
  }
  t.true(refusedAfter <= 100, `refused after ${refusedAfter} wrong passwords`);
  // From another address, so only the identifier's count can refuse it.
  const elsewhere = await passwordForm(browserWithOwnIp());
  for (const spelling of [person.email.toUpperCase(), person.email.replace(/^p/, 'P'), ` ${person.email.replace('@example.com', '@EXAMPLE.com')} `]) {
    const page = await elsewhere(spelling, 'another wrong one');
    t.is(page.status, 429, `${spelling}: ${page.body.match(/Too many[^<]*/)?.[0] ?? 'not refused'}`);
  }
});
