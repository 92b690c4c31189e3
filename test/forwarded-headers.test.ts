// Behind a proxy, the client writes the start of X-Forwarded-For and the Host
// header: neither may decide whom a limit counts or where a URL points.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startTestServer } from './helpers/server.ts';
import { createBrowser, readForm } from './helpers/browser.ts';

const randomIp = () => [...randomBytes(4)].join('.');

// OWASP ASVS V11 (anti-automation keyed on the client): with one proxy in front,
// the address that proxy appended (the right-most) is the client's; what the
// client itself put before it is forged at will.
test('TRUST_PROXY: per-IP limits count the address the proxy appended, not a forged left-most one', async (t) => {
  const server = await startTestServer({ TRUST_PROXY: 'true' });
  t.teardown(() => server.stop());
  const browser = createBrowser();
  let page = await browser.follow(`${server.issuer}/device`);
  const statuses: number[] = [];
  const enterWrongCode = async (forwardedFor: string) => {
    const form = readForm(page, /\/device$/);
    page = await browser.follow(form.action, undefined, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
      body: new URLSearchParams({ ...form.hidden, user_code: 'BCDF-GHJK' }).toString(),
    });
    return page.status;
  };
  // RFC 8628 §5.1 limit: 10 wrong codes per IP per 15 minutes.
  for (let i = 0; i < 11; i++) {
    statuses.push(await enterWrongCode(`${randomIp()}, 203.0.113.7`));
    if (statuses.at(-1) === 429) break;
  }
  t.deepEqual(statuses, [...Array(10).fill(200), 429], 'the 11th wrong code from 203.0.113.7 is refused whatever comes before it');
  // Another client behind the same proxy is not affected.
  page = await browser.follow(`${server.issuer}/device`);
  t.is(await enterWrongCode(`203.0.113.7, 198.51.100.9`), 200);
});

test('TRUST_PROXY_HOPS=2: the address the outer of two proxies appended', async (t) => {
  const server = await startTestServer({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2' });
  t.teardown(() => server.stop());
  const browser = createBrowser();
  let page = await browser.follow(`${server.issuer}/device`);
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    const form = readForm(page, /\/device$/);
    page = await browser.follow(form.action, undefined, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `${randomIp()}, 203.0.113.7, 10.0.0.${i + 1}` },
      body: new URLSearchParams({ ...form.hidden, user_code: 'BCDF-GHJK' }).toString(),
    });
    statuses.push(page.status);
    if (page.status === 429) break;
  }
  t.deepEqual(statuses, [...Array(10).fill(200), 429]);
});
