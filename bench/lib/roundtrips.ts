// How many SQL statements and Redis commands Enot ID sends per request (or per
// whole sign-in) of each hot path: the server runs as a child process with a
// counting preload (./count-storage.ts) and each scenario is repeated, one
// request at a time, with the counts read before and after every repetition.
// Used by bench/roundtrips.ts (the table) and test/storage-budget.test.ts (the
// budget in bench/storage-budget.ts), in embedded mode (SQL only) or server mode,
// and by the growth part (bench/lib/growth.ts) on its seeded storage, where it also
// hands each statement's first bound values to bench/lib/plans.ts for EXPLAIN.
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FORM, basicAuth, enotCodeSignIn, enotPasswordSignIn, runFlow, type Target, type TokenResponse } from './flows.ts';
import { freePort, runScript, startEnot } from './processes.ts';
import { CLIENT_SCOPE, INITIAL_ACCESS_TOKEN, JWT_RESOURCE, OPAQUE_RESOURCE, PASSWORD, REDIRECT_URI, codeAccount, passwordAccount } from './settings.ts';
import { startSmtpSink } from './smtp-sink.ts';

export const SCENARIOS = {
  'client-credentials': 'client credentials',
  'introspection-jwt': 'introspection of a JWT AT',
  'introspection-opaque': 'introspection of an opaque AT',
  refresh: 'refresh (rotation)',
  userinfo: 'userinfo',
  discovery: 'discovery',
  jwks: 'JWKS',
  'password-sign-in': 'password sign-in (whole)',
  'code-sign-in': 'code sign-in (whole)',
} as const;
export type Scenario = keyof typeof SCENARIOS;

interface Counts {
  sql: number;
  redis: number;
  statements: Record<string, number>;
  /** Uses per statement id (count-storage.ts numbers the statements it samples). */
  byId: Record<string, number>;
  commands: Record<string, number>;
}

export interface RoundTripRow {
  scenario: Scenario;
  /**
   * Median over the repetitions: what a request typically sends. A cache that
   * expires now and then (the clients', 5 s) adds a statement to one repetition,
   * which moves the mean but not the median.
   */
  sql: number;
  redis: number;
  /** Means over the repetitions. */
  sqlMean: number;
  redisMean: number;
  /** Least over the repetitions: the steady state, since a cache refill only adds. */
  sqlMin: number;
  redisMin: number;
  /** Per repetition, what was sent (statement text cut at 60 characters, command names), averaged. */
  statements: Record<string, number>;
  commands: Record<string, number>;
}

export interface MeasureOptions {
  /** DATA_DIR, and in server mode DATABASE_URL/DATABASE_SCHEMA and REDIS_URL/REDIS_PREFIX; the caller removes the storage. */
  storage: Record<string, string>;
  /** Repetitions of each scenario (after unmeasured warm-ups). */
  repeat: number;
  /**
   * The 5 accounts (k = 0 … 4) that sign in by password, for the tokens and the password
   * sign-ins; they must exist with PASSWORD. Default: passwordAccount(k), created here, which
   * needs a storage without them (the growth part's has them, and its seeded accounts).
   */
  passwordAccount?: (k: number) => string;
  /**
   * The first of the fresh code accounts (codeAccount(n), n = from … from + repeat), created
   * here: a code sign-in verifies its account's email, so a later count on the same storage
   * must start past the last one's. Default 0.
   */
  codeAccountsFrom?: number;
}

/** One use of a SQL statement sent on behalf of a request, as bench/lib/count-storage.ts sampled it. */
export interface StatementSample {
  /** As sent. */
  text: string;
  /** Its name in count-storage.ts: runs of white space as one space (`RoundTripRow.statements` cuts it at 60). */
  key: string;
  /** The bound values of its first use, as node-postgres sends them (text). */
  values: (string | null)[];
  /** The scenarios whose measured repetitions sent it; none: only the preparation did (client registration, first sign-ins). */
  scenarios: Scenario[];
}

/** Every statement the server sampled (its `STORAGE-STATEMENTS` lines), with the scenarios whose measured repetitions sent it (by id). */
function statementsOf(logFile: string, sentBy: Map<Scenario, Set<string>>): StatementSample[] {
  const marker = 'STORAGE-STATEMENTS ';
  const sampled = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith(marker))
    .flatMap((l) => Object.entries(JSON.parse(l.slice(marker.length)) as Record<string, { id: number; text: string; values: (string | null)[] }>));
  return sampled.map(([key, { id, text, values }]) => ({
    text, key, values, scenarios: [...sentBy].filter(([, sent]) => sent.has(String(id))).map(([scenario]) => scenario),
  }));
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// Work a request leaves running after its response (an audit row, a last-used
// time) is still counted as the request's once it has been sent: give it this long.
const SETTLE_MS = 100;

export async function measureRoundTrips(options: MeasureOptions): Promise<RoundTripRow[]> {
  return (await measureStorageUse(options)).rows;
}

/** The round trips per scenario, and every distinct SQL statement sent on behalf of a request, with a sample of its values. */
export async function measureStorageUse(options: MeasureOptions): Promise<{ rows: RoundTripRow[]; statements: StatementSample[] }> {
  const { repeat, passwordAccount: account = passwordAccount, codeAccountsFrom: codeFrom = 0 } = options;
  const sink = await startSmtpSink();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env = {
    ...options.storage, PORT: String(port), HOST: '127.0.0.1', ISSUER: issuer, LOG_LEVEL: 'info', NODE_ENV: 'production', ALLOW_DEV_OUTBOX: 'true',
    SMTP_URL: sink.url, TRUST_PROXY: 'true', INITIAL_ACCESS_TOKEN, RESOURCE_SERVERS: JSON.stringify([OPAQUE_RESOURCE]), SHUTDOWN_TIMEOUT: '5',
  };
  const logFile = path.join(os.tmpdir(), `enot-roundtrips-${process.pid}-${port}.log`);
  // Code accounts from (warm-up) to from + `repeat`: each code sign-in uses a fresh one.
  const passwords = options.passwordAccount ? '0' : '5';
  await runScript('bench/setup-accounts.ts', ['--password', passwords, '--code', String(repeat + 1), '--code-from', String(codeFrom)], env);
  const server = await startEnot(env, { logFile, nodeArgs: ['--import', './bench/lib/count-storage.ts'] });
  try {
    const registered = await fetch(`${issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'], scope: CLIENT_SCOPE }),
    });
    const client = (await registered.json()) as { client_id: string; client_secret: string };
    const target: Target = { origin: issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT_URI };
    const signIn = (i: number, scope: string, resource?: string) =>
      enotPasswordSignIn(target, { email: account(i % 5), password: PASSWORD, scope, resource });
    const jwt = await runFlow(issuer, signIn(0, 'openid api:read', JWT_RESOURCE.identifier));
    const opaque = await runFlow(issuer, signIn(1, 'openid opaque:read', OPAQUE_RESOURCE.identifier));
    const userinfo = await runFlow(issuer, signIn(2, 'openid email'));
    let refreshToken = (await runFlow(issuer, signIn(3, 'openid offline_access api:read', JWT_RESOURCE.identifier))).refresh_token!;

    const marker = 'STORAGE-COUNTS ';
    const reports = () => readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith(marker));
    // Asks the server for its counts and waits for the line it prints.
    const counts = async (): Promise<Counts> => {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const seen = reports().length;
      server.child.kill('SIGUSR2');
      for (let waited = 0; waited < 10_000; waited += 10) {
        const lines = reports();
        if (lines.length > seen) return JSON.parse(lines.at(-1)!.slice(marker.length)) as Counts;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the server did not print its storage counts (is bench/lib/count-storage.ts preloaded?)');
    };
    const post = (pathname: string, body: Record<string, string>) =>
      fetch(issuer + pathname, { method: 'POST', headers: { 'content-type': FORM, authorization: basicAuth(target.clientId, target.clientSecret) }, body: new URLSearchParams(body) })
        .then(async (r) => {
          if (r.status !== 200) throw new Error(`${pathname}: ${r.status} ${await r.text()}`);
          return r.json() as Promise<TokenResponse>;
        });
    const get = (pathname: string, headers: Record<string, string> = {}) =>
      fetch(issuer + pathname, { headers }).then(async (r) => {
        if (r.status !== 200) throw new Error(`${pathname}: ${r.status}`);
        return r.text();
      });

    const rows: RoundTripRow[] = [];
    const sentBy = new Map<Scenario, Set<string>>();
    // Repetitions 1…repeat are measured after `warmUps` unmeasured ones (0…warmUps-1),
    // which fill the caches and the connection pool as a running server has them.
    const measure = async (scenario: Scenario, run: (i: number) => Promise<unknown>, warmUps = 1) => {
      for (let i = 0; i < warmUps; i++) await run(i);
      const sql: number[] = [];
      const redis: number[] = [];
      const first = await counts();
      let before = first;
      for (let i = 1; i <= repeat; i++) {
        await run(i);
        const after = await counts();
        sql.push(after.sql - before.sql);
        redis.push(after.redis - before.redis);
        before = after;
      }
      const per = (a: Record<string, number>, b: Record<string, number>) =>
        Object.fromEntries(Object.entries(b).map(([k, v]) => [k, (v - (a[k] ?? 0)) / repeat] as const).filter(([, v]) => v > 0));
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      rows.push({
        scenario, sql: median(sql), redis: median(redis), sqlMean: mean(sql), redisMean: mean(redis), sqlMin: Math.min(...sql), redisMin: Math.min(...redis),
        statements: per(first.statements, before.statements), commands: per(first.commands, before.commands),
      });
      sentBy.set(scenario, new Set(Object.keys(per(first.byId, before.byId))));
    };
    await measure('client-credentials', () => post('/token', { grant_type: 'client_credentials', scope: 'api:read', resource: JWT_RESOURCE.identifier }));
    await measure('introspection-jwt', () => post('/token/introspection', { token: jwt.access_token }));
    await measure('introspection-opaque', () => post('/token/introspection', { token: opaque.access_token }));
    await measure('refresh', async () => {
      refreshToken = (await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken })).refresh_token!;
    });
    await measure('userinfo', () => get('/me', { authorization: `Bearer ${userinfo.access_token}` }));
    await measure('discovery', () => get('/.well-known/openid-configuration'));
    await measure('jwks', () => get('/jwks'));
    // A returning user: each of the 5 accounts has signed in to this client (consent
    // given, device known) in the warm-up, so every repetition takes the same path.
    await measure('password-sign-in', (i) => runFlow(issuer, signIn(i, 'openid email')), 5);
    // A first sign-in every time: a fresh account per repetition (its email becomes verified),
    // from an address of its own (so later counts on the same storage meet no per-IP limit).
    await measure('code-sign-in', (i) => {
      const n = codeFrom + i;
      const address = `10.99.${((n + 1) >> 8) & 255}.${(n + 1) & 255}`;
      return runFlow(issuer, enotCodeSignIn(target, { email: codeAccount(n), scope: 'openid email', headers: { 'x-forwarded-for': address }, codeFor: (m) => sink.take(m) }));
    });
    return { rows, statements: statementsOf(logFile, sentBy) };
  } finally {
    await server.stop();
    await sink.close();
    rmSync(logFile, { force: true });
  }
}
