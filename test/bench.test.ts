// `npm run bench -- --quick` so the benchmark harness cannot rot: every
// scenario runs for about a second, in embedded mode, or (when the suite runs
// with DATABASE_URL and REDIS_URL) in server mode with the growth part (seeded
// storage, with the storage commands per request and the EXPLAIN of every
// statement at each level), the scale-out part (HAProxy in front of two processes)
// and the peer (better-auth on the same PostgreSQL and Redis; skipped without). No
// timing is asserted (this machine is shared); only that every scenario ran,
// without errors, that counts and plans were recorded (and show no statement
// without an index), and that the run left nothing behind.
import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import { Redis } from 'ioredis';
import { ROOT, run } from './helpers/process.ts';
import { findHaproxy } from '../bench/lib/haproxy.ts';
import { SCENARIOS as ROUND_TRIP_SCENARIOS } from '../bench/lib/roundtrips.ts';

const SCENARIOS = [
  'client-credentials', 'introspection-jwt', 'introspection-opaque', 'refresh', 'password-sign-in', 'code-sign-in', 'discovery', 'jwks', 'userinfo',
];
const serverRun = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const mode = serverRun ? 'server' : 'embedded';

interface Measured {
  requests: number;
  rate: number;
  errors: number;
  completed?: number;
}

interface Report {
  modes: Record<string, {
    storage: string;
    koa: Measured;
    argon2: { verifies: number; rate: number };
    scenarios: Array<{ id: string; enot: Measured; bare?: Measured; halfRate?: { requests: number; errors: number }; ratios: { koa: number } }>;
    startup: { firstMs: number; laterMedianMs: number };
    memory: { idleMb: number; underLoadMb: number; idlePssMb: number; idleProcesses: number; underLoadPssMb: number };
    targets: unknown[];
    growth?: {
      sizes: number[];
      levels: Array<{
        seeded: number;
        seed?: { accounts: number; storage: { accounts: number } };
        probe?: { introspection: boolean; refresh: boolean; signIn: boolean };
        scenarios: Array<{ id: string; enot: Measured; ratio: number }>;
        roundTrips?: { repeat: number; rows: Array<{ scenario: string; sql: number; redis: number }> };
        plans?: {
          statements: Array<{
            text: string;
            kind: 'read' | 'write';
            chosen: Array<{ node: string; relation?: string; index?: string }>;
            forced: Array<{ node: string; relation?: string; index?: string }>;
            buffers?: { hit: number; read: number };
            flags: string[];
          }>;
          queue: string[];
        };
      }>;
      storageUseChanges?: Array<{ seeded: number; scenario: string; changed: boolean }>;
    };
    scaleOut?: {
      skipped?: string;
      rows: Array<{ id: string; setup: string; enot: Measured; perProcess?: number[] }>;
      ratios: Record<string, number>;
    };
    peer?: {
      peer: string;
      skipped?: string;
      storage?: string;
      scenarios: Array<{ id: string; peer?: Measured; ratio?: number; unsupported?: string }>;
    };
  }>;
}

test(`npm run bench -- --quick runs every scenario (${mode} mode) and writes the figures as JSON`, async (t) => {
  t.timeout(290_000);
  // run() passes only the environment given here to the child.
  const env: Record<string, string> = serverRun ? { DATABASE_URL: process.env.DATABASE_URL!, REDIS_URL: process.env.REDIS_URL! } : {};
  const finished = await run(['bench/run.ts', '--quick', '--mode', mode], env, 280_000);
  t.is(finished.code, 0, finished.stderr.slice(-3000) + finished.stdout.slice(-2000));
  const file = /^results: (.+\.json)$/m.exec(finished.stdout)?.[1];
  t.truthy(file, finished.stdout);
  const absolute = path.join(ROOT, file!);
  t.teardown(() => rmSync(absolute, { force: true }));
  t.regex(finished.stdout, /client credentials/);

  const report = JSON.parse(readFileSync(absolute, 'utf8')) as Report;
  t.deepEqual(Object.keys(report.modes), [mode]);
  const result = report.modes[mode]!;
  t.true(result.koa.requests > 0);
  t.is(result.koa.errors, 0);
  t.true(result.argon2.verifies > 0);
  t.deepEqual(result.scenarios.map((s) => s.id), SCENARIOS);
  const ran = (id: string, m: Measured) => {
    t.true(m.requests > 0 && m.rate > 0, `${id}: requests`);
    t.is(m.errors, 0, `${id}: errors`);
    if (m.completed !== undefined) t.true(m.completed > 0, `${id}: completed journeys`);
  };
  for (const s of result.scenarios) {
    ran(s.id, s.enot);
    t.true(s.ratios.koa > 0, `${s.id}: ratio to koa`);
    if (s.bare) ran(`${s.id} (bare)`, s.bare);
    if (s.halfRate) {
      t.true(s.halfRate.requests > 0, `${s.id}: requests at half rate`);
      t.is(s.halfRate.errors, 0, `${s.id}: errors at half rate`);
    }
  }
  t.true(result.startup.firstMs > 0);
  t.true(result.startup.laterMedianMs > 0);
  t.true(result.memory.idleMb > 0);
  t.true(result.memory.underLoadMb > 0);
  t.true(result.memory.idlePssMb > 0 && result.memory.underLoadPssMb >= result.memory.idlePssMb * 0.5);
  // Embedded mode's memory counts its PostgreSQL too: the postmaster and its background processes.
  if (serverRun) t.is(result.memory.idleProcesses, 1);
  else t.true(result.memory.idleProcesses >= 4, `embedded processes counted: ${result.memory.idleProcesses}`);
  t.true(result.targets.length > 0);
  if (!serverRun) {
    t.is(result.growth, undefined);
    t.is(result.scaleOut, undefined);
    // The peer needs PostgreSQL and Redis: skipped with a note, not measured as zero.
    t.regex(result.peer?.skipped ?? '', /DATABASE_URL and REDIS_URL/);
    t.regex(finished.stdout, /^peer \(better-auth [\d.]+ \+ @better-auth\/oauth-provider [\d.]+\): skipped/m);
    return;
  }

  // The peer (better-auth) on the same PostgreSQL and Redis: every shared scenario measured without errors and
  // given a ratio; the one it does not serve (one-time codes) reported as not supported, not as zero.
  const peer = result.peer!;
  t.is(peer.skipped, undefined);
  t.deepEqual(peer.scenarios.map((s) => s.id), SCENARIOS);
  for (const s of peer.scenarios) {
    if (s.id === 'code-sign-in') {
      t.is(s.peer, undefined);
      t.truthy(s.unsupported);
      continue;
    }
    ran(`peer ${s.id}`, s.peer!);
    t.true(s.ratio! > 0, `${s.id}: Enot ID / peer`);
  }
  t.regex(finished.stdout, /^peer: better-auth [\d.]+ \+ @better-auth\/oauth-provider [\d.]+ on PostgreSQL/m);
  t.regex(finished.stdout, /^1 +client credentials \(JWT AT\) +[\d,]+ req\/s +[\d,]+ req\/s .* [\d.]+x$/m, 'the peer table has a ratio per row');
  t.regex(finished.stdout, /^5 +sign-in by one-time code \(code \+ PKCE\) +[\d.]+ sign-ins\/s +not supported/m);

  // Growth: the baseline, then 1,000 and 5,000 seeded accounts that the server took as its own.
  const growth = result.growth!;
  t.deepEqual(growth.levels.map((l) => l.seeded), [0, 1000, 5000]);
  for (const level of growth.levels) {
    t.deepEqual(level.scenarios.map((s) => s.id), ['introspection-jwt', 'introspection-opaque', 'password-sign-in']);
    for (const s of level.scenarios) {
      ran(`growth ${level.seeded} ${s.id}`, s.enot);
      t.true(s.ratio > 0, `growth ${level.seeded} ${s.id}: ratio to unseeded`);
    }
    if (level.seeded === 0) continue;
    t.deepEqual(level.probe, { introspection: true, refresh: true, signIn: true });
    t.true(level.seed!.storage.accounts >= level.seeded, 'the seeded accounts are in PostgreSQL');
  }
  t.regex(finished.stdout, /^4 +sign-in by password \(code \+ PKCE\) +5,000 +[\d.]+ sign-ins\/s/m, 'the growth table is printed');

  // At each level: storage commands per request of every hot path, and a plan for every statement those requests sent.
  const accountLookupBuffers: number[] = [];
  for (const level of growth.levels) {
    const at = `growth ${level.seeded}`;
    t.is(level.roundTrips?.repeat, 3, `${at}: round trips counted (quick: 3 repetitions)`);
    t.deepEqual(level.roundTrips?.rows.map((r) => r.scenario), Object.keys(ROUND_TRIP_SCENARIOS), `${at}: a round-trip row for every scenario`);
    const signIn = level.roundTrips?.rows.find((r) => r.scenario === 'password-sign-in');
    t.true(signIn !== undefined && signIn.sql > 0 && signIn.redis > 0, `${at}: a password sign-in reaches PostgreSQL and Redis (is the counting preload working?)`);
    const statements = level.plans?.statements ?? [];
    t.true(statements.length >= 10, `${at}: plans recorded for ${statements.length} statements`);
    for (const s of statements) {
      t.true(s.chosen.length > 0 && s.forced.length > 0, `${at}: plan nodes of ${s.text}`);
      if (s.kind === 'read') t.true((s.buffers?.hit ?? 0) + (s.buffers?.read ?? 0) > 0, `${at}: buffers of ${s.text}`);
    }
    t.deepEqual(statements.filter((s) => s.flags.length).map((s) => `${s.text}: ${s.flags.join('; ')}`), [], `${at}: no statement lacks an index`);
    t.true(statements.some((s) => s.kind === 'write'), `${at}: writes explained too`);
    // pg-boss's own statements (its schema, <schema>_jobs) are set apart, not explained.
    t.true((level.plans?.queue ?? []).every((text) => /_jobs\./.test(text)), `${at}: only job-queue statements set apart`);
    t.deepEqual(statements.filter((s) => /_jobs\./.test(s.text)).map((s) => s.text), [], `${at}: no job-queue statement explained`);
    // The introspections' account lookup, by primary key.
    const lookup = statements.find((s) => /^select "status" from "accounts" where "id" = \$1/.test(s.text));
    t.deepEqual(lookup?.chosen.map((x) => x.index), ['accounts_pkey'], `${at}: the account status lookup uses the primary key`);
    accountLookupBuffers.push((lookup?.buffers?.hit ?? 0) + (lookup?.buffers?.read ?? 0));
  }
  // 5,000 accounts need a two-level B-tree, a hundred fit its root: the lookups ran against the grown table.
  t.true(accountLookupBuffers.at(-1)! > accountLookupBuffers[0]!, `buffers of the account lookup by level: ${accountLookupBuffers.join(', ')}`);
  t.deepEqual(growth.storageUseChanges?.filter((c) => c.changed), [], 'storage commands per request the same at every level');
  t.regex(finished.stdout, /^password sign-in \(whole\) +\d+ \/ \d+ +\d+ \/ \d+ +\d+ \/ \d+$/m, 'the commands-per-request table is printed');
  t.regex(finished.stdout, /^growth: EXPLAIN at 5,000 seeded of the \d+ statements/m, 'the plans table is printed');
  t.regex(finished.stdout, /^select status from accounts where id = \$1 limit \$2 +jwt,opaque +idx accounts_pkey +same +\d+ *$/m, 'a plan row is printed');
  t.regex(finished.stdout, /\[MET \] hot-path statements use index lookups at every level/);
  t.regex(finished.stdout, /\[(MET |MISSED)\] storage commands per request unchanged at every level/);
  t.regex(finished.stdout, /\[(MET |MISSED)\] throughput within 20% of the empty run at every level/);

  // Scale-out: three setups per scenario, and both processes behind HAProxy served.
  const scaleOut = result.scaleOut!;
  if (!findHaproxy()) {
    t.regex(scaleOut.skipped ?? '', /haproxy/);
  } else {
    t.is(scaleOut.skipped, undefined);
    t.deepEqual(scaleOut.rows.map((r) => `${r.id} ${r.setup}`), [
      'client-credentials direct', 'client-credentials haproxy-one', 'client-credentials haproxy-two',
      'password-sign-in direct', 'password-sign-in haproxy-one', 'password-sign-in haproxy-two',
    ]);
    for (const r of scaleOut.rows) ran(`scale-out ${r.id} ${r.setup}`, r.enot);
    for (const r of scaleOut.rows.filter((x) => x.setup === 'haproxy-two')) {
      t.is(r.perProcess!.length, 2);
      t.true(r.perProcess!.every((count) => count > 0), `${r.id}: both processes served (${r.perProcess!.join(' / ')})`);
    }
    t.true(scaleOut.ratios['client-credentials']! > 0 && scaleOut.ratios['password-sign-in']! > 0);
    t.regex(finished.stdout, /HAProxy \+ 2 processes/);
  }

  // Nothing left behind: the run's schemas and Redis keys (Enot ID's and the peer's) are gone.
  const db = knexFactory({ client: 'pg', connection: process.env.DATABASE_URL });
  const redis = new Redis(process.env.REDIS_URL!);
  try {
    for (const storage of [result.storage, peer.storage!]) {
      const schema = /schema (\S+)\)/.exec(storage)![1]!;
      const prefix = /prefix (\S+)\)/.exec(storage)![1]!;
      t.deepEqual((await db.raw('select 1 from pg_namespace where nspname = ?', [schema])).rows, [], `schema ${schema} left`);
      let cursor = '0';
      let left = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        left += keys.length;
        cursor = next;
      } while (cursor !== '0');
      t.is(left, 0, `keys left under ${prefix}`);
    }
  } finally {
    await db.destroy();
    redis.disconnect();
  }
});
