// RFC 8628 §5.1: guessing user codes is limited per IP and globally. One
// server for the file; each test comes from its own local address (127.0.0.1
// for the first, 127.0.0.x for the others: all loopback on Linux) and runs
// serially, since some of them set the global count.
import test from 'ava';
import { startTestServer } from './helpers/server.ts';
import { createBrowser, readForm } from './helpers/browser.ts';
import { fetchFrom } from './helpers/local-address.ts';
import { createLimiters } from '../server/rate-limit/limiters.ts';
import { DEVICE_LIMITS } from '../server/verification/limits.ts';
import type { TestServer } from './helpers/server.ts';

const TEST_IAT = 'test-initial-access-token-0123456789abcdef';
let server: TestServer;

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
});

test.after.always(async () => {
  await server?.stop();
});

const WRONG = 'BCDF-GHJK';
const notCorrect = /That code is not correct/;

/**
 * A browser at /device, from its own local address when given (127.0.0.x is
 * loopback): enters codes one after another, each from the form of the page
 * before (oidc-provider renews the form's xsrf secret with every page).
 */
async function deviceEntry(localAddress?: string) {
  const browser = createBrowser(localAddress ? { fetch: fetchFrom(localAddress) } : {});
  let page = await browser.follow(`${server.issuer}/device`);
  return async (userCode = WRONG) => {
    const form = readForm(/<form[^>]*deviceInputForm/.test(page.body) ? page : await browser.follow(`${server.issuer}/device`), /\/device$/);
    page = await browser.submit(form.action, { ...form.hidden, user_code: userCode });
    return page;
  };
}

/** `count` browsers from one address, each with its form open: their wrong codes can go at once. */
async function deviceEntries(localAddress: string, count: number) {
  const entries: Array<Awaited<ReturnType<typeof deviceEntry>>> = [];
  for (let i = 0; i < count; i++) entries.push(await deviceEntry(localAddress));
  return () => Promise.all(entries.map((enter) => enter()));
}

/**
 * The global count of wrong user codes, as another process of this deployment
 * sees it: the same storage and limiter (server/oidc/device-flow.ts).
 */
function globalWrongCodes() {
  const { db, redis, config } = server.runtime;
  return createLimiters({ db, redis, prefix: config.redisPrefix }).custom('device-user-code-global', DEVICE_LIMITS.failuresGlobalPerHour, 3600);
}

test.serial('wrong user codes are limited per IP (RFC 8628 §5.1)', async (t) => {
  const browser = createBrowser();
  let page = await browser.follow(`${server.issuer}/device`);
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    const form = readForm(page, /\/device$/);
    page = await browser.submit(form.action, { ...form.hidden, user_code: 'BCDF-GHJK' });
    statuses.push(page.status);
    if (page.status === 429) break;
  }
  t.is(statuses.at(-1), 429, statuses.join(','));
  t.regex(page.body, /too many wrong codes/);
  t.true(statuses.slice(0, -1).every((s) => s === 200));
});


test.serial('wrong user codes count under every spelling the router answers: /DEVICE, /Device, /device/ (RFC 8628 §5.1)', async (t) => {
  const browser = createBrowser({ fetch: fetchFrom('127.0.0.4') });
  let page = await browser.follow(`${server.issuer}/device`);
  // oidc-provider's router folds ASCII case and drops one trailing slash, so each of these is the code entry.
  const spellings = ['/DEVICE', '/Device', '/device/', '/dEvIcE/'];
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    const form = readForm(page, /\/device$/);
    page = await browser.submit(`${server.issuer}${spellings[i % spellings.length]}`, { ...form.hidden, user_code: 'BCDF-GHJK' });
    statuses.push(page.status);
    if (page.status === 200) t.regex(page.body, /That code is not correct/, 'the router did answer this spelling');
    if (page.status === 429) break;
  }
  t.deepEqual(statuses, [...Array(10).fill(200), 429], 'the 11th wrong code, whatever the spelling, is refused');
  t.regex(page.body, /too many wrong codes/);
  for (const spelling of ['/device', ...spellings]) {
    const form = readForm(await browser.follow(`${server.issuer}/device`), /\/device$/);
    const refused = await browser.submit(`${server.issuer}${spelling}`, { ...form.hidden, user_code: 'BCDF-GHJK' });
    t.is(refused.status, 429, spelling);
  }
});

test.serial('concurrent wrong user codes from one address: exactly the limit is checked, the rest refused', async (t) => {
  const pages = await (await deviceEntries('127.0.0.5', 30))();
  const checked = pages.filter((p) => p.status === 200 && notCorrect.test(p.body)).length;
  const refused = pages.filter((p) => p.status === 429).length;
  t.is(checked, DEVICE_LIMITS.failuresPerIpPer15Minutes, `${checked} checked, ${refused} refused`);
  t.is(refused, 30 - DEVICE_LIMITS.failuresPerIpPer15Minutes);
});

test.serial('concurrent wrong user codes never take the global count past its limit', async (t) => {
  const global = globalWrongCodes();
  await global.reset('all');
  t.teardown(() => global.reset('all'));
  // An address that already used its tries allowed over the global limit.
  const enter = await deviceEntry('127.0.0.2');
  for (let i = 0; i < DEVICE_LIMITS.freshAddressTriesOverGlobalLimit; i++) t.regex((await enter()).body, notCorrect);
  const burst = await deviceEntries('127.0.0.2', 20);
  // 4 wrong codes left before the global limit (counted as by other addresses), 20 sent at once.
  await global.consume('all', DEVICE_LIMITS.failuresGlobalPerHour - DEVICE_LIMITS.freshAddressTriesOverGlobalLimit - 4);
  const pages = await burst();
  t.is(pages.filter((p) => p.status === 200 && notCorrect.test(p.body)).length, 4);
  t.is(pages.filter((p) => p.status === 429).length, 16);
});

test.serial('with the global limit reached, an address with no recent failures still gets its first tries (RFC 8628 §5.1)', async (t) => {
  const global = globalWrongCodes();
  await global.reset('all');
  t.teardown(() => global.reset('all'));
  const guesser = await deviceEntry('127.0.0.6');
  for (let i = 0; i < DEVICE_LIMITS.freshAddressTriesOverGlobalLimit; i++) t.regex((await guesser()).body, notCorrect, 'wrong codes before the flood');
  // The rest of the hour's wrong codes, as from many other addresses.
  await global.consume('all', DEVICE_LIMITS.failuresGlobalPerHour - DEVICE_LIMITS.freshAddressTriesOverGlobalLimit);

  const again = await guesser();
  t.is(again.status, 429, 'an address with recent failures is refused while the global limit is exceeded');
  t.regex(again.body, /too many wrong codes/);

  // A person at another address: a typo or two, then the right code, still works.
  const person = await deviceEntry('127.0.0.7');
  for (let i = 1; i < DEVICE_LIMITS.freshAddressTriesOverGlobalLimit; i++) t.regex((await person()).body, notCorrect, `typo ${i}`);
  const { user_code: userCode } = await (await fetch(`${server.issuer}/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: await deviceClient(), scope: 'openid' }),
  })).json() as { user_code: string };
  const confirm = await person(userCode);
  t.is(confirm.status, 200);
  t.regex(confirm.body, /Only continue if you started this yourself/, 'the right code reaches the confirmation');
  // The right code gave its count back: one wrong try is left of the allowance, then refusals.
  t.regex((await person()).body, notCorrect, `wrong try ${DEVICE_LIMITS.freshAddressTriesOverGlobalLimit}`);
  t.is((await person()).status, 429, 'beyond the allowance, refused while the global limit is exceeded');
});

/** A public device-flow client, registered with the test's initial access token. */
async function deviceClient(): Promise<string> {
  const response = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_IAT}` },
    body: JSON.stringify({
      client_name: 'TV', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [], redirect_uris: [],
      token_endpoint_auth_method: 'none',
    }),
  });
  return ((await response.json()) as { client_id: string }).client_id;
}
