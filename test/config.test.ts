// Start-up refuses bad configuration with one line naming the variable, exit 1.
import test from 'ava';
import { run } from './helpers/process.ts';
import { testEnvironment } from './helpers/environment.ts';
import { loadConfig, ConfigError } from '../server/config/index.ts';

async function start(overrides: Record<string, string>) {
  const environment = await testEnvironment();
  try {
    return await run(['server/main.ts'], { ...environment.env, ...overrides }, 30_000);
  } finally {
    await environment.cleanup();
  }
}

function assertOneLineError(t: import('ava').ExecutionContext, result: Awaited<ReturnType<typeof run>>, pattern: RegExp) {
  t.is(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  t.is(lines.length, 1, `one line, got: ${result.stderr}`);
  t.regex(lines[0]!, pattern);
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
}

test('ACCESS_TOKEN_TTL=abc stops the start with one line', async (t) => {
  assertOneLineError(t, await start({ ACCESS_TOKEN_TTL: 'abc' }), /ACCESS_TOKEN_TTL must be a whole number, got "abc"/);
});

test('a malformed DATABASE_URL stops the start with one line', async (t) => {
  assertOneLineError(t, await start({ DATABASE_URL: 'not a url' }), /DATABASE_URL must be a postgres or postgresql URL/);
});

test('an unreachable database stops the start with one line', async (t) => {
  assertOneLineError(t, await start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' }), /could not start: .*ECONNREFUSED/);
});

test('defaults: 15-minute access tokens, 7-day refresh tokens, embedded storage', (t) => {
  const config = loadConfig({});
  t.is(config.accessTokenTtl, 900);
  t.is(config.refreshTokenTtl, 604_800);
  t.is(config.issuer, 'http://localhost:3000');
  t.is(config.databaseUrl, undefined);
  t.is(config.redisUrl, undefined);
  t.is(config.dataDir, './data');
});

test('storage deadlines: 2 s by default, in milliseconds, within 100 ms – 60 s', (t) => {
  t.deepEqual(loadConfig({}).storageTimeouts, { commandMs: 2_000, connectMs: 2_000 });
  t.deepEqual(loadConfig({ STORAGE_TIMEOUT_MS: '3500', STORAGE_CONNECT_TIMEOUT_MS: '750' }).storageTimeouts, { commandMs: 3_500, connectMs: 750 });
});

test('each variable is validated', (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ISSUER: 'ftp://x' }, /^invalid configuration: ISSUER /],
    [{ ISSUER: 'http://x/#frag' }, /^invalid configuration: ISSUER /],
    [{ PORT: '70000' }, /^invalid configuration: PORT /],
    [{ REDIS_URL: 'http://localhost' }, /^invalid configuration: REDIS_URL /],
    [{ COOKIE_KEYS: 'short' }, /^invalid configuration: COOKIE_KEYS /],
    [{ LOG_LEVEL: 'loud' }, /^invalid configuration: LOG_LEVEL /],
    [{ REFRESH_TOKEN_TTL: '-5' }, /^invalid configuration: REFRESH_TOKEN_TTL /],
    [{ ACCESS_TOKEN_TTL: '10' }, /^invalid configuration: ACCESS_TOKEN_TTL /],
    [{ DEFAULT_RESOURCE: 'not a uri' }, /^invalid configuration: DEFAULT_RESOURCE /],
    [{ RESOURCE_SERVERS: '{' }, /^invalid configuration: RESOURCE_SERVERS must be a JSON array/],
    [{ RESOURCE_SERVERS: '[{"identifier":"x"}]' }, /^invalid configuration: RESOURCE_SERVERS /],
    [{ INITIAL_ACCESS_TOKEN: 'short' }, /^invalid configuration: INITIAL_ACCESS_TOKEN /],
    [{ DATABASE_SCHEMA: 'Robert"; drop' }, /^invalid configuration: DATABASE_SCHEMA /],
    [{ TRUST_PROXY: 'maybe' }, /^invalid configuration: TRUST_PROXY /],
    [{ STORAGE_TIMEOUT_MS: '2s' }, /^invalid configuration: STORAGE_TIMEOUT_MS must be a whole number/],
    [{ STORAGE_TIMEOUT_MS: '50' }, /^invalid configuration: STORAGE_TIMEOUT_MS /],
    [{ STORAGE_TIMEOUT_MS: '600000' }, /^invalid configuration: STORAGE_TIMEOUT_MS /],
    [{ STORAGE_CONNECT_TIMEOUT_MS: '0' }, /^invalid configuration: STORAGE_CONNECT_TIMEOUT_MS /],
    // Two letters are not enough: the region must be one that has phone numbers.
    [{ DEFAULT_PHONE_REGION: 'XX' }, /^invalid configuration: DEFAULT_PHONE_REGION must be a two-letter ISO 3166 region .* such as US, DE or RU/],
    [{ DEFAULT_PHONE_REGION: 'de' }, /^invalid configuration: DEFAULT_PHONE_REGION /],
  ];
  for (const [env, pattern] of cases) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError }, JSON.stringify(env));
    t.regex(error!.message, pattern);
  }
  t.is(loadConfig({ DEFAULT_PHONE_REGION: 'RU' }).defaultPhoneRegion, 'RU');
});

test('production refuses the dev outbox unless it is allowed', (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), { message: /SMTP_URL is required when NODE_ENV=production/ });
  t.throws(() => loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail:25' }), { message: /SMS_WEBHOOK_URL is required/ });
  t.true(loadConfig({ NODE_ENV: 'production', ALLOW_DEV_OUTBOX: 'true' }).production);
  t.is(loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail:25', SMS_WEBHOOK_URL: 'https://sms.example/hook' }).delivery.smtpUrl, 'smtp://mail:25');
});

test('TRUST_PROXY_HOPS: 1 by default with TRUST_PROXY, 1-10, and only with TRUST_PROXY', (t) => {
  t.is(loadConfig({}).proxyHops, 0);
  t.is(loadConfig({ TRUST_PROXY: 'true' }).proxyHops, 1);
  t.is(loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2' }).proxyHops, 2);
  t.throws(() => loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '0' }), { message: /^invalid configuration: TRUST_PROXY_HOPS / });
  t.throws(() => loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: 'all' }), { message: /^invalid configuration: TRUST_PROXY_HOPS must be a whole number/ });
  t.throws(() => loadConfig({ TRUST_PROXY_HOPS: '2' }), { message: /^invalid configuration: TRUST_PROXY_HOPS needs TRUST_PROXY=true/ });
});
