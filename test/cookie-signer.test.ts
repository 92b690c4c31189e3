// The cookie signer that replaces keygrip for koa and oidc-provider.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { cookieSigner } from '../server/keys/cookie-signer.ts';

const current = 'k'.repeat(32);
const previous = 'p'.repeat(32);

test('signs with the newest key and accepts a signature by any listed key', (t) => {
  const signer = cookieSigner([current, previous]);
  const signature = signer.sign('_session=abc');
  t.regex(signature, /^[A-Za-z0-9_-]{43}$/, 'HMAC-SHA-256, base64url');
  t.is(signer.index('_session=abc', signature), 0);
  const byPrevious = cookieSigner([previous]).sign('_session=abc');
  t.is(signer.index('_session=abc', byPrevious), 1, 'a cookie from before a key rotation still verifies');
  t.true(signer.verify('_session=abc', byPrevious));
});

test('refuses other data, other keys, altered and non-canonical signatures', (t) => {
  const signer = cookieSigner([current, previous]);
  const signature = signer.sign('_session=abc');
  t.is(signer.index('_session=abd', signature), -1);
  t.is(signer.index('_session=abc', cookieSigner(['x'.repeat(32)]).sign('_session=abc')), -1);
  t.is(signer.index('_session=abc', `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`), -1);
  t.is(signer.index('_session=abc', `${signature}=`), -1, 'padding is not ours');
  t.is(signer.index('_session=abc', ''), -1);
  t.is(signer.index('_session=abc', undefined as unknown as string), -1);
  t.throws(() => cookieSigner([]), { message: /at least one key/ });
});

test('koa signs and reads cookies with it', async (t) => {
  const app = new Koa();
  app.keys = cookieSigner([current]);
  app.use((ctx) => {
    if (ctx.path === '/set') ctx.cookies.set('s', 'value', { signed: true });
    else ctx.body = ctx.cookies.get('s', { signed: true }) ?? 'none';
  });
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const set = await fetch(`${base}/set`);
  const cookies = set.headers.getSetCookie().map((c) => c.split(';')[0]!);
  t.deepEqual(cookies.map((c) => c.split('=')[0]), ['s', 's.sig']);
  t.is(await (await fetch(`${base}/get`, { headers: { cookie: cookies.join('; ') } })).text(), 'value');
  const forged = cookies.map((c) => (c.startsWith('s=') ? 's=other' : c)).join('; ');
  t.is(await (await fetch(`${base}/get`, { headers: { cookie: forged } })).text(), 'none');
});
