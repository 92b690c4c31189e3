// Dependency loss: PostgreSQL and Redis sit behind TCP proxies this test
// controls. Under a light load (client-credentials tokens and introspections),
// the connection is cut: requests must fail fast with 503 and an error body
// (JSON, or a page for browsers), /readyz must name the failing dependency, and
// within 5 s of the connection's return everything works again, with no token
// that was answered 200 lost.
import test from 'ava';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { registerClient, REDIRECT_URI, TEST_IAT } from '../helpers/oidc.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { proxiedStorage, type ProxiedStorage } from './proxied-storage.ts';
import { ROOT } from '../helpers/process.ts';
import { CLIENT_SCOPE, RESOURCE_SERVERS, SMALL_RETRY_AFTER, describe, sleep, tokenLoad } from './token-load.ts';

/** A stack trace line, a dependency path or a path of this checkout. */
const LEAK = new RegExp(`\\n\\s+at .+:\\d+:\\d+|node_modules|${ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const enabled = Boolean(DATABASE_URL && REDIS_URL);
const serial = enabled ? test.serial : test.skip;
const why = enabled ? '' : ' (skipped: needs DATABASE_URL and REDIS_URL — PostgreSQL and Redis to put behind a proxy)';

const CONCURRENCY = 4;
/** "Fail fast": an answer within this, even while a dependency is gone. */
const FAST_MS = 3_000;
/** Everything works again within this after the connection returns. */
const RECOVERY_MS = 5_000;
/** A request that takes longer than this is counted as hanging. */
const HANG_MS = 15_000;

let server: TestServer;
let storage: ProxiedStorage | undefined;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let basic: string;
let clientId: string;
const load = tokenLoad({ url: () => server.url, basic: () => basic, hangMs: HANG_MS });

/**
 * A browser opening the authorization endpoint: the client is looked up in
 * PostgreSQL (or the process's short-lived client cache), the interaction is
 * saved in Redis. A client the server does not know needs PostgreSQL every time.
 */
function browserPage(client: string) {
  const query = new URLSearchParams({
    client_id: client,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  return load.send('page', 303, `/auth?${query}`, { headers: { accept: 'text/html' } });
}

test.before(async () => {
  if (!enabled) return;
  storage = await proxiedStorage({ databaseUrl: DATABASE_URL!, redisUrl: REDIS_URL! }, { INITIAL_ACCESS_TOKEN: TEST_IAT, RESOURCE_SERVERS });
  ({ pgProxy, redisProxy } = storage);
  server = await startTestServer({}, storage.environment);
  const rp = await registerClient(server.issuer, { scope: `openid ${CLIENT_SCOPE}` });
  const { client_id, client_secret } = rp.clientMetadata();
  clientId = client_id;
  basic = `Basic ${Buffer.from(`${client_id}:${client_secret as string}`).toString('base64')}`;
});

test.after.always(async () => {
  if (!enabled) return;
  await pgProxy?.restore();
  await redisProxy?.restore();
  await server?.stop();
  await storage?.cleanup();
});

for (const scenario of [
  { lost: 'Redis', proxies: () => [redisProxy], checks: ['redis'] },
  { lost: 'PostgreSQL', proxies: () => [pgProxy], checks: ['database'] },
  { lost: 'PostgreSQL and Redis', proxies: () => [pgProxy, redisProxy], checks: ['database', 'redis'] },
]) {
  serial(`losing ${scenario.lost} mid-load: fast 503s, readyz says so, back within 5 s, no token lost${why}`, async (t) => {
    const running = load.start(CONCURRENCY);
    await sleep(1_000);
    const before = running.answers.length;

    await Promise.all(scenario.proxies().map((p) => p.cut()));
    // Let the load run into the outage, and look at it from outside.
    await sleep(1_500);
    const ready = await load.readyz();
    // Without PostgreSQL, a client it must look up; without Redis only, the registered one (the interaction needs Redis).
    const page = await browserPage(scenario.checks.includes('database') ? 'no-such-client' : clientId);
    await sleep(1_500);

    await Promise.all(scenario.proxies().map((p) => p.restore()));
    const recovery = await load.timeToRecover();
    await sleep(500);
    const answers = await running.stop();

    const during = answers.slice(before).filter((a) => a.status !== a.expected);
    t.log(`${answers.length} answers (${answers.filter((a) => a.status === a.expected).length} as usual, ${during.length} failed), recovered in ${Math.round(recovery)} ms`);

    // readyz names what is failing.
    t.is(ready.status, 503, ready.text);
    t.is(ready.body?.status, 'failing');
    for (const check of scenario.checks) t.is(ready.body?.checks[check], 'failing', ready.text);
    t.regex(ready.retryAfter ?? '', SMALL_RETRY_AFTER, 'readyz says when to ask again');

    // The load did run into the outage, and every failure was a fast, clean 503.
    t.true(during.length > 0, 'some requests fell into the outage');
    for (const a of during) {
      t.is(a.status, 503, describe(a));
      t.true(a.ms < FAST_MS, `answered fast: ${describe(a)}`);
      t.true(a.contentType.startsWith('application/json'), describe(a));
      t.is((JSON.parse(a.text) as { error?: string }).error, 'temporarily_unavailable', describe(a));
      t.regex(a.retryAfter ?? '', SMALL_RETRY_AFTER, `Retry-After: ${describe(a)}`);
      t.notRegex(a.text, LEAK, 'no stack trace or file paths');
    }
    // Nothing answered after the cut hung.
    const slow = answers.filter((a) => a.ms >= FAST_MS);
    t.deepEqual(slow.map(describe), [], 'no request took long');

    // A browser gets a page, not JSON.
    t.is(page.status, 503, describe(page));
    t.true(page.contentType.startsWith('text/html'), describe(page));
    t.regex(page.retryAfter ?? '', SMALL_RETRY_AFTER, `Retry-After: ${describe(page)}`);
    t.notRegex(page.text, LEAK);

    // Back within 5 s of the connection's return.
    t.true(recovery < RECOVERY_MS, `recovered in ${Math.round(recovery)} ms`);
  });
}

serial(`no access token answered 200 was lost${why}`, async (t) => {
  t.true(load.issued.length > 0);
  const lost = await load.lostTokens();
  for (const l of lost) t.log(`lost ${l}`);
  t.log(`${load.issued.length} tokens (${load.issued.filter((i) => i.opaque).length} opaque) introspected after recovery`);
  t.is(lost.length, 0);
});
