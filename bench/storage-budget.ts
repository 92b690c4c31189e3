// The storage round trips each hot path may cost: SQL statements and Redis
// commands per request (or per whole sign-in), the median over repetitions as
// bench/lib/roundtrips.ts measures them. test/storage-budget.test.ts fails when a
// scenario sends more, so a change that adds round trips is seen in CI, not only
// in the benchmark. A change that needs more raises the figure here, in the same
// commit, saying why; one that saves some lowers it.
//
// The figures are those measured (1 December 2026, `node bench/roundtrips.ts` in
// each mode). Only statements sent on behalf of a request are counted (not the job
// queue's polling, the purge or the signing key check, which run on timers), and
// the median ignores the odd single request that refills a cache. The one slack is
// CACHE_REFILLS, on the whole sign-ins' SQL.
//
// Embedded mode keeps everything in the embedded PostgreSQL (no Redis): tokens,
// sessions and interactions are `oidc_models` rows, rate limits `rate_limits` rows.
// Server mode keeps those in Redis.
import type { Scenario } from './lib/roundtrips.ts';

/**
 * The clients and the resources are cached in the process for 5 s each and read
 * again on the first lookup after that: one statement per cache. A whole sign-in
 * (8 requests) lasts long enough, on a loaded machine, that most repetitions can
 * meet a refill of either cache, so its SQL figure may exceed the steady state by
 * these two statements. (Single requests need no slack: at most two of five
 * repetitions meet a refill, and the median passes over them.)
 */
const CACHE_REFILLS = 2;

export interface Budget {
  sql: number;
  redis: number;
}

export const STORAGE_BUDGET: Record<'embedded' | 'server', Record<Scenario, Budget>> = {
  embedded: {
    // The client comes from the process's cache; a JWT access token is not stored.
    'client-credentials': { sql: 0, redis: 0 },
    // The account's status. The revoked-token marker (absent) and the grant come from the
    // process's model cache: the embedded database is this process's alone (adapters/model-cache.ts).
    'introspection-jwt': { sql: 1, redis: 0 },
    // The account's status, and the session of a session-bound token, found by its uid
    // (read from the database: the cache holds rows by id). The token, its grant and the
    // token kinds it is not come from the model cache.
    'introspection-opaque': { sql: 2, redis: 0 },
    // Store the new refresh token and consume the old one (writes go to the database first),
    // the account with its roles and their permissions (one statement, find-account.ts);
    // the old token and its grant come from the model cache.
    refresh: { sql: 3, redis: 0 },
    // The account (one read: blocked is "not found"); the revoked-token marker and the grant
    // come from the model cache; a JWT is not looked up as a stored token (adapters/index.ts).
    userinfo: { sql: 1, redis: 0 },
    discovery: { sql: 0, redis: 0 },
    jwks: { sql: 0, redis: 0 },
    // 8 requests of a returning user: consent remembered, rate limits reset on success.
    'password-sign-in': { sql: 29 + CACHE_REFILLS, redis: 0 },
    // A first sign-in: code, flow, consent given, email verified.
    'code-sign-in': { sql: 51 + CACHE_REFILLS, redis: 0 },
  },
  server: {
    'client-credentials': { sql: 0, redis: 0 },
    'introspection-jwt': { sql: 1, redis: 2 },
    // The session of a session-bound token is found by its uid in two commands (index,
    // then the key it names): they live in different Cluster slots (adapters/redis.ts).
    'introspection-opaque': { sql: 1, redis: 6 },
    // A save is single-key steps (adapters/redis.ts, Redis Cluster): the new refresh token
    // is listed in its grant's and its account's sets, then written — three commands, one round trip.
    // SQL: the account with its roles and their permissions, one statement (find-account.ts).
    refresh: { sql: 1, redis: 6 },
    // The account once, for its status and its claims (structured-token-endpoints.ts); the
    // revoked-token and grant keys; a JWT is not looked up as a stored token (adapters/index.ts).
    userinfo: { sql: 1, redis: 2 },
    discovery: { sql: 0, redis: 0 },
    jwks: { sql: 0, redis: 0 },
    // Each save of a session, grant, interaction or token lists the key in its sets
    // before writing it: one command per set, the same single round trip (Redis Cluster).
    'password-sign-in': { sql: 13 + CACHE_REFILLS, redis: 34 },
    'code-sign-in': { sql: 27 + CACHE_REFILLS, redis: 54 },
  },
};
