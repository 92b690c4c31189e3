// RFC 8628 §5.1: guessing user codes is limited per IP (own server: the
// limit is per IP, and every test here comes from 127.0.0.1).
import test from 'ava';
import { startTestServer } from './helpers/server.ts';
import { createBrowser, readForm } from './helpers/browser.ts';

test('wrong user codes are limited per IP (RFC 8628 §5.1)', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
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


test('wrong user codes count under every spelling the router answers: /DEVICE, /Device, /device/ (RFC 8628 §5.1)', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const browser = createBrowser();
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
