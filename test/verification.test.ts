// One-time codes (server/verification/codes.ts) on every storage: codes and
// limits in embedded PGlite (always); in PostgreSQL (DATABASE_URL); codes in
// PostgreSQL and limits in Redis (DATABASE_URL + REDIS_URL). Time moves by an
// injected clock, never by sleeping. Tests use random flows, addresses and IPs
// so they run side by side on one backend per file.
import test, { type ExecutionContext } from 'ava';
import { createHmac, randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { RedisClient } from '../server/redis/connect.ts';
import { loadConfig } from '../server/config/index.ts';
import { openDatabase } from '../server/db/connect.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { connectRedis } from '../server/redis/connect.ts';
import { CodeAttemptsExhausted, CodeExpired, CodeInvalid, RateLimited } from '../server/errors/index.ts';
import { createLimiters } from '../server/rate-limit/limiters.ts';
import { createCodes, codeIdentifierKey, purgeExpiredCodes, type CodeChannel } from '../server/verification/codes.ts';
import { loadCodeSecret } from '../server/verification/code-secret.ts';
import { createSealer } from '../server/keys/sealed-secrets.ts';

/** Secrets stored in the clear, as without SECRETS_KEY. */
const clear = createSealer(undefined);
import { CODE_LIMITS } from '../server/verification/limits.ts';
import { testEnvironment, type TestEnvironment } from './helpers/environment.ts';

// node-pg reads a URL without a user name from $USER, which may be unset.
if (process.env.DATABASE_URL && !process.env.PGUSER && !process.env.USER) process.env.PGUSER = os.userInfo().username;

const SECOND = 1000;
const MINUTE = 60 * SECOND;

interface Backend {
  db: Knex;
  /** Closes the pool (and stops the embedded server). */
  closeDb(): Promise<void>;
  redis?: RedisClient;
  prefix: string;
  secret: string;
  env: TestEnvironment;
}

const random = () => randomBytes(9).toString('base64url');
const newFlow = () => `flow-${random()}`;
const newEmail = () => `person-${random()}@example.com`;
const newIp = () => `2001:db8::${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
/** Any other 6-digit code. */
const wrong = (code: string) => String((Number(code) + 1) % 10 ** CODE_LIMITS.digits).padStart(CODE_LIMITS.digits, '0');

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Asserts that `promise` rejects with CodeInvalid and returns its attemptsLeft. */
async function invalid(t: ExecutionContext, promise: Promise<unknown>, message?: string): Promise<number> {
  const err = await rejectionOf(promise);
  t.true(err instanceof CodeInvalid, `${message ?? 'CodeInvalid'}: got ${String(err)}`);
  return (err as CodeInvalid).attemptsLeft;
}

async function rejectsWith(t: ExecutionContext, promise: Promise<unknown>, type: new (...args: never[]) => Error, message?: string) {
  const err = await rejectionOf(promise);
  t.true(err instanceof type, `${message ?? type.name}: got ${String(err)}`);
  return err;
}

async function openBackend(overrides: Record<string, string>): Promise<Backend> {
  const env = await testEnvironment(overrides);
  const config = loadConfig(env.env);
  const { db, close } = await openDatabase(config);
  await migrateToLatest(db);
  const redis = config.redisUrl ? await connectRedis(config.redisUrl) : undefined;
  const secret = await loadCodeSecret(db, clear, config.codeHmacSecret);
  return { db, closeDb: close, redis, prefix: config.redisPrefix, secret, env };
}

function register(name: string, overrides: Record<string, string>) {
  const title = (what: string) => `[${name}] ${what}`;
  let backend: Backend | undefined;
  const open = () => {
    if (!backend) throw new Error('backend was not set up (see the failed before hook)');
    return backend;
  };

  /** A "process": its own limiters and codes on the shared storage, with a clock the test moves. */
  function processOn(clock: { ms: number }) {
    const b = open();
    const limiters = createLimiters({ db: b.db, redis: b.redis, prefix: b.prefix });
    return { limiters, codes: createCodes({ db: b.db, secret: b.secret, limiters, now: () => clock.ms }) };
  }
  function setup() {
    const clock = { ms: Date.now() };
    const start = clock.ms;
    const { codes, limiters } = processOn(clock);
    const flowId = newFlow();
    const identifier = newEmail();
    const ip = newIp();
    const issue = (over: Partial<{ flowId: string; identifier: string; ip: string; channel: CodeChannel; purpose: string }> = {}) =>
      codes.issue({ flowId, purpose: 'sign-in', channel: 'email', identifier, ip, ...over });
    const verify = (code: string, over: Partial<{ flowId: string; ip: string }> = {}) => codes.verify({ flowId, code, ip, ...over });
    return { clock, start, codes, limiters, flowId, identifier, ip, issue, verify };
  }

  test.before(title('open'), async () => {
    backend = await openBackend(overrides);
  });
  test.after.always(title('close'), async () => {
    if (!backend) return;
    await Promise.allSettled([backend.closeDb(), backend.redis?.quit()]);
    await backend.env.cleanup();
  });

  test(title('issue then verify returns who and what the code was for'), async (t) => {
    const s = setup();
    const issued = await s.issue({ channel: 'sms', identifier: '+15555550123', purpose: 'register' });
    t.regex(issued.code, /^\d{6}$/);
    t.is(issued.expiresAt.getTime(), s.start + CODE_LIMITS.ttlSeconds * SECOND);
    t.deepEqual(await s.verify(issued.code), { identifier: '+15555550123', channel: 'sms', purpose: 'register' });
  });

  test(title('the code is stored only as HMAC-SHA256(secret, flowId:code)'), async (t) => {
    const s = setup();
    const { code } = await s.issue();
    const row = await open().db('verification_codes').first().where({ flow_id: s.flowId });
    t.truthy(row);
    t.is(row.code_hmac, createHmac('sha256', open().secret).update(`${s.flowId}:${code}`).digest('hex'));
    for (const [column, value] of Object.entries(row)) {
      t.false(JSON.stringify(value).includes(code), `column ${column} does not hold the code`);
    }
    t.is(row.attempts, 0);
    t.is(row.consumed_at, null);
  });

  test(title('the code secret is generated once and shared; a configured one wins'), async (t) => {
    const { db, secret } = open();
    t.true(secret.length >= 32);
    t.is(await loadCodeSecret(db, clear), secret, 'a second process reads the same secret');
    t.is(await loadCodeSecret(db, clear, 'x'.repeat(40)), 'x'.repeat(40));
  });

  test(title('a wrong code counts down the attempts; after 5 the code is dead, even the right one'), async (t) => {
    const s = setup();
    const { code } = await s.issue();
    const left = [];
    for (let i = 0; i < CODE_LIMITS.maxAttempts; i++) left.push(await invalid(t, s.verify(wrong(code))));
    t.deepEqual(left, [4, 3, 2, 1, 0]);
    await rejectsWith(t, s.verify(code), CodeAttemptsExhausted, 'right code after 5 wrong');
    await rejectsWith(t, s.verify(wrong(code)), CodeAttemptsExhausted, 'wrong code after 5 wrong');
    const row = await open().db('verification_codes').first('attempts', 'consumed_at').where({ flow_id: s.flowId });
    t.deepEqual(row, { attempts: 5, consumed_at: null }, 'no more than 5 counted, never consumed');
  });

  test(title('a code is valid at 4 min 59 s and expired at 5 min 1 s'), async (t) => {
    const early = setup();
    const first = await early.issue();
    early.clock.ms += 5 * MINUTE - SECOND;
    t.is((await early.verify(first.code)).identifier, early.identifier, 'valid just before expiry');

    const late = setup();
    const second = await late.issue();
    late.clock.ms += 5 * MINUTE + SECOND;
    await rejectsWith(t, late.verify(second.code), CodeExpired, 'right code after expiry');
    await rejectsWith(t, late.verify(wrong(second.code)), CodeExpired, 'wrong code after expiry');
    const row = await open().db('verification_codes').first('attempts').where({ flow_id: late.flowId });
    t.is(row.attempts, 0, 'tries on an expired code are not counted');
  });

  test(title('a code is used once'), async (t) => {
    const s = setup();
    const { code } = await s.issue();
    await s.verify(code);
    t.is(await invalid(t, s.verify(code), 'second use'), 0);
    const other = processOn(s.clock);
    t.is(await invalid(t, other.codes.verify({ flowId: s.flowId, code, ip: s.ip }), 'second use by another process'), 0);
  });

  test(title('concurrent uses of the right code: exactly one succeeds'), async (t) => {
    const s = setup();
    const other = processOn(s.clock);
    const { code } = await s.issue();
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) =>
      (i % 2 ? other.codes : s.codes).verify({ flowId: s.flowId, code, ip: s.ip })));
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') t.true(r.reason instanceof CodeInvalid, String(r.reason));
  });

  test(title('a code from another flow never verifies'), async (t) => {
    const s = setup();
    const a = await s.issue();
    const otherFlow = newFlow();
    t.is(await invalid(t, s.verify(a.code, { flowId: otherFlow }), 'flow without a code'), 0);
    let b = await s.issue({ flowId: otherFlow });
    while (b.code === a.code) {
      // One in a million: both flows drew the same code. Draw again.
      s.clock.ms += CODE_LIMITS.resendAfterSeconds * SECOND;
      b = await s.issue({ flowId: otherFlow });
    }
    t.is(await invalid(t, s.verify(a.code, { flowId: otherFlow }), 'code of flow A on flow B'), 4);
    t.is((await s.verify(a.code)).identifier, s.identifier, 'still good on its own flow');
    t.is((await s.verify(b.code, { flowId: otherFlow })).identifier, s.identifier);
  });

  test(title('a new code for a flow invalidates the older one'), async (t) => {
    const s = setup();
    const old = await s.issue();
    s.clock.ms += CODE_LIMITS.resendAfterSeconds * SECOND;
    let fresh = await s.issue();
    while (fresh.code === old.code) {
      s.clock.ms += CODE_LIMITS.resendAfterSeconds * SECOND;
      fresh = await s.issue();
    }
    t.is(await invalid(t, s.verify(old.code), 'old code'), 4, 'the old code is a wrong code now');
    t.is((await s.verify(fresh.code)).identifier, s.identifier);
  });

  test(title('resend waits 60 s after the last send of the flow'), async (t) => {
    const s = setup();
    t.is(await s.codes.resendAvailableAt(s.flowId), undefined, 'nothing sent yet: send now');
    await s.issue();
    t.is((await s.codes.resendAvailableAt(s.flowId))?.getTime(), s.start + 60 * SECOND);
    s.clock.ms += 20 * SECOND;
    const err = await rejectsWith(t, s.issue(), RateLimited, 'resend after 20 s');
    t.is((err as RateLimited).retryAfter, 40);
    s.clock.ms += 39 * SECOND;
    t.is(((await rejectsWith(t, s.issue(), RateLimited, 'resend after 59 s')) as RateLimited).retryAfter, 1);
    s.clock.ms += SECOND;
    const resent = await s.issue();
    t.is(resent.expiresAt.getTime(), s.clock.ms + CODE_LIMITS.ttlSeconds * SECOND, 'sent at 60 s');
    t.is((await s.codes.resendAvailableAt(s.flowId))?.getTime(), s.clock.ms + 60 * SECOND);
    s.clock.ms += 60 * SECOND;
    t.is(await s.codes.resendAvailableAt(s.flowId), undefined, 'after the wait: send now');
  });

  test(title('after a code is used, the flow may be sent the next one at once'), async (t) => {
    const s = setup();
    const { code } = await s.issue();
    await s.verify(code);
    t.is(await s.codes.resendAvailableAt(s.flowId), undefined);
    const next = await s.issue({ purpose: 'confirm-phone', channel: 'sms', identifier: '+15555550199' });
    t.deepEqual(await s.verify(next.code), { identifier: '+15555550199', channel: 'sms', purpose: 'confirm-phone' });
  });

  test(title('sends to one identifier from strangers stop at sendsPerIdentifierPerHour, whatever their IPs; early resends do not count'), async (t) => {
    const s = setup();
    await s.issue();
    for (let i = 0; i < 3; i++) await rejectsWith(t, s.issue(), RateLimited, 'early resend');
    for (let i = 1; i < CODE_LIMITS.sendsPerIdentifierPerHour; i++) await s.issue({ flowId: newFlow(), ip: newIp() });
    const err = await rejectsWith(t, s.issue({ flowId: newFlow(), ip: newIp() }), RateLimited, '6th send');
    t.true((err as RateLimited).retryAfter > 3500, `retryAfter ${(err as RateLimited).retryAfter} is most of the hour`);
    await rejectsWith(t, s.issue({ flowId: newFlow(), identifier: s.identifier.toUpperCase() }), RateLimited, 'the same address in capitals');
    await t.notThrowsAsync(s.issue({ flowId: newFlow(), identifier: newEmail() }), 'another identifier is fine');
    await t.notThrowsAsync(s.issue({ flowId: newFlow(), channel: 'sms', identifier: '+15555550100' }), 'so is a phone number');
  });

  test(title('sends to one identifier from one IP stop at 5 an hour; other IPs still get theirs'), async (t) => {
    const s = setup();
    for (let i = 0; i < CODE_LIMITS.sendsPerIdentifierPerIpPerHour; i++) await s.issue({ flowId: newFlow() });
    await rejectsWith(t, s.issue({ flowId: newFlow() }), RateLimited, '6th send from the IP');
    await rejectsWith(t, s.issue({ flowId: newFlow(), identifier: s.identifier.toUpperCase() }), RateLimited, 'in capitals too');
    await t.notThrowsAsync(s.issue({ flowId: newFlow(), ip: newIp() }), 'another IP is fine');
  });

  test(title('a known device has its own sends, apart from the strangers\' cap'), async (t) => {
    const s = setup();
    for (let i = 0; i < CODE_LIMITS.sendsPerIdentifierPerHour; i++) await s.issue({ flowId: newFlow(), ip: newIp() });
    await rejectsWith(t, s.issue({ flowId: newFlow(), ip: newIp() }), RateLimited, 'strangers used up the identifier');
    const device = random();
    for (let i = 0; i < CODE_LIMITS.sendsPerKnownDevicePerHour; i++) {
      await t.notThrowsAsync(s.codes.issue({ flowId: newFlow(), purpose: 'sign-in', channel: 'email', identifier: s.identifier, ip: s.ip, knownDevice: device }), `known device send ${i + 1}`);
    }
    await rejectsWith(t, s.codes.issue({ flowId: newFlow(), purpose: 'sign-in', channel: 'email', identifier: s.identifier, ip: newIp(), knownDevice: device }), RateLimited, 'its own 5 an hour');
    await t.notThrowsAsync(s.codes.issue({ flowId: newFlow(), purpose: 'sign-in', channel: 'email', identifier: s.identifier, ip: s.ip, knownDevice: random() }), 'another known device');
  });

  test(title('wrong codes from a known device count apart; a right one clears the identifier'), async (t) => {
    const s = setup();
    const key = codeIdentifierKey('email', s.identifier);
    await s.limiters.codeFailuresPerIdentifier.consume(key, CODE_LIMITS.verifyFailuresPerIdentifierPerDay);
    const { code } = await s.issue();
    await rejectsWith(t, s.verify(code), RateLimited, 'strangers reached 100: refused');
    const device = random();
    t.is(await invalid(t, s.codes.verify({ flowId: s.flowId, code: wrong(code), ip: s.ip, knownDevice: device })), 4, 'a known device still tries');
    t.is((await s.codes.verify({ flowId: s.flowId, code, ip: s.ip, knownDevice: device })).purpose, 'sign-in');
    const nextFlow = newFlow();
    const next = await s.issue({ flowId: nextFlow });
    t.is(await invalid(t, s.verify(wrong(next.code), { flowId: nextFlow })), 4, 'the right code cleared the strangers\' count');
  });

  test(title('sends per IP are limited to 30 an hour'), async (t) => {
    const s = setup();
    for (let i = 0; i < CODE_LIMITS.sendsPerIpPerHour; i++) await s.issue({ flowId: newFlow(), identifier: newEmail() });
    await rejectsWith(t, s.issue({ flowId: newFlow(), identifier: newEmail() }), RateLimited, '31st send from the IP');
    await t.notThrowsAsync(s.issue({ flowId: newFlow(), identifier: newEmail(), ip: newIp() }), 'another IP is fine');
  });

  test(title('code entries per IP are limited to 100 an hour, right or wrong'), async (t) => {
    const s = setup();
    const { code } = await s.issue();
    const outcomes = [];
    for (let i = 0; i < CODE_LIMITS.verifyAttemptsPerIpPerHour; i++) outcomes.push(await rejectionOf(s.verify(wrong(code))));
    t.is(outcomes.filter((e) => e instanceof CodeInvalid).length, 5);
    t.is(outcomes.filter((e) => e instanceof CodeAttemptsExhausted).length, 95);
    const otherFlow = newFlow();
    const otherEmail = newEmail();
    const other = await s.issue({ flowId: otherFlow, identifier: otherEmail });
    await rejectsWith(t, s.verify(other.code, { flowId: otherFlow }), RateLimited, '101st entry, right code');
    t.deepEqual(await s.verify(other.code, { flowId: otherFlow, ip: newIp() }),
      { identifier: otherEmail, channel: 'email', purpose: 'sign-in' }, 'another IP is fine');
  });

  test(title('100 failed entries for one identifier lock it until a right code clears the count'), async (t) => {
    const s = setup();
    const key = codeIdentifierKey('email', s.identifier);
    const { code } = await s.issue();
    // 99 earlier failures (on earlier codes); this code's first wrong try is the 100th.
    await s.limiters.codeFailuresPerIdentifier.consume(key, CODE_LIMITS.verifyFailuresPerIdentifierPerDay - 1);
    t.is(await invalid(t, s.verify(wrong(code))), 4);
    const err = await rejectsWith(t, s.verify(code, { ip: newIp() }), RateLimited, 'locked, even for the right code and from another IP');
    t.true((err as RateLimited).retryAfter > 86_000, 'for the rest of the day');

    const u = setup();
    const ukey = codeIdentifierKey('email', u.identifier);
    await u.limiters.codeFailuresPerIdentifier.consume(ukey, CODE_LIMITS.verifyFailuresPerIdentifierPerDay - 1);
    await u.verify((await u.issue()).code);
    const next = await u.issue();
    // Without the reset the second wrong try would be locked out (99 + 1 = 100).
    t.is(await invalid(t, u.verify(wrong(next.code))), 4);
    t.is(await invalid(t, u.verify(wrong(next.code))), 3);
  });

  test(title('two processes share attempts, single use and send limits'), async (t) => {
    const s = setup();
    const other = processOn(s.clock);
    const { code } = await s.issue();
    t.is(await invalid(t, s.verify(wrong(code))), 4);
    t.is(await invalid(t, other.codes.verify({ flowId: s.flowId, code: wrong(code), ip: s.ip })), 3);
    t.is(await invalid(t, s.verify(wrong(code))), 2);
    t.is(await invalid(t, other.codes.verify({ flowId: s.flowId, code: wrong(code), ip: s.ip })), 1);
    t.is(await invalid(t, s.verify(wrong(code))), 0);
    await rejectsWith(t, other.codes.verify({ flowId: s.flowId, code, ip: s.ip }), CodeAttemptsExhausted);

    await rejectsWith(t, other.codes.issue({ flowId: s.flowId, purpose: 'sign-in', channel: 'email', identifier: s.identifier, ip: s.ip }),
      RateLimited, 'the other process sees the resend wait');
    for (let i = 1; i < CODE_LIMITS.sendsPerIdentifierPerHour; i++) {
      await (i % 2 ? other.codes : s.codes).issue({ flowId: newFlow(), purpose: 'sign-in', channel: 'email', identifier: s.identifier, ip: newIp() });
    }
    await rejectsWith(t, s.issue({ flowId: newFlow(), ip: newIp() }), RateLimited, '6th send, counted across both');
  });

  test(title('concurrent sends for one flow: exactly one goes out'), async (t) => {
    const s = setup();
    const other = processOn(s.clock);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) =>
      (i % 2 ? other.codes : s.codes).issue({ flowId: s.flowId, purpose: 'sign-in', channel: 'email', identifier: newEmail(), ip: newIp() })));
    const sent = results.filter((r) => r.status === 'fulfilled');
    t.is(sent.length, 1);
    for (const r of results) if (r.status === 'rejected') t.true(r.reason instanceof RateLimited, String(r.reason));
    t.is((await s.verify((sent[0] as PromiseFulfilledResult<{ code: string }>).value.code)).purpose, 'sign-in', 'the code that went out is the stored one');
  });

  test(title('10 concurrent wrong codes count exactly 5 tries'), async (t) => {
    const s = setup();
    const other = processOn(s.clock);
    const { code } = await s.issue();
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? other.codes : s.codes).verify({ flowId: s.flowId, code: wrong(code), ip: s.ip })));
    const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : r.value));
    const left = reasons.filter((e) => e instanceof CodeInvalid).map((e: CodeInvalid) => e.attemptsLeft).sort();
    t.deepEqual(left, [0, 1, 2, 3, 4], 'each of the 5 counted tries saw its own count');
    t.is(reasons.filter((e) => e instanceof CodeAttemptsExhausted).length, 5, 'the rest found the code dead');
    const row = await open().db('verification_codes').first('attempts').where({ flow_id: s.flowId });
    t.is(row.attempts, 5);
    await rejectsWith(t, s.verify(code), CodeAttemptsExhausted, 'the right code afterwards');
  });

  test(title('purgeExpiredCodes deletes expired codes only'), async (t) => {
    // A day in the past, so the purge cannot touch the codes of tests running alongside.
    const expired = setup();
    expired.clock.ms -= 24 * 60 * MINUTE;
    await expired.issue();
    const live = setup();
    live.clock.ms -= 24 * 60 * MINUTE - 10 * MINUTE;
    await live.issue();
    const before = new Date(expired.clock.ms + CODE_LIMITS.ttlSeconds * SECOND + SECOND);
    t.true((await purgeExpiredCodes(open().db, before)) >= 1);
    const db = open().db;
    t.is(await db('verification_codes').first('flow_id').where({ flow_id: expired.flowId }), undefined);
    t.truthy(await db('verification_codes').first('flow_id').where({ flow_id: live.flowId }));
  });
}

register('embedded', { DATABASE_URL: '', REDIS_URL: '' });
if (process.env.DATABASE_URL) register('postgres', { REDIS_URL: '' });
if (process.env.REDIS_URL) register(process.env.DATABASE_URL ? 'postgres + redis' : 'embedded + redis', {});
