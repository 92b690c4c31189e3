// The rate limiters of server/rate-limit/limiters.ts on every storage they
// can use: rate-limiter-flexible's Postgres store through knex on embedded
// PGlite (always) and PostgreSQL (DATABASE_URL), and its Redis store
// (REDIS_URL). Each backend is opened once for the file in its own PGlite
// directory, schema and key prefix; tests use random keys so they run side by side.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { RedisClient } from '../server/redis/connect.ts';
import { loadConfig } from '../server/config/index.ts';
import { openDatabase } from '../server/db/connect.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { connectRedis } from '../server/redis/connect.ts';
import { RateLimited } from '../server/errors/index.ts';
import { createLimiters, type Limiter } from '../server/rate-limit/limiters.ts';
import { CODE_LIMITS, PASSWORD_LIMITS } from '../server/verification/limits.ts';
import { testEnvironment, type TestEnvironment } from './helpers/environment.ts';

// node-pg reads a URL without a user name from $USER, which may be unset.
if (process.env.DATABASE_URL && !process.env.PGUSER && !process.env.USER) process.env.PGUSER = os.userInfo().username;

interface Backend {
  db: Knex;
  /** Closes the pool (and stops the embedded server). */
  closeDb(): Promise<void>;
  redis?: RedisClient;
  prefix: string;
  env: TestEnvironment;
}

const newKey = (label = 'key') => `${label}-${randomBytes(9).toString('base64url')}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Consumes until the limiter refuses; returns how many points it allowed (stops at `max`). */
async function allowedCount(limiter: Limiter, key: string, max: number): Promise<number> {
  for (let i = 0; i < max; i++) {
    const err = await rejectionOf(limiter.consume(key));
    if (err instanceof RateLimited) return i;
    if (err) throw err;
  }
  return max;
}

async function openBackend(overrides: Record<string, string>): Promise<Backend> {
  const env = await testEnvironment(overrides);
  const config = loadConfig(env.env);
  const { db, close } = await openDatabase(config);
  await migrateToLatest(db);
  const redis = config.redisUrl ? await connectRedis(config.redisUrl) : undefined;
  return { db, closeDb: close, redis, prefix: config.redisPrefix, env };
}

async function closeBackend(backend: Backend): Promise<void> {
  await Promise.allSettled([backend.closeDb(), backend.redis?.quit()]);
  await backend.env.cleanup();
}

function register(name: string, overrides: Record<string, string>) {
  const title = (what: string) => `[${name}] ${what}`;
  let backend: Backend | undefined;
  const open = () => {
    if (!backend) throw new Error('backend was not set up (see the failed before hook)');
    return backend;
  };
  const limiters = (prefix?: string) => {
    const b = open();
    return createLimiters({ db: b.db, redis: b.redis, prefix: prefix ?? b.prefix });
  };

  test.before(title('open'), async () => {
    backend = await openBackend(overrides);
  });
  test.after.always(title('close'), async () => {
    if (backend) await closeBackend(backend);
  });

  test(title('allows the points of the window, then RateLimited with the time left'), async (t) => {
    const limiter = limiters().custom(newKey('name'), 3, 120);
    const key = newKey();
    for (let i = 0; i < 3; i++) await t.notThrowsAsync(limiter.consume(key), `point ${i + 1} of 3`);
    const err = await rejectionOf(limiter.consume(key));
    t.true(err instanceof RateLimited, `4th point refused, got ${String(err)}`);
    const retryAfter = (err as RateLimited).retryAfter;
    t.true(retryAfter > 110 && retryAfter <= 120, `retryAfter ${retryAfter} is about the 120 s window`);
  });

  test(title('consume counts the points it is given'), async (t) => {
    const limiter = limiters().custom(newKey('name'), 5, 60);
    const key = newKey();
    await limiter.consume(key, 3);
    await limiter.consume(key, 2);
    t.true((await rejectionOf(limiter.consume(key))) instanceof RateLimited, '3 + 2 used all 5');
    const other = newKey();
    t.true((await rejectionOf(limiter.consume(other, 6))) instanceof RateLimited, '6 points at once exceed 5');
  });

  test(title('keys, names and prefixes are counted apart'), async (t) => {
    const name = newKey('name');
    const limiter = limiters().custom(name, 1, 60);
    const [a, b] = [newKey(), newKey()];
    await limiter.consume(a);
    t.true((await rejectionOf(limiter.consume(a))) instanceof RateLimited);
    await t.notThrowsAsync(limiter.consume(b), 'another key has its own count');
    await t.notThrowsAsync(limiters().custom(newKey('name'), 1, 60).consume(a), 'another name has its own count');
    await t.notThrowsAsync(limiters(`${open().prefix}other:`).custom(name, 1, 60).consume(a), 'another prefix has its own count');
  });

  test(title('reset forgets the count'), async (t) => {
    const limiter = limiters().custom(newKey('name'), 2, 60);
    const key = newKey();
    await limiter.consume(key, 2);
    t.true((await rejectionOf(limiter.consume(key))) instanceof RateLimited);
    await limiter.reset(key);
    t.is(await allowedCount(limiter, key, 5), 2, 'two points again after reset');
    await t.notThrowsAsync(limiter.reset(newKey()), 'resetting an unknown key is fine');
  });

  test(title('consume returns the points used; reward gives points back'), async (t) => {
    const limiter = limiters().custom(newKey('name'), 2, 60);
    const key = newKey();
    t.is(await limiter.consume(key), 1);
    t.is(await limiter.consume(key), 2);
    await limiter.reward(key);
    t.is(await limiter.consume(key), 2, 'the point given back is usable again');
    t.true((await rejectionOf(limiter.consume(key))) instanceof RateLimited);
  });

  test(title('block refuses a key for the given time, whatever its count'), async (t) => {
    const limiter = limiters().custom(newKey('name'), 5, 10);
    const key = newKey();
    await limiter.block(key, 300);
    const err = await rejectionOf(limiter.check(key));
    t.true(err instanceof RateLimited, 'refused at once');
    const retryAfter = (err as RateLimited).retryAfter;
    t.true(retryAfter > 290 && retryAfter <= 300, `retryAfter ${retryAfter} is the block's 300 s, not the 10 s window`);
    t.true((await rejectionOf(limiter.consume(key))) instanceof RateLimited);
    await limiter.reset(key);
    await t.notThrowsAsync(limiter.consume(key), 'reset lifts the block');
  });

  test(title('check counts nothing and throws once the points are used'), async (t) => {
    const limiter = limiters().custom(newKey('name'), 2, 60);
    const key = newKey();
    for (let i = 0; i < 5; i++) await limiter.check(key);
    await limiter.consume(key);
    await t.notThrowsAsync(limiter.check(key), 'one point left');
    await limiter.consume(key);
    const err = await rejectionOf(limiter.check(key));
    t.true(err instanceof RateLimited, 'no point left');
    t.true((err as RateLimited).retryAfter > 50, 'with the time left in the window');
  });

  test(title('the window ends and the points come back'), async (t) => {
    // 6 s, not 1 s or 3 s: on a loaded machine the second consume once came
    // after a 1 s window, and once after a 3 s window, had already ended. The
    // other tests of the file run meanwhile, so the wait costs little.
    const limiter = limiters().custom(newKey('name'), 1, 6);
    const key = newKey();
    await limiter.consume(key);
    t.true((await rejectionOf(limiter.consume(key))) instanceof RateLimited);
    // The library's own clock: the one place a limiter test waits (the 6 s window).
    await sleep(6_300);
    await t.notThrowsAsync(limiter.consume(key));
  });

  test(title('two processes (two createLimiters) share the counts'), async (t) => {
    const name = newKey('name');
    const first = limiters().custom(name, 4, 60);
    const second = limiters().custom(name, 4, 60);
    const key = newKey();
    await first.consume(key, 2);
    await second.consume(key);
    await first.consume(key);
    t.true((await rejectionOf(second.consume(key))) instanceof RateLimited, 'second sees the first one\'s points');
    await second.reset(key);
    await t.notThrowsAsync(first.consume(key), 'a reset by one is seen by the other');
  });

  test(title('concurrent consumes never allow more than the points'), async (t) => {
    const name = newKey('name');
    const [first, second] = [limiters().custom(name, 5, 60), limiters().custom(name, 5, 60)];
    const key = newKey();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).consume(key)));
    t.is(results.filter((r) => r.status === 'fulfilled').length, 5);
    for (const r of results) if (r.status === 'rejected') t.true(r.reason instanceof RateLimited, String(r.reason));
  });

  test(title('the named limiters have the limits of limits.ts'), async (t) => {
    const named = limiters();
    t.is(await allowedCount(named.codeSendsPerIdentifier, newKey(), 50), CODE_LIMITS.sendsPerIdentifierPerHour);
    t.is(await allowedCount(named.codeSendsPerIp, newKey(), 50), CODE_LIMITS.sendsPerIpPerHour);
    t.is(await allowedCount(named.codeVerifiesPerIp, newKey(), 150), CODE_LIMITS.verifyAttemptsPerIpPerHour);
    t.is(await allowedCount(named.codeFailuresPerIdentifier, newKey(), 150), CODE_LIMITS.verifyFailuresPerIdentifierPerDay);
    t.is(await allowedCount(named.passwordFailuresPerIdentifier, newKey(), 150), PASSWORD_LIMITS.failuresPerIdentifierPerDay);
    t.is(await allowedCount(named.passwordAttemptsPerIp, newKey(), 150), PASSWORD_LIMITS.failuresPerIpPerHour);
    t.is(await allowedCount(named.codeSendsPerIdentifierIp, newKey(), 50), CODE_LIMITS.sendsPerIdentifierPerIpPerHour);
    t.is(await allowedCount(named.codeSendsPerKnownDevice, newKey(), 50), CODE_LIMITS.sendsPerKnownDevicePerHour);
    t.is(await allowedCount(named.codeFailuresPerKnownDevice, newKey(), 150), CODE_LIMITS.verifyFailuresPerKnownDevicePerDay);
    t.is(await allowedCount(named.passwordFailuresPerKnownDevice, newKey(), 150), PASSWORD_LIMITS.failuresPerKnownDevicePerDay);
    t.is(await allowedCount(named.passwordWait, newKey(), 5), 1, 'a wait is one point, set by block');
    t.is(await allowedCount(named.passwordTriesInFlight, newKey(), 50), PASSWORD_LIMITS.triesAtOncePerIdentifier);
  });

  test(title('storage holds prefixed, hashed keys, never the key itself'), async (t) => {
    const b = open();
    const name = newKey('name');
    const key = `${newKey('person')}@example.com`;
    await limiters().custom(name, 3, 600).consume(key);
    const stored = `${b.prefix}rl:${name}:${createHash('sha256').update(key).digest('base64url')}`;
    if (b.redis) {
      t.is(await b.redis.get(stored), '1');
      const ttl = await b.redis.ttl(stored);
      t.true(ttl > 590 && ttl <= 600, `ttl ${ttl}`);
      t.deepEqual(await b.redis.keys(`*${key}*`), [], 'no key holds the address');
    } else {
      const row = await b.db('rate_limits').first().where({ key: stored });
      t.is(row?.points, 1);
      t.true(Number(row?.expire) > Date.now() + 590_000, 'expires with the window');
      t.is(await b.db('rate_limits').first().where('key', 'like', `%${key}%`), undefined, 'no row holds the address');
    }
  });
}

register('embedded', { DATABASE_URL: '', REDIS_URL: '' });
if (process.env.DATABASE_URL) register('postgres', { REDIS_URL: '' });
if (process.env.REDIS_URL) register(process.env.DATABASE_URL ? 'redis' : 'redis (embedded)', {});
