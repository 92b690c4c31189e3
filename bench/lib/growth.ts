// Growth: scenarios 2 (introspection of a JWT and of an opaque access token)
// and 4 (password sign-in) with nothing seeded, then again after seeding 10k
// and 1M accounts with their sessions, grants and tokens (bench/seed.ts), all on
// one server process within minutes, so the ratios show whether the cost stays
// flat as the storage grows. After each level's throughput, the same storage is
// counted and explained, which wall-clock rates on a shared machine cannot show:
// the storage commands per request of every hot path (bench/lib/roundtrips.ts, a
// second server process with the counting preload beside the growth server) and
// the PostgreSQL plan of every statement those requests sent (bench/lib/plans.ts).
import os from 'node:os';
import { enotPasswordSignIn, runFlow, runFlows, type Target } from './flows.ts';
import { measureFlows, measureRequests } from './load.ts';
import type { PartDeps } from './part.ts';
import { runScript } from './processes.ts';
import { explainStatements } from './plans.ts';
import type { GrowthLevel, GrowthResult, GrowthScenario, SeedResult, StorageUseChange } from './report.ts';
import { introspection, rotating, send, tokenRequest } from './requests.ts';
import { measureStorageUse } from './roundtrips.ts';
import { JWT_RESOURCE, OPAQUE_RESOURCE, PASSWORD, passwordAccount, seededAccount } from './settings.ts';

const NOTES: Record<GrowthScenario['id'], string> = {
  'introspection-jwt':
    'a pool of JWT access tokens from sign-ins, introspected in turn; the sign-ins are of the benchmark\'s own accounts (nothing seeded) or of random seeded accounts',
  'introspection-opaque':
    'nothing seeded: a pool of opaque access tokens from sign-ins; seeded: seeded access tokens of random accounts among those just seeded (up to 10,000, in turn), so every read lands somewhere in the grown keyspace',
  'password-sign-in':
    'nothing seeded: the benchmark\'s own accounts in turn; seeded: every journey signs in a random one of all seeded accounts',
};

function subject(idToken: string | undefined): string | undefined {
  if (!idToken) return undefined;
  return (JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub;
}

/** The server must take the seeded data as its own, or the figures would measure "not found". */
async function probeSeeded(target: Target, sample: SeedResult['sample']): Promise<NonNullable<GrowthLevel['probe']>> {
  const first = sample[0]!;
  const last = sample.at(-1)!;
  const introspected = await send(target.origin, introspection(target, first.accessToken));
  const refreshed = await send(target.origin, tokenRequest(target, { grant_type: 'refresh_token', refresh_token: last.refreshToken }));
  const signedIn = await runFlow(target.origin, enotPasswordSignIn(target, { email: first.email, password: PASSWORD, scope: 'openid' })).then(
    (tokens) => subject(tokens.id_token),
    (err: unknown) => String(err),
  );
  const probe = {
    introspection: introspected.status === 200 && introspected.body.active === true && introspected.body.sub === first.accountId,
    refresh: refreshed.status === 200 && typeof refreshed.body.access_token === 'string',
    signIn: signedIn === first.accountId,
  };
  if (!probe.introspection || !probe.refresh || !probe.signIn) {
    throw new Error(`growth: the server did not take the seeded data: ${JSON.stringify({ probe, introspected, refreshed, signedIn })}`);
  }
  return probe;
}

async function measureLevel(
  deps: PartDeps, target: Target, seeded: number, poolSize: number, sample?: SeedResult['sample'],
): Promise<Pick<GrowthLevel, 'scenarios' | 'loadavg'>> {
  const loadBefore = os.loadavg()[0]!;
  const account = seeded === 0
    ? (n: number) => passwordAccount(n % deps.passwordAccounts)
    : () => seededAccount(Math.floor(Math.random() * seeded));
  const signIn = (n: number, scope: string, resource?: string) =>
    enotPasswordSignIn(target, { email: account(n), password: PASSWORD, scope, resource });
  const tokens = async (scope: string, resource: string) =>
    (await runFlows(target.origin, poolSize, 4, (i) => signIn(i, scope, resource))).map((t) => t.access_token);
  const jwts = await tokens('openid api:read', JWT_RESOURCE.identifier);
  const opaque = sample ? sample.map((s) => s.accessToken) : await tokens('openid opaque:read', OPAQUE_RESOURCE.identifier);

  const scenarios: GrowthScenario[] = [];
  const scenario = async (id: GrowthScenario['id'], number: number, title: string, run: () => ReturnType<typeof measureRequests>) => {
    deps.log(`growth, ${seeded.toLocaleString('en-US')} seeded: ${title} …`);
    const enot = await run();
    if (enot.errorSamples) deps.log(`  errors: ${enot.errorSamples.join(' | ')}`);
    scenarios.push({ id, number, title, enot, ratio: Number.NaN, note: NOTES[id] });
  };
  await scenario('introspection-jwt', 2, 'introspection of a JWT AT', () =>
    measureRequests(deps.load(target.origin), rotating(jwts.length, (i) => introspection(target, jwts[i]!))));
  await scenario('introspection-opaque', 2, 'introspection of an opaque AT', () =>
    measureRequests(deps.load(target.origin), rotating(opaque.length, (i) => introspection(target, opaque[i]!))));
  await scenario('password-sign-in', 4, 'sign-in by password (code + PKCE)', () =>
    measureFlows(deps.load(target.origin, deps.flowConnections), (n) => signIn(n, 'openid email')));
  // An inactive token is answered early: the pools must still have been active at the end.
  for (const token of [jwts[0]!, opaque[0]!]) {
    const answer = await send(target.origin, introspection(target, token));
    if (answer.body.active !== true) throw new Error(`growth: a measured token was not active at the end: ${JSON.stringify(answer)}`);
  }
  return { scenarios, loadavg: [loadBefore, os.loadavg()[0]!] };
}

/**
 * The round-trip count and the plans on this level's storage. The count's own server
 * shares the growth server's schema, Redis prefix and DATA_DIR (server mode is
 * multi-process); what it adds is kept apart from what is already there: a client of
 * its own (registered anew), password sign-ins of existing accounts (seeded ones
 * spread over the range, so the statements read the grown tables; with nothing
 * seeded the benchmark's own), and code accounts numbered past the main run's and
 * the earlier levels' (a code sign-in verifies its account).
 */
async function countLevel(deps: PartDeps, index: number, seeded: number): Promise<Pick<GrowthLevel, 'roundTrips' | 'plans'>> {
  const storage = Object.fromEntries(STORAGE_VARIABLES.filter((k) => deps.env[k] !== undefined).map((k) => [k, deps.env[k]!]));
  const repeat = deps.quick ? 3 : 5;
  deps.log(`growth, ${seeded.toLocaleString('en-US')} seeded: storage commands per request (${repeat} repetitions) and EXPLAIN of their statements …`);
  const { rows, statements } = await measureStorageUse({
    storage,
    repeat,
    passwordAccount: seeded === 0 ? passwordAccount : (k) => seededAccount(Math.floor(((k + 0.5) * seeded) / 5)),
    codeAccountsFrom: CODE_ACCOUNTS_FROM * (index + 1),
  });
  const plans = await explainStatements({ databaseUrl: storage.DATABASE_URL!, schema: storage.DATABASE_SCHEMA!, statements, seeded: seeded > 0 });
  return { roundTrips: { repeat, rows }, plans };
}

const STORAGE_VARIABLES = ['DATA_DIR', 'DATABASE_URL', 'DATABASE_SCHEMA', 'REDIS_URL', 'REDIS_PREFIX'];
/** Far past the main run's code accounts (codeAccount(0 … 2999)): level i counts with codeAccount(100,000 × (i + 1) …). */
const CODE_ACCOUNTS_FROM = 100_000;

/** Scenarios whose SQL statements or Redis commands per request at a seeded level differ from nothing seeded, in the median or the least. */
function storageUseChanges(levels: GrowthLevel[]): StorageUseChange[] {
  const baseline = new Map(levels[0]!.roundTrips!.rows.map((r) => [r.scenario, r]));
  return levels.slice(1).flatMap((level) =>
    level.roundTrips!.rows.flatMap((row) => {
      const base = baseline.get(row.scenario)!;
      const changed = base.sqlMin !== row.sqlMin || base.redisMin !== row.redisMin;
      if (!changed && base.sql === row.sql && base.redis === row.redis) return [];
      return [{
        seeded: level.seeded, scenario: row.scenario, sql: [base.sql, row.sql], redis: [base.redis, row.redis],
        sqlMin: [base.sqlMin, row.sqlMin], redisMin: [base.redisMin, row.redisMin], changed,
      } satisfies StorageUseChange];
    }));
}

export async function runGrowth(deps: PartDeps, sizes: number[]): Promise<GrowthResult> {
  const server = await deps.startServer(deps.env, 'growth');
  const target = { ...deps.target, origin: server.url };
  const poolSize = deps.quick ? 4 : 32;
  const sampleSize = deps.quick ? 50 : 10_000;
  const levels: GrowthLevel[] = [];
  try {
    levels.push({ seeded: 0, ...(await measureLevel(deps, target, 0, poolSize)), ...(await countLevel(deps, 0, 0)) });
    let seeded = 0;
    for (const size of sizes) {
      deps.log(`growth: seeding accounts ${seeded.toLocaleString('en-US')} to ${size.toLocaleString('en-US')} …`);
      const { sample, ...seed } = await runScript<SeedResult>(
        'bench/seed.ts', ['--from', String(seeded), '--to', String(size), '--client-id', target.clientId, '--sample', String(sampleSize)], deps.env, 3_600_000,
      );
      seeded = size;
      deps.log(
        `growth: seeded in ${seed.ms} ms (PostgreSQL ${seed.postgresMs} ms, Redis ${seed.redisMs} ms); ` +
          `Redis ${seed.storage.redisUsedMb} MB used, ${seed.storage.redisKeys} keys; account tables ${seed.storage.postgresMb} MB`,
      );
      const probe = await probeSeeded(target, sample);
      levels.push({ seeded: size, seed, probe, ...(await measureLevel(deps, target, size, poolSize, sample)), ...(await countLevel(deps, levels.length, size)) });
    }
  } finally {
    await server.stop(5000);
  }
  const baseline = new Map(levels[0]!.scenarios.map((s) => [s.id, s.enot.rate]));
  for (const s of levels.flatMap((l) => l.scenarios)) s.ratio = s.enot.rate / baseline.get(s.id)!;
  return {
    sizes,
    levels,
    storageUseChanges: storageUseChanges(levels),
    notes: [
      'seeded per account: the account (PostgreSQL; a role on every tenth; the consent to the benchmark\'s client its own accounts gave, so a seeded sign-in is a returning one as theirs are), and in Redis through adapters/redis.ts a session, a grant, ' +
        'an opaque access token, a refresh token and their index keys (7 keys); all accounts share one Argon2id hash of the benchmark password',
      'seeded sessions, grants and refresh tokens live 2 hours, so a run killed before its clean-up leaves nothing for long; the clean-up removes them with the run\'s Redis prefix',
      'commands per request: bench/lib/roundtrips.ts on each level\'s storage after its throughput (a second server with the counting preload; ' +
        'sign-ins of 5 seeded accounts spread over the range, or with nothing seeded of the benchmark\'s own; fresh code accounts per level)',
      'plans: every distinct SQL statement those requests sent, EXPLAINed with the values it was first sent with: (a) as planned now, ' +
        '(b) with enable_seqscan = off (can an index serve it, whatever the table\'s size), and for SELECTs the shared buffers (hit + read) of one ' +
        'execution (EXPLAIN ANALYZE, BUFFERS; writes are not executed); pg-boss\'s job-queue statements are listed apart, not explained',
    ],
  };
}
