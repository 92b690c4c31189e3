// Seeds accounts and what a signed-in account leaves behind, for the growth
// part of `npm run bench`: accounts in PostgreSQL, and per account a session,
// a grant, an opaque access token and a refresh token in Redis (where the
// server keeps them when REDIS_URL is set), with the adapter's index keys.
// Fast on purpose: the accounts are one INSERT … SELECT generate_series sharing
// one Argon2id hash (Enot ID's own hashPassword, run once); the Redis models go
// through adapters/redis.ts itself on a bulk writer (bench/lib/redis-bulk.ts),
// PostgreSQL and Redis at the same time. Seeding is by ranges, so a larger
// level only adds what is missing: --from 10000 --to 1000000.
//
//   DATABASE_URL=… DATABASE_SCHEMA=… REDIS_URL=… REDIS_PREFIX=… \
//     node bench/seed.ts --from 0 --to 10000 --client-id ID [--sample N]
//
// Prints one JSON line: timings, storage sizes afterwards, and `sample` random
// seeded accounts with their tokens (the benchmark checks that the server
// accepts them, and introspects them under load).
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { redisAdapterFactory } from '../adapters/redis.ts';
import { hashPassword } from '../server/accounts/passwords.ts';
import { loadConfig } from '../server/config/index.ts';
import { openRuntime } from '../server/runtime.ts';
import { openBulkWriter } from './lib/redis-bulk.ts';
import type { SeedResult } from './lib/report.ts';
import { ACCESS_TOKEN_TTL, OPAQUE_RESOURCE, PASSWORD, SEEDED_EMAIL, seededAccount } from './lib/settings.ts';

const { values } = parseArgs({
  options: { from: { type: 'string', default: '0' }, to: { type: 'string' }, 'client-id': { type: 'string' }, sample: { type: 'string', default: '100' } },
});
const from = Number(values.from);
const to = Number(values.to);
const clientId = values['client-id'];
if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to <= from) throw new Error('--from and --to: integers, 0 <= from < to');
if (!clientId) throw new Error('--client-id: the registered client the seeded grants belong to');
const config = loadConfig(process.env);
if (!config.databaseUrl || !config.redisUrl) throw new Error('set DATABASE_URL and REDIS_URL: the seed is for server mode');

// Sessions, grants and refresh tokens live 2 hours instead of a week: should a
// run be killed before its clean-up, a million accounts' keys must not sit in a
// shared Redis for days. Access tokens keep the server's default lifetime.
const SEEDED_TTL = 7200;
const BATCH = 1000;
const SEED_ROLE = 'bench-seeded';

/** The seeded account's id: the same UUID from SQL (md5(...)::uuid) and from here. */
const idInSql = `md5('bench-seed:' || n)::uuid`;
function seededAccountId(n: number): string {
  const h = createHash('md5').update(`bench-seed:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Random ids like oidc-provider's (43 base64url characters), cut from one random buffer. */
function idSource(count: number) {
  const chars = randomBytes(count * 33).toString('base64url');
  let i = 0;
  return () => chars.slice(44 * i, 44 * i++ + 43);
}

const began = performance.now();
const runtime = await openRuntime(config);
try {
  const sampleSize = Math.min(Number(values.sample), to - from);
  const picked = new Set<number>();
  while (picked.size < sampleSize) picked.add(from + Math.floor(Math.random() * (to - from)));
  const sample: SeedResult['sample'] = [];

  const seedAccounts = async () => {
    const t = performance.now();
    const passwordHash = await hashPassword(PASSWORD);
    await runtime.db.raw(
      `insert into accounts (id, email, email_verified_at, password_hash)
       select ${idInSql}, ? || n || ?, now(), ? from generate_series(?::int, ?::int) as n`,
      [SEEDED_EMAIL.before, SEEDED_EMAIL.after, passwordHash, from, to - 1],
    );
    // A role on every tenth account, so the role lookup in every account query reads a table of some size.
    await runtime.db('roles').insert({ name: SEED_ROLE }).onConflict('name').ignore();
    await runtime.db.raw(
      `insert into account_roles (account_id, role_name) select ${idInSql}, ? from generate_series(?::int, ?::int) as n where n % 10 = 0`,
      [SEED_ROLE, from, to - 1],
    );
    // The consent a returning person has given the client (server/consents/remembered.ts),
    // as the benchmark's own accounts have by the time they are measured: what any of them
    // allowed the client, given to every seeded account. Without it every seeded sign-in is a
    // first one (consent page, its POST, the consent stored) and the growth ratio would
    // compare another journey, not another size.
    await runtime.db.raw(
      `insert into remembered_consents (account_id, client_id, resource, kind, name)
       select ${idInSql}, c.client_id, c.resource, c.kind, c.name from generate_series(?::int, ?::int) as n
       cross join (select distinct client_id, resource, kind, name from remembered_consents where client_id = ?) as c`,
      [from, to - 1, clientId],
    );
    // What autovacuum would do next, done now so that it does not run during the
    // measurement: statistics for the plans, and hint bits and the visibility map
    // set, so the first reads of the new rows do not write.
    await runtime.db.raw('vacuum analyze accounts, account_roles, remembered_consents');
    return Math.round(performance.now() - t);
  };

  const seedRedis = async () => {
    const t = performance.now();
    const writer = await openBulkWriter(config.redisUrl!);
    try {
      const adapter = redisAdapterFactory(writer.client, config.redisPrefix);
      const [sessions, grants, accessTokens, refreshTokens] = ['Session', 'Grant', 'AccessToken', 'RefreshToken'].map(adapter);
      const now = Math.floor(Date.now() / 1000);
      const life = { iat: now, exp: now + SEEDED_TTL };
      for (let start = from; start < to; start += BATCH) {
        const end = Math.min(to, start + BATCH);
        const id = idSource((end - start) * 6);
        const upserts: Promise<void>[] = [];
        for (let n = start; n < end; n++) {
          const accountId = seededAccountId(n);
          const [grantId, sessionId, uid, sid, accessToken, refreshToken] = [id(), id(), id(), id(), id(), id()];
          // What oidc-provider 9 saves after a password sign-in with offline_access
          // (captured from a real one; the benchmark checks that the server accepts them).
          const scope = `openid ${OPAQUE_RESOURCE.scope} offline_access`;
          upserts.push(
            sessions!.upsert(sessionId, {
              ...life, uid, accountId, loginTs: now, amr: ['pwd'], kind: 'Session', jti: sessionId,
              authorizations: { [clientId]: { sid, grantId, persistsLogout: true } },
            }, SEEDED_TTL),
            grants!.upsert(grantId, {
              ...life, accountId, clientId, kind: 'Grant', jti: grantId,
              openid: { scope }, resources: { [OPAQUE_RESOURCE.identifier]: OPAQUE_RESOURCE.scope },
            }, SEEDED_TTL),
            accessTokens!.upsert(accessToken, {
              iat: now, exp: now + ACCESS_TOKEN_TTL, accountId, grantId, gty: 'authorization_code', sessionUid: uid,
              kind: 'AccessToken', jti: accessToken, clientId, aud: OPAQUE_RESOURCE.identifier, scope: OPAQUE_RESOURCE.scope,
            }, ACCESS_TOKEN_TTL),
            refreshTokens!.upsert(refreshToken, {
              ...life, accountId, amr: ['pwd'], authTime: now, grantId, gty: 'authorization_code', resource: OPAQUE_RESOURCE.identifier,
              rotations: 0, scope, sessionUid: uid, kind: 'RefreshToken', jti: refreshToken, clientId, iiat: now,
            }, SEEDED_TTL),
          );
          if (picked.has(n)) sample.push({ accountId, email: seededAccount(n), accessToken, refreshToken });
        }
        await Promise.all(upserts);
        await writer.send();
      }
      const commands = await writer.done();
      return { ms: Math.round(performance.now() - t), commands };
    } finally {
      writer.close();
    }
  };

  const [postgresMs, redis] = await Promise.all([seedAccounts(), seedRedis()]);
  const sizes = await runtime.db.raw(
    `select (select count(*) from accounts)::int as accounts,
            pg_total_relation_size('accounts') + pg_total_relation_size('account_roles') as bytes`,
  );
  const memory = /^used_memory:(\d+)/m.exec(await runtime.redis!.info('memory'))?.[1];
  const result = {
    from, to, accounts: to - from, ms: Math.round(performance.now() - began), postgresMs, redisMs: redis.ms, redisCommands: redis.commands,
    storage: {
      accounts: sizes.rows[0].accounts as number,
      postgresMb: Math.round(Number(sizes.rows[0].bytes) / 2 ** 20),
      redisUsedMb: Math.round(Number(memory) / 2 ** 20),
      redisKeys: await runtime.redis!.dbsize(),
    },
    sample,
  } satisfies SeedResult;
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await runtime.close();
}
