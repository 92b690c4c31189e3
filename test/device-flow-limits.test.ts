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

