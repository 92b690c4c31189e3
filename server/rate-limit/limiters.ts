// Named rate limits, counted by rate-limiter-flexible in shared storage so
// every process sees the same counters: Redis when configured, otherwise the
// database (the rate_limits table, migrations/008-rate-limits.ts). Nothing is
// counted only in process memory.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { RedisClient } from '../redis/connect.ts';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimited } from '../errors/index.ts';
import { CODE_LIMITS, DAY_SECONDS, HOUR_SECONDS, PASSWORD_LIMITS } from '../verification/limits.ts';

export interface Limiter {
  /**
   * Counts `points` (1 by default) for `key` and returns the points used so far
   * in the window, these included; throws RateLimited(retryAfterSeconds) past
   * the limit (the points stay counted). Counting is atomic in the store, so
   * consuming before an attempt lets no concurrent attempt past the limit.
   */
  consume(key: string, points?: number): Promise<number>;
  /** Gives back `points` (1 by default) consumed for an attempt that turned out not to count. */
  reward(key: string, points?: number): Promise<void>;
  /** Throws RateLimited when `key` has no points left; counts nothing. For limits on failures, checked before trying. */
  check(key: string): Promise<void>;
  /** The points used for `key` in its window (0 when none); counts nothing. */
  used(key: string): Promise<number>;
  /** Forgets the count of `key`. */
  reset(key: string): Promise<void>;
  /** Refuses `key` for `seconds` from now, whatever its count (a wait set by the caller). */
  block(key: string, seconds: number): Promise<void>;
}

export interface LimiterDeps {
  db: Knex;
  redis?: RedisClient;
  /** Prefix of every key (REDIS_PREFIX); keeps deployments and test runs apart. */
  prefix: string;
  /** Told the limit's name whenever a request is refused (metrics). */
  onLimited?: (name: string) => void;
}

const TABLE = 'rate_limits';

/**
 * rate-limiter-flexible's Postgres store, fed through knex.raw. Its own
 * `storeType: 'knex'` hands pg-style query objects to the raw connection,
 * around knex's pool and its deadlines; going through knex.raw keeps knex's pool,
 * deadlines and search_path (DATABASE_SCHEMA). The library's SQL is kept as it is; only its
 * $n placeholders become knex's ?.
 */
function knexStore(db: Knex) {
  return {
    async query(q: { text: string; values?: unknown[] }) {
      const bindings: unknown[] = [];
      const sql = q.text.replace(/\$(\d+)/g, (_, n: string) => {
        bindings.push(q.values?.[Number(n) - 1] ?? null);
        return '?';
      });
      const result = await db.raw(sql, bindings as Knex.RawBinding[]);
      // expire is bigint: node-pg gives a string; the library subtracts numbers.
      const rows = (result.rows as Record<string, unknown>[]).map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
      );
      return { rows, rowCount: rows.length || Number(result.rowCount ?? 0) };
    },
  };
}

// Keys are emails, phone numbers and IPs: hashed, so limit storage holds no
// personal data and every key fits the store's varchar(255).
const hashKey = (key: string) => createHash('sha256').update(key).digest('base64url');

function wrap(limiter: RateLimiterAbstract, onLimited: () => void): Limiter {
  return {
    async consume(key, points = 1) {
      try {
        return (await limiter.consume(hashKey(key), points)).consumedPoints;
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          onLimited();
          throw new RateLimited(err.msBeforeNext / 1000);
        }
        throw err;
      }
    },
    async check(key) {
      const res = await limiter.get(hashKey(key));
      if (res && res.consumedPoints >= limiter.points) {
        onLimited();
        throw new RateLimited(res.msBeforeNext / 1000);
      }
    },
    async used(key) {
      return Math.max(0, (await limiter.get(hashKey(key)))?.consumedPoints ?? 0);
    },
    async reset(key) {
      await limiter.delete(hashKey(key));
    },
    async reward(key, points = 1) {
      await limiter.reward(hashKey(key), points);
    },
    async block(key, seconds) {
      await limiter.block(hashKey(key), seconds);
    },
  };
}

export function createLimiters(deps: LimiterDeps) {
  const store = deps.redis ? undefined : knexStore(deps.db);
  /** A fixed window: at most `points` per `durationSeconds`, counted from the first point. */
  function custom(name: string, points: number, durationSeconds: number): Limiter {
    const options = { keyPrefix: `${deps.prefix}rl:${name}`, points, duration: durationSeconds };
    const onLimited = () => deps.onLimited?.(name);
    if (deps.redis) return wrap(new RateLimiterRedis({ ...options, storeClient: deps.redis }), onLimited);
    return wrap(new RateLimiterPostgres({ ...options, storeClient: store, storeType: 'pool', tableName: TABLE, tableCreated: true }), onLimited);
  }
  return {
    /** Codes sent to one identifier for requesters that are not its account's known devices (key: identifierKey). */
    codeSendsPerIdentifier: custom('code-sends-identifier', CODE_LIMITS.sendsPerIdentifierPerHour, HOUR_SECONDS),
    /** Codes sent to one identifier for one IP address (key: identifierKey and IP). */
    codeSendsPerIdentifierIp: custom('code-sends-identifier-ip', CODE_LIMITS.sendsPerIdentifierPerIpPerHour, HOUR_SECONDS),
    /** Codes sent to one identifier for one known device of its account (key: identifierKey and device id). */
    codeSendsPerKnownDevice: custom('code-sends-known-device', CODE_LIMITS.sendsPerKnownDevicePerHour, HOUR_SECONDS),
    /** Codes sent from one IP address. */
    codeSendsPerIp: custom('code-sends-ip', CODE_LIMITS.sendsPerIpPerHour, HOUR_SECONDS),
    /** Code entries from one IP address. */
    codeVerifiesPerIp: custom('code-verifies-ip', CODE_LIMITS.verifyAttemptsPerIpPerHour, HOUR_SECONDS),
    /** Wrong codes for one identifier from requesters that are not known devices, since its last correct code. */
    codeFailuresPerIdentifier: custom('code-failures-identifier', CODE_LIMITS.verifyFailuresPerIdentifierPerDay, DAY_SECONDS),
    /** Wrong codes for one identifier from one known device of its account, since its last correct code. */
    codeFailuresPerKnownDevice: custom('code-failures-known-device', CODE_LIMITS.verifyFailuresPerKnownDevicePerDay, DAY_SECONDS),
    /** Wrong passwords for one identifier from unknown browsers, since its last correct one. */
    passwordFailuresPerIdentifier: custom('password-failures-identifier', PASSWORD_LIMITS.failuresPerIdentifierPerDay, DAY_SECONDS),
    /** Wrong passwords for one identifier from one known device of its account, since its last correct one. */
    passwordFailuresPerKnownDevice: custom('password-failures-known-device', PASSWORD_LIMITS.failuresPerKnownDevicePerDay, DAY_SECONDS),
    /** The growing wait before the next password try for an identifier from unknown browsers (set by block). */
    passwordWait: custom('password-wait', 1, PASSWORD_LIMITS.maxWaitSeconds),
    /** Password tries for one identifier from unknown browsers being checked right now. */
    passwordTriesInFlight: custom('password-tries-in-flight', PASSWORD_LIMITS.triesAtOncePerIdentifier, PASSWORD_LIMITS.tryHoldSeconds),
    /** Wrong passwords from one IP address. */
    passwordAttemptsPerIp: custom('password-failures-ip', PASSWORD_LIMITS.failuresPerIpPerHour, HOUR_SECONDS),
    custom,
  };
}

export type Limiters = ReturnType<typeof createLimiters>;
