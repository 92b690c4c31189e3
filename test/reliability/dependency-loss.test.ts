// Dependency loss: PostgreSQL and Redis sit behind TCP proxies this test
// controls. Under a light load (client-credentials tokens and introspections),
// the connection is cut: requests must fail fast with 503 and an error body
// (JSON, or a page for browsers), /readyz must name the failing dependency, and
// within 5 s of the connection's return everything works again, with no token
// that was answered 200 lost.
import test from 'ava';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testEnvironment, type TestEnvironment } from '../helpers/environment.ts';
import { registerClient, REDIRECT_URI, TEST_IAT } from '../helpers/oidc.ts';
import { endpointOf, startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { ROOT } from '../helpers/process.ts';

/** A stack trace line, a dependency path or a path of this checkout. */
const LEAK = new RegExp(`\\n\\s+at .+:\\d+:\\d+|node_modules|${ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const enabled = Boolean(DATABASE_URL && REDIS_URL);
const serial = enabled ? test.serial : test.skip;
const why = enabled ? '' : ' (skipped: needs DATABASE_URL and REDIS_URL — PostgreSQL and Redis to put behind a proxy)';

// An API configured for opaque access tokens: those are stored (in Redis), so
// losing Redis could lose them; JWTs (the default resource) are not stored.
const OPAQUE_RESOURCE = 'https://opaque.example.test';
const RESOURCE_SERVERS = JSON.stringify([{ identifier: OPAQUE_RESOURCE, scope: 'things:read', accessTokenFormat: 'opaque' }]);

const CONCURRENCY = 4;
/** "Fail fast": an answer within this, even while a dependency is gone. */
const FAST_MS = 3_000;
/** Everything works again within this after the connection returns. */
const RECOVERY_MS = 5_000;
/** A request that takes longer than this is counted as hanging. */
const HANG_MS = 15_000;

interface Answer {
  what: 'token' | 'introspection' | 'page';
  status: number;
  ms: number;
  contentType: string;
  text: string;
  /** Set when no HTTP answer came (connection error or HANG_MS). */
  failure?: string;
}

let server: TestServer;
let environment: TestEnvironment;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let basic: string;
let clientId: string;
/** Every access token answered 200, with whether it is opaque. */
const issued: { token: string; opaque: boolean }[] = [];

async function send(what: Answer['what'], path: string, init: RequestInit): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(`${server.url}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(HANG_MS) });
    const text = await response.text();
    return { what, status: response.status, ms: performance.now() - started, contentType: response.headers.get('content-type') ?? '', text };
  } catch (err) {
    return { what, status: 0, ms: performance.now() - started, contentType: '', text: '', failure: String((err as Error).cause ?? err) };
  }
}

function post(what: Answer['what'], path: string, body: string) {
  return send(what, path, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
  });
}

async function token(opaque: boolean): Promise<Answer & { accessToken?: string }> {
  const body = opaque ? `grant_type=client_credentials&scope=things%3Aread&resource=${encodeURIComponent(OPAQUE_RESOURCE)}` : 'grant_type=client_credentials&scope=api%3Aread';
  const answer = await post('token', '/token', body);
  if (answer.status !== 200) return answer;
  const accessToken = (JSON.parse(answer.text) as { access_token: string }).access_token;
  issued.push({ token: accessToken, opaque });
  return { ...answer, accessToken };
}

function introspect(accessToken: string) {
  return post('introspection', '/token/introspection', `token=${encodeURIComponent(accessToken)}`);
}

function isActive(answer: Answer): boolean {
  return answer.status === 200 && (JSON.parse(answer.text) as { active?: boolean }).active === true;
}

/** A browser opening the authorization endpoint (client lookup in PostgreSQL, interaction in Redis). */
function browserPage() {
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  return send('page', `/auth?${query}`, { headers: { accept: 'text/html' } });
}

/** Token + introspection in a loop with CONCURRENCY workers until stop(); every answer recorded. */
function startLoad() {
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (running) {
      const opaque = n++ % 2 === 0;
      const t = await token(opaque);
      answers.push(t);
      if (t.accessToken) answers.push(await introspect(t.accessToken));
      // A light load: a short pause between rounds, a longer one after a failure.
      await sleep(t.status === 200 ? 20 : 50);
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(workers);
      return answers;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readyz() {
  const response = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(HANG_MS) });
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, string> } };
}

/** Polls until readyz is 200 and a token issues and introspects active; returns how long that took. */
async function timeToRecover(): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 20_000) {
    const ready = await readyz().catch(() => undefined);
    if (ready?.status === 200) {
      const t = await token(true);
      const t2 = await token(false);
      if (t.accessToken && t2.accessToken && isActive(await introspect(t.accessToken)) && isActive(await introspect(t2.accessToken))) {
        return performance.now() - started;
      }
    }
    await sleep(100);
  }
  return Infinity;
}

function describe(a: Answer) {
  return `${a.what} ${a.status || a.failure} in ${Math.round(a.ms)} ms: ${a.text.slice(0, 200)}`;
}

test.before(async () => {
  if (!enabled) return;
  pgProxy = await startTcpProxy(endpointOf(DATABASE_URL!, 5432));
  redisProxy = await startTcpProxy(endpointOf(REDIS_URL!, 6379));
  environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT, RESOURCE_SERVERS });
  environment.env.DATABASE_URL = viaProxy(DATABASE_URL!, pgProxy);
  environment.env.REDIS_URL = viaProxy(REDIS_URL!, redisProxy);
  server = await startTestServer({}, environment);
  const rp = await registerClient(server.issuer, { scope: 'openid api:read things:read' });
  const { client_id, client_secret } = rp.clientMetadata();
  clientId = client_id;
  basic = `Basic ${Buffer.from(`${client_id}:${client_secret as string}`).toString('base64')}`;
});

test.after.always(async () => {
  if (!enabled) return;
  await pgProxy?.restore();
  await redisProxy?.restore();
  await server?.stop();
  // Clean up directly, not through the proxies.
  environment.env.DATABASE_URL = DATABASE_URL!;
  environment.env.REDIS_URL = REDIS_URL!;
  await environment?.cleanup();
  await pgProxy?.close();
  await redisProxy?.close();
});

for (const scenario of [
  { lost: 'Redis', proxies: () => [redisProxy], checks: ['redis'] },
  { lost: 'PostgreSQL', proxies: () => [pgProxy], checks: ['database'] },
  { lost: 'PostgreSQL and Redis', proxies: () => [pgProxy, redisProxy], checks: ['database', 'redis'] },
]) {
  serial(`losing ${scenario.lost} mid-load: fast 503s, readyz says so, back within 5 s, no token lost${why}`, async (t) => {
    const load = startLoad();
    await sleep(1_000);
    const before = load.answers.length;

    await Promise.all(scenario.proxies().map((p) => p.cut()));
    // Let the load run into the outage, and look at it from outside.
    await sleep(1_500);
    const ready = await readyz();
    const page = await browserPage();
    await sleep(1_500);

    await Promise.all(scenario.proxies().map((p) => p.restore()));
    const recovery = await timeToRecover();
    await sleep(500);
    const answers = await load.stop();

    const during = answers.slice(before).filter((a) => a.status !== 200);
    t.log(`${answers.length} answers (${answers.filter((a) => a.status === 200).length} × 200, ${during.length} failed), recovered in ${Math.round(recovery)} ms`);

    // readyz names what is failing.
    t.is(ready.status, 503, JSON.stringify(ready.body));
    t.is(ready.body.status, 'failing');
    for (const check of scenario.checks) t.is(ready.body.checks[check], 'failing', JSON.stringify(ready.body));

    // The load did run into the outage, and every failure was a fast, clean 503.
    t.true(during.length > 0, 'some requests fell into the outage');
    for (const a of during) {
      t.is(a.status, 503, describe(a));
      t.true(a.ms < FAST_MS, `answered fast: ${describe(a)}`);
      t.true(a.contentType.startsWith('application/json'), describe(a));
      t.is((JSON.parse(a.text) as { error?: string }).error, 'temporarily_unavailable', describe(a));
      t.notRegex(a.text, LEAK, 'no stack trace or file paths');
    }
    // Nothing answered after the cut hung.
    const slow = answers.filter((a) => a.ms >= FAST_MS);
    t.deepEqual(slow.map(describe), [], 'no request took long');

    // A browser gets a page, not JSON.
    t.is(page.status, 503, describe(page));
    t.true(page.contentType.startsWith('text/html'), describe(page));
    t.notRegex(page.text, LEAK);

    // Back within 5 s of the connection's return.
    t.true(recovery < RECOVERY_MS, `recovered in ${Math.round(recovery)} ms`);
  });
}

serial(`no access token answered 200 was lost${why}`, async (t) => {
  t.true(issued.length > 0);
  let lost = 0;
  const opaque = issued.filter((i) => i.opaque).length;
  for (let i = 0; i < issued.length; i += 8) {
    const batch = issued.slice(i, i + 8);
    const results = await Promise.all(batch.map((b) => introspect(b.token)));
    results.forEach((r, j) => {
      if (!isActive(r)) {
        lost++;
        t.log(`lost (${batch[j]!.opaque ? 'opaque' : 'JWT'}): ${describe(r)}`);
      }
    });
  }
  t.log(`${issued.length} tokens (${opaque} opaque) introspected after recovery`);
  t.is(lost, 0);
});
