// Enot ID behind PgBouncer in transaction pooling mode (issue 14 §4): each statement
// or transaction may run on another server connection, so nothing may rely on
// session state. A real server signs in by password and by code, refreshes and
// introspects tokens, counts rate limits and queues a job, with sessions, codes and
// limits in SQL (no REDIS_URL) and in Redis, many requests at once over a few server
// connections. The database role carries search_path and the deadlines
// (docs/postgresql.md); without it the server refuses to start instead of using
// the wrong schema.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { startPgBouncer, pgbouncerUnavailable, type PgBouncer } from './helpers/pgbouncer.ts';
import { testEnvironment, type TestEnvironment } from './helpers/environment.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { registerClient, beginAuthorization, completeAuthorization, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { readForm } from './helpers/browser.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { createLimiters } from '../server/rate-limit/limiters.ts';
import { RateLimited } from '../server/errors/index.ts';
import { loadConfig } from '../server/config/index.ts';
import { openRuntime } from '../server/runtime.ts';

const unavailable = pgbouncerUnavailable();
/** Server connections per role: fewer than the server's pool (DATABASE_POOL_MAX) plus pg-boss's. */
const POOL_SIZE = 4;
const SCOPE = 'openid email offline_access';
const id = randomBytes(4).toString('hex');
const roles = { sql: `enot_pgb_${id}_sql`, redis: `enot_pgb_${id}_redis`, bare: `enot_pgb_${id}_bare` };

let direct: Knex;
let bouncer: PgBouncer;

/** A login role whose every session starts in `schema`, with deadlines, as docs/postgresql.md asks. */
async function createRole(role: string, schema: string | undefined) {
  const database = new URL(process.env.DATABASE_URL!).pathname.slice(1);
  await direct.raw('create role ?? login', [role]);
  await direct.raw('grant create on database ?? to ??', [database, role]);
  if (schema) await direct.raw('alter role ?? in database ?? set search_path to ??', [role, database, schema]);
  await direct.raw(`alter role ?? in database ?? set statement_timeout to '5s'`, [role, database]);
  await direct.raw(`alter role ?? in database ?? set idle_in_transaction_session_timeout to '25s'`, [role, database]);
}

async function dropRole(role: string) {
  await direct.raw('drop owned by ?? cascade', [role]).catch(() => {});
  await direct.raw('drop role if exists ??', [role]);
}

interface Run {
  server: TestServer;
  environment: TestEnvironment;
  smtp: SmtpCapture;
  rp: oidc.Configuration;
}
const runs: Partial<Record<'sql' | 'redis', Run>> = {};

async function startRun(kind: 'sql' | 'redis'): Promise<Run> {
  const environment = await testEnvironment();
  const env = environment.env;
  if (kind === 'sql') {
    delete env.REDIS_URL;
    delete env.REDIS_PREFIX;
  } else if (!env.REDIS_URL) {
    throw new Error('REDIS_URL is unset');
  }
  await createRole(roles[kind], env.DATABASE_SCHEMA);
  const smtp = await startSmtpServer();
  env.DATABASE_URL = bouncer.url(roles[kind]);
  env.INITIAL_ACCESS_TOKEN = TEST_IAT;
  env.SMTP_URL = smtp.url;
  const server = await startTestServer({}, environment);
  const rp = await registerClient(server.issuer, { scope: SCOPE });
  return { server, environment, smtp, rp };
}

if (unavailable) {
  test.skip(`PgBouncer (skipped: ${unavailable})`, () => {});
} else {
  test.before(async () => {
    direct = knexFactory({ client: 'pg', connection: process.env.DATABASE_URL!, pool: { min: 0, max: 2 } });
    bouncer = await startPgBouncer({
      upstream: process.env.DATABASE_URL!,
      users: Object.values(roles),
      poolSize: POOL_SIZE,
      // Enot ID sends its schema and deadlines as startup parameters; through PgBouncer the role carries them.
      ignoreStartupParameters: ['options', 'statement_timeout', 'idle_in_transaction_session_timeout'],
    });
    runs.sql = await startRun('sql');
    if (process.env.REDIS_URL) runs.redis = await startRun('redis');
  });

  test.after.always(async () => {
    for (const run of Object.values(runs)) {
      await run.server.stop().catch(() => {});
      await run.smtp.close().catch(() => {});
      // The schemas are dropped straight on PostgreSQL.
      run.environment.env.DATABASE_URL = process.env.DATABASE_URL!;
      await run.environment.cleanup().catch(() => {});
    }
    await bouncer?.stop();
    if (direct) {
      for (const role of Object.values(roles)) await dropRole(role).catch(() => {});
      await direct.destroy();
    }
  });

  for (const kind of ['sql', 'redis'] as const) {
    const title = (what: string) => `[${kind === 'sql' ? 'no REDIS_URL' : 'REDIS_URL'}] ${what}`;
    // The Redis run exists only with REDIS_URL; its tests are skipped without it.
    const serial = kind === 'redis' && !process.env.REDIS_URL ? test.serial.skip : test.serial;
    const get = () => {
      const run = runs[kind];
      if (!run) throw new Error(`the ${kind} run was not set up (see the before hook)`);
      return run;
    };

    serial(title('password sign-in, refresh, introspection'), async (t) => {
      const run = get();
      await createAccount(run.server.runtime.db, { email: `pw-${kind}@example.com`, password: 'pooled and transactional' });
      const { tokens } = await signIn(run.rp, { email: `pw-${kind}@example.com`, password: 'pooled and transactional', scope: SCOPE });
      t.truthy(tokens.refresh_token);
      t.true((await oidc.tokenIntrospection(run.rp, tokens.access_token)).active);
      const refreshed = await oidc.refreshTokenGrant(run.rp, tokens.refresh_token!);
      t.true((await oidc.tokenIntrospection(run.rp, refreshed.access_token)).active);
      t.is(refreshed.claims()!.email, `pw-${kind}@example.com`);
    });

    serial(title('sign-in by a code sent by mail'), async (t) => {
      const run = get();
      const sub = await createAccount(run.server.runtime.db, { email: `code-${kind}@example.com` });
      const started = await beginAuthorization(run.rp, SCOPE);
      const ask = readForm(started.page, /\/code$/);
      const codePage = await started.browser.submit(ask.action, { ...ask.hidden, identifier: `code-${kind}@example.com` }, REDIRECT_URI);
      const mail = await run.smtp.nextMessageTo(`code-${kind}@example.com`, 10_000);
      const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
      t.truthy(code);
      const enter = readForm(codePage, /\/code$/);
      const done = await started.browser.submit(enter.action, { ...enter.hidden, code: code! }, REDIRECT_URI);
      const tokens = await completeAuthorization(run.rp, started, done);
      t.is(tokens.claims()!.sub, sub);
    });

    serial(title('many requests at once share a few server connections'), async (t) => {
      const run = get();
      const accounts = await Promise.all(
        Array.from({ length: 6 }, (_, i) => createAccount(run.server.runtime.db, { email: `many-${i}-${kind}@example.com`, password: `several at once ${i}` })),
      );
      t.is(accounts.length, 6);
      const sessions = await Promise.all(
        accounts.map((_, i) => signIn(run.rp, { email: `many-${i}-${kind}@example.com`, password: `several at once ${i}`, scope: SCOPE })),
      );
      const checks = await Promise.all(
        sessions.flatMap(({ tokens }) => [
          oidc.tokenIntrospection(run.rp, tokens.access_token),
          oidc.tokenIntrospection(run.rp, tokens.refresh_token!),
          oidc.refreshTokenGrant(run.rp, tokens.refresh_token!).then((r) => oidc.tokenIntrospection(run.rp, r.access_token)),
        ]),
      );
      t.true(checks.every((c) => c.active));
      const [{ count }] = (await direct.raw('select count(*)::int as count from pg_stat_activity where usename = ?', [roles[kind]])).rows;
      t.true(count <= POOL_SIZE, `${count} server connections for ${POOL_SIZE} allowed`);
    });

    serial(title('a rate limit counts concurrent attempts exactly'), async (t) => {
      const run = get();
      const { runtime } = run.server;
      const limiter = createLimiters({ db: runtime.db, redis: runtime.redis, prefix: runtime.config.redisPrefix }).custom('pgbouncer', 5, 60);
      const key = `key-${randomBytes(6).toString('hex')}`;
      const results = await Promise.allSettled(Array.from({ length: 15 }, () => limiter.consume(key)));
      t.is(results.filter((r) => r.status === 'fulfilled').length, 5);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      t.true(refused.every((r) => r.reason instanceof RateLimited), String(refused.find((r) => !(r.reason instanceof RateLimited))?.reason));
      t.is(await limiter.used(key), 15);
      await limiter.reset(key);
      t.is(await limiter.used(key), 0);
    });

    serial(title('the job queue sends and works a job'), async (t) => {
      const run = get();
      const queue = { name: `pgbouncer-${kind}`, options: { retryLimit: 0 } };
      const received = new Promise<unknown>((resolve) => {
        void run.server.runtime.jobs.work<{ n: number }>(queue, { pollingIntervalSeconds: 0.5 }, async (job) => resolve(job.data));
      });
      await run.server.runtime.jobs.send(queue, { n: 42 });
      t.deepEqual(await received, { n: 42 });
    });
  }

  test.serial('a role whose sessions do not start in DATABASE_SCHEMA: the server refuses to start, naming it', async (t) => {
    const environment = await testEnvironment();
    try {
      await createRole(roles.bare, undefined);
      const config = loadConfig({ ...environment.env, DATABASE_URL: bouncer.url(roles.bare) });
      let error: unknown;
      try {
        await (await openRuntime(config, { serving: true })).close();
      } catch (err) {
        error = err;
      }
      t.true(error instanceof Error, 'the runtime opened');
      t.regex((error as Error).message, new RegExp(`not DATABASE_SCHEMA ${environment.env.DATABASE_SCHEMA}: .*search_path`));
    } finally {
      await environment.cleanup();
    }
  });
}

if (!unavailable) {
  test.serial('a PgBouncer that refuses the startup parameters: the start fails naming ignore_startup_parameters', async (t) => {
    const strict = await startPgBouncer({ upstream: process.env.DATABASE_URL!, users: [roles.sql], poolSize: 2, ignoreStartupParameters: [] });
    const environment = await testEnvironment();
    try {
      const config = loadConfig({ ...environment.env, DATABASE_URL: strict.url(roles.sql) });
      const error = await t.throwsAsync(openRuntime(config, { serving: true }));
      t.regex(error?.message ?? '', /unsupported startup parameter: options; behind PgBouncer list options, statement_timeout and idle_in_transaction_session_timeout in its ignore_startup_parameters/);
    } finally {
      await strict.stop();
      await environment.cleanup();
    }
  });
}
