// Behind a proxy, the client writes the start of X-Forwarded-For: it may not
// decide whom a per-IP limit counts.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { createBrowser, readForm } from './helpers/browser.ts';

const randomIp = () => [...randomBytes(4)].join('.');

/** Enters a wrong device user code with each X-Forwarded-For from `forwardedFor` (RFC 8628 §5.1 limits them per IP); the statuses, until the first 429. */
async function wrongCodes(server: TestServer, forwardedFor: (attempt: number) => string, attempts: number): Promise<number[]> {
  const browser = createBrowser();
  let page = await browser.follow(`${server.issuer}/device`);
  const statuses: number[] = [];
  for (let i = 0; i < attempts && statuses.at(-1) !== 429; i++) {
    const form = readForm(page, /\/device$/);
    page = await browser.follow(form.action, undefined, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor(i) },
      body: new URLSearchParams({ ...form.hidden, user_code: 'BCDF-GHJK' }).toString(),
    });
    statuses.push(page.status);
  }
  return statuses;
}

// OWASP ASVS V11 (anti-automation keyed on the client): with one proxy in front,
// the address that proxy appended (the right-most) is the client's; what the
// client itself put before it is forged at will.
test('TRUST_PROXY: per-IP limits count the address the proxy appended, not a forged left-most one', async (t) => {
  const server = await startTestServer({ TRUST_PROXY: 'true' });
  t.teardown(() => server.stop());
  // 10 wrong codes per IP per 15 minutes: the 11th from 203.0.113.7 is refused whatever comes before it.
  t.deepEqual(await wrongCodes(server, () => `${randomIp()}, 203.0.113.7`, 11), [...Array(10).fill(200), 429]);
  // Another client behind the same proxy is not affected.
  t.deepEqual(await wrongCodes(server, () => '203.0.113.7, 198.51.100.9', 1), [200]);
});

test('TRUST_PROXY_HOPS=2: the address the outer of two proxies appended', async (t) => {
  const server = await startTestServer({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2' });
  t.teardown(() => server.stop());
  t.deepEqual(await wrongCodes(server, (i) => `${randomIp()}, 203.0.113.7, 10.0.0.${i + 1}`, 11), [...Array(10).fill(200), 429]);
});
