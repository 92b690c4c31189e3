// Network partition: PostgreSQL and Redis sit behind TCP proxies this test
// controls, and the proxy *freezes* — stops forwarding but keeps every connection
// open, and accepts new ones without answering — as when packets are silently
// dropped. Nothing is reset, so only the storage clients' own deadlines
// (STORAGE_TIMEOUT_MS, STORAGE_CONNECT_TIMEOUT_MS; their defaults here) can end
// the wait. Token requests that need the frozen store must fail with 503 within a
// bound derived from those deadlines, /readyz must name the store, and within 5 s
// of the thaw everything works again, with no token that was answered 200 lost.
import test from 'ava';
import { startServer, type RunningServer } from '../../server/server.ts';
import { createLogger } from '../../server/logging/logger.ts';
import { OUTAGE_WINDOW_MS } from '../../server/logging/outage-log.ts';
import { registerClient, TEST_IAT } from '../helpers/oidc.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { proxiedStorage, type ProxiedStorage } from './proxied-storage.ts';
import { loadConfig } from '../../server/config/index.ts';
import { CLIENT_SCOPE, RESOURCE_SERVERS, SMALL_RETRY_AFTER, describe, sleep, tokenLoad, type TokenKind } from './token-load.ts';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const enabled = Boolean(DATABASE_URL && REDIS_URL);
const serial = enabled ? test.serial : test.skip;
const why = enabled ? '' : ' (skipped: needs DATABASE_URL and REDIS_URL — PostgreSQL and Redis to put behind a proxy; the embedded database is on loopback, started by Enot ID itself)';

/** The deadlines the server runs with: the defaults (server/config/index.ts). */
const { storageTimeouts } = loadConfig({});
/**
 * The longest a request may wait on a frozen store, plus 1 s for the rest of the
 * request on a busy machine. PostgreSQL: a wait for a pooled connection (or for a
 * new one to connect), then one statement, which the client gives up 0.5 s after
 * PostgreSQL's statement_timeout (server/db/connect.ts). Redis: a command queued
 * (auto-pipelining) behind a batch that is timing out waits for that batch, then
 * its own deadline: twice STORAGE_TIMEOUT_MS.
 */
const BOUND_MS = Math.max(storageTimeouts.connectMs + storageTimeouts.commandMs + 500, 2 * storageTimeouts.commandMs) + 1_000;
/** Long enough that requests sent in its first second are answered before the thaw. */
const FREEZE_MS = BOUND_MS + 1_000;
/** Everything works again within this after the thaw. */
const RECOVERY_MS = 5_000;
const CONCURRENCY = 4;

let server: RunningServer;
/** The server's log from warn up, as parsed lines. */
const log: { level: number; time: number; msg: string; dependency?: string; suppressed?: number }[] = [];
let storage: ProxiedStorage | undefined;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let basic: string;
// Far beyond the bound: a request still waiting then is a hang.
const load = tokenLoad({ url: () => server.url, basic: () => basic, hangMs: BOUND_MS * 3 });

test.before(async () => {
  if (!enabled) return;
  storage = await proxiedStorage({ databaseUrl: DATABASE_URL!, redisUrl: REDIS_URL! }, { INITIAL_ACCESS_TOKEN: TEST_IAT, RESOURCE_SERVERS });
  ({ pgProxy, redisProxy } = storage);
  const config = loadConfig(storage.environment.env);
  server = await startServer(config, createLogger('warn', { destination: { write: (line: string) => log.push(JSON.parse(line) as (typeof log)[number]) } }));
  const rp = await registerClient(config.issuer, { scope: CLIENT_SCOPE });
  const { client_id, client_secret } = rp.clientMetadata();
  basic = `Basic ${Buffer.from(`${client_id}:${client_secret as string}`).toString('base64')}`;
});

test.after.always(async () => {
  if (!enabled) return;
  pgProxy?.thaw();
  redisProxy?.thaw();
  await server?.close();
  await storage?.cleanup();
});

for (const scenario of [
  // Issuing an opaque token stores it in Redis: that cannot succeed while Redis is frozen.
  { frozen: 'Redis', proxy: () => redisProxy, check: 'redis', needsIt: 'opaque token' as TokenKind },
  // An unknown client is looked up in PostgreSQL: that cannot be answered while PostgreSQL is frozen.
  { frozen: 'PostgreSQL', proxy: () => pgProxy, check: 'database', needsIt: 'unknown client' as TokenKind },
]) {
  serial(`${scenario.frozen} partitioned (packets dropped, connections kept): 503 within the storage deadlines, readyz says so, back within 5 s${why}`, async (t) => {
    const running = load.start(CONCURRENCY);
    await sleep(1_000);

    scenario.proxy().freeze();
    const frozenAt = performance.now();
    const logFrom = log.length;
    await sleep(1_000);
    const ready = await load.readyz();
    await sleep(frozenAt + FREEZE_MS - performance.now());
    scenario.proxy().thaw();
    const thawedAt = performance.now();
    const recovery = await load.timeToRecover();
    await sleep(500);
    const answers = await running.stop();
    // The last window's count is written when it ends.
    await sleep(OUTAGE_WINDOW_MS);
    const lines = log.slice(logFrom);

    // Requests sent while frozen and answered before the thaw: only those show what a partition does.
    const during = answers.filter((a) => a.started >= frozenAt && a.started + a.ms < thawedAt);
    const failed = during.filter((a) => a.status !== a.expected);
    const slowest = [...failed].sort((a, b) => a.ms - b.ms);
    t.log(
      `${scenario.frozen} frozen for ${FREEZE_MS} ms: ${during.length} requests answered meanwhile, ${failed.length} failed ` +
        `(time to 503: median ${Math.round(slowest[slowest.length >> 1]?.ms ?? NaN)} ms, ` +
        `max ${Math.round(slowest.at(-1)?.ms ?? NaN)} ms (${slowest.at(-1)?.kind}); bound ${BOUND_MS} ms); ` +
        `readyz ${ready.status} in ${Math.round(ready.ms)} ms; recovered ${Math.round(recovery)} ms after the thaw`,
    );

    // readyz names the frozen store, within its own 2 s check timeout.
    t.is(ready.status, 503, ready.text);
    t.is(ready.body?.checks[scenario.check], 'failing', ready.text);
    t.regex(ready.retryAfter ?? '', SMALL_RETRY_AFTER, 'readyz says when to ask again');
    t.true(ready.ms < 3_000, `readyz answered in ${Math.round(ready.ms)} ms`);

    // What needs the frozen store fails every time; every failure is a 503 within the bound.
    const needing = during.filter((a) => a.kind === scenario.needsIt);
    t.true(needing.length > 0, `some "${scenario.needsIt}" requests were sent and answered while frozen`);
    for (const a of needing) t.is(a.status, 503, describe(a));
    for (const a of failed) {
      t.is(a.status, 503, describe(a));
      t.true(a.contentType.startsWith('application/json'), describe(a));
      t.is((JSON.parse(a.text) as { error?: string }).error, 'temporarily_unavailable', describe(a));
      t.regex(a.retryAfter ?? '', SMALL_RETRY_AFTER, `Retry-After: ${describe(a)}`);
    }
    // No request, before, during or after, waited as long as the bound.
    t.deepEqual(answers.filter((a) => a.ms >= BOUND_MS || a.status === 0).map(describe), [], `every answer within ${BOUND_MS} ms`);

    t.true(recovery < RECOVERY_MS, `recovered ${Math.round(recovery)} ms after the thaw`);

    // The log: no error lines, and a warning per store per window, not one per failure.
    const storage = lines.filter((l) => l.msg === 'storage unavailable' || l.msg === 'storage still unavailable');
    const counted = storage.reduce((n, l) => n + 1 + (l.suppressed ?? 0), 0);
    t.log(`log: ${lines.length} lines, ${storage.length} about the storage, standing for ${counted} failures`);
    t.deepEqual(lines.filter((l) => l.level >= 50), [], 'nothing logged at error level');
    t.true(storage.every((l) => l.level === 40 && l.dependency === scenario.check), JSON.stringify(storage));
    t.true(storage.length <= 2 + Math.ceil((FREEZE_MS + RECOVERY_MS) / OUTAGE_WINDOW_MS), JSON.stringify(storage));
    t.true(counted >= failed.length, `${counted} failures logged or counted, ${failed.length} requests failed`);
  });
}

serial(`no access token answered 200 was lost to a partition${why}`, async (t) => {
  t.true(load.issued.length > 0);
  const lost = await load.lostTokens();
  t.log(`${load.issued.length} tokens (${load.issued.filter((i) => i.opaque).length} opaque) introspected after the partitions`);
  t.deepEqual(lost, []);
});
