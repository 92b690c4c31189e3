// Start-up refuses bad configuration with one line naming the variable, exit 1.
import test from 'ava';
import { run } from './helpers/process.ts';
import { freePort, testEnvironment } from './helpers/environment.ts';
import { loadConfig, ConfigError, CONFIG_VARIABLES } from '../server/config/index.ts';
import { HINTS } from '../server/config/problems.ts';
import { contrast } from '../server/config/brand.ts';

// Generous: in embedded mode a start creates and migrates a fresh embedded PostgreSQL first, slow on a loaded machine.
async function start(overrides: Record<string, string>, args: string[] = []) {
  const environment = await testEnvironment();
  try {
    return await run(['server/main.ts', ...args], { ...environment.env, ...overrides }, 120_000);
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
  assertOneLineError(t, await start({ ACCESS_TOKEN_TTL: 'abc' }), /^enot-id: invalid configuration: ACCESS_TOKEN_TTL=abc: not a whole number; use seconds from 60 to 86400, such as 900/);
});

test('a malformed DATABASE_URL stops the start with one line', async (t) => {
  assertOneLineError(t, await start({ DATABASE_URL: 'not a url' }), /DATABASE_URL=not a url: not a URL starting with postgres:\/\/ or postgresql:\/\/.*; use a PostgreSQL URL such as postgres:\/\//);
});

test('an unreachable database stops the start with one line naming PostgreSQL and its URL, password hidden', async (t) => {
  const port = await freePort(); // nothing listens there: a real refused connection
  const result = await start({ DATABASE_URL: `postgres://enot:hunter2@127.0.0.1:${port}/test` });
  assertOneLineError(t, result, new RegExp(`^enot-id: could not start: PostgreSQL at postgres://enot:\\*\\*\\*@127\\.0\\.0\\.1:${port}/test is unreachable: connection refused \\(ECONNREFUSED\\); check DATABASE_URL `));
  t.notRegex(result.stderr + result.stdout, /hunter2/);
});

test('an unreachable Redis stops the start with one line naming Redis and its URL, password hidden; not "Connection is closed."', async (t) => {
  const port = await freePort();
  const result = await start({ REDIS_URL: `redis://:hunter2@127.0.0.1:${port}/0` });
  assertOneLineError(t, result, new RegExp(`^enot-id: could not start: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 is unreachable: connection refused \\(ECONNREFUSED\\); check REDIS_URL `));
  t.notRegex(result.stderr + result.stdout, /hunter2|Connection is closed/);
});

test('a Redis host name that does not resolve is named as such', async (t) => {
  const result = await start({ REDIS_URL: 'redis://cache.invalid:6379' });
  assertOneLineError(t, result, /^enot-id: could not start: Redis at redis:\/\/cache\.invalid:6379 is unreachable: the host name does not resolve \((ENOTFOUND|EAI_AGAIN)\); check REDIS_URL/);
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

test('DATABASE_POOL_MAX: 10 connections by default, 1 to 1000', (t) => {
  t.is(loadConfig({}).databasePoolMax, 10);
  t.is(loadConfig({ DATABASE_POOL_MAX: '25' }).databasePoolMax, 25);
});

test('each variable is validated', (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ISSUER: 'ftp://x' }, /^invalid configuration: ISSUER=ftp:\/\/x: not a URL starting with http:\/\/ or https:\/\/.*; use .* such as http:\/\/localhost:3000/],
    [{ ISSUER: 'http://x/#frag' }, /^invalid configuration: ISSUER=http:\/\/x\/#frag: .*without #/],
    [{ ISSUER: 'https://id.example.com/auth' }, /^invalid configuration: ISSUER=https:\/\/id\.example\.com\/auth: has a path, a query or a user, but Enot ID answers at the root of its host; use the URL/],
    [{ ISSUER: 'https://id.example.com/?tenant=1' }, /^invalid configuration: ISSUER=.*: has a path, a query or a user/],
    [{ PORT: '70000' }, /^invalid configuration: PORT=70000: more than 65535; use a TCP port from 0 to 65535, such as 3000$/],
    [{ REDIS_URL: 'http://localhost' }, /^invalid configuration: REDIS_URL=http:\/\/localhost: not a URL starting with redis:\/\/, rediss:\/\/, redis\+cluster:\/\/.*; use a Redis URL such as redis:\/\/localhost:6379/],
    [{ COOKIE_KEYS: 'short' }, /^invalid configuration: COOKIE_KEYS \(value hidden\): entry 1: shorter than 32 characters; use .*openssl rand -base64 32/],
    [{ LOG_LEVEL: 'loud' }, /^invalid configuration: LOG_LEVEL=loud: not one of fatal, error, warn, info, debug, trace, silent; /],
    [{ REFRESH_TOKEN_TTL: '-5' }, /^invalid configuration: REFRESH_TOKEN_TTL=-5: not a whole number; use seconds from 300 to 31536000/],
    [{ ACCESS_TOKEN_TTL: '10' }, /^invalid configuration: ACCESS_TOKEN_TTL=10: less than 60; use seconds from 60 to 86400, such as 900/],
    [{ DEFAULT_RESOURCE: 'not a uri' }, /^invalid configuration: DEFAULT_RESOURCE=not a uri: not an absolute URI .*; use .* such as urn:enot-id:api/],
    [{ RESOURCE_SERVERS: '{' }, /^invalid configuration: RESOURCE_SERVERS=\{: not JSON; use a JSON array such as \[\{"identifier":/],
    [{ RESOURCE_SERVERS: '{"identifier":"https://a"}' }, /^invalid configuration: RESOURCE_SERVERS=.*: not an array; use a JSON array/],
    [{ RESOURCE_SERVERS: '[{"identifier":"x"}]' }, /^invalid configuration: RESOURCE_SERVERS=.*: entry 1 "identifier": not an absolute URI/],
    [{ RESOURCE_SERVERS: '[{"identifier":"https://a","accessTokenFormat":"xml"}]' }, /^invalid configuration: RESOURCE_SERVERS=.*: entry 1 "accessTokenFormat": not one of jwt, opaque; /],
    [{ INITIAL_ACCESS_TOKEN: 'short' }, /^invalid configuration: INITIAL_ACCESS_TOKEN \(value hidden\): shorter than 32 characters; use a random string/],
    [{ DATABASE_SCHEMA: 'Robert"; drop' }, /^invalid configuration: DATABASE_SCHEMA=Robert"; drop: not a lower-case SQL name; use .* such as public/],
    [{ TRUST_PROXY: 'maybe' }, /^invalid configuration: TRUST_PROXY=maybe: not one of .*true, false.*; use true or false$/],
    [{ STORAGE_TIMEOUT_MS: '2s' }, /^invalid configuration: STORAGE_TIMEOUT_MS=2s: not a whole number; use milliseconds from 100 to 60000, such as 2000$/],
    [{ STORAGE_TIMEOUT_MS: '50' }, /^invalid configuration: STORAGE_TIMEOUT_MS=50: less than 100; /],
    [{ STORAGE_TIMEOUT_MS: '600000' }, /^invalid configuration: STORAGE_TIMEOUT_MS=600000: more than 60000; /],
    [{ STORAGE_CONNECT_TIMEOUT_MS: '0' }, /^invalid configuration: STORAGE_CONNECT_TIMEOUT_MS=0: less than 100; /],
    [{ DATABASE_POOL_MAX: '0' }, /^invalid configuration: DATABASE_POOL_MAX=0: less than 1; use a number of connections from 1 to 1000, such as 10$/],
    [{ DATABASE_POOL_MAX: 'lots' }, /^invalid configuration: DATABASE_POOL_MAX=lots: not a whole number; /],
    // Two letters are not enough: the region must be one that has phone numbers.
    [{ DEFAULT_PHONE_REGION: 'XX' }, /^invalid configuration: DEFAULT_PHONE_REGION=XX: not a country code libphonenumber knows; use a two-letter ISO 3166 code such as DE or US$/],
    [{ DEFAULT_PHONE_REGION: 'de' }, /^invalid configuration: DEFAULT_PHONE_REGION=de: written in lower case, but country codes are capitals; use a two-letter ISO 3166 code such as DE or US$/],
    [{ DEFAULT_ROLES: 'user,Admin' }, /^invalid configuration: DEFAULT_ROLES=user,Admin: "Admin" is not a role name; use comma-separated role names/],
    [{ MAIL_FROM: 'x' }, /^invalid configuration: MAIL_FROM=x: shorter than 3 characters; use a sender such as /],
  ];
  for (const [env, pattern] of cases) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError }, JSON.stringify(env));
    t.regex(error!.message, pattern);
    // The variable, the problem, then an example, in plain words: never the validator's own text.
    t.regex(error!.message, /^invalid configuration: [A-Z_]+(=.*| \(value hidden\)): [^;]+; (use|set) .+ (such as|or) /, error!.message);
    t.notRegex(error!.message, /Too small|Too big|Invalid input|expected (string|number)|must be/, error!.message);
  }
  t.is(loadConfig({ DEFAULT_PHONE_REGION: 'RU' }).defaultPhoneRegion, 'RU');
});

test('every variable has an example of a good value; secrets and passwords are never repeated', (t) => {
  const withOwnMessages = ['NODE_ENV', 'SECRETS_KEY'];
  t.deepEqual(CONFIG_VARIABLES.filter((name) => !withOwnMessages.includes(name) && !HINTS[name]), []);
  const secret = t.throws(() => loadConfig({ METRICS_TOKEN: 'tiny-token-value' }), { instanceOf: ConfigError });
  t.regex(secret!.message, /^invalid configuration: METRICS_TOKEN \(value hidden\): shorter than 32 characters; /);
  t.notRegex(secret!.message, /tiny-token-value/);
  const url = t.throws(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db.example.com/enot' }), { instanceOf: ConfigError });
  t.regex(url!.message, /^invalid configuration: DATABASE_URL=mysql:\/\/root:\*\*\*@db\.example\.com\/enot: /);
  t.notRegex(url!.message, /hunter2/);
  const unparsable = t.throws(() => loadConfig({ SMTP_URL: 'smtp://mailer:hunter2@exa mple.com' }), { instanceOf: ConfigError });
  t.notRegex(unparsable!.message, /hunter2/, unparsable!.message);
  t.regex(unparsable!.message, /SMTP_URL=smtp:\/\/mailer:\*\*\*@exa mple\.com: /);
});

test('traces: off without an OTLP endpoint; the endpoint an http(s) URL; the standard OTEL_* switches and sampler', (t) => {
  t.is(loadConfig({}).tracing, undefined);
  t.deepEqual(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing, {
    url: 'http://collector:4318/v1/traces', serviceName: undefined, sampler: 'parentbased_always_on', samplerRatio: 1, exportDelayMs: 5000,
  });
  const traces = loadConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/in',
    OTEL_SERVICE_NAME: 'id-eu', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25',
  }).tracing;
  t.like(traces, { url: 'https://traces.example.com/in', serviceName: 'id-eu', sampler: 'parentbased_traceidratio', samplerRatio: 0.25 });
  t.is(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing, undefined);
  t.is(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing, undefined);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /^invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: not a URL starting with http:\/\/ or https:\/\/.*; use the OTLP\/HTTP URL of a collector such as http:\/\/otel-collector:4318/],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /^invalid configuration: OTEL_EXPORTER_OTLP_PROTOCOL=grpc: .*; use http\/json/],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, /^invalid configuration: OTEL_TRACES_SAMPLER=sometimes: .*; use a sampler such as parentbased_always_on/],
    [{ OTEL_TRACES_SAMPLER_ARG: '2' }, /^invalid configuration: OTEL_TRACES_SAMPLER_ARG=2: not a number from 0 to 1; use a ratio from 0 to 1/],
  ];
  for (const [env, pattern] of cases) t.regex(t.throws(() => loadConfig(env), { instanceOf: ConfigError })!.message, pattern);
});

test('production refuses the dev outbox unless it is allowed', (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), { message: /SMTP_URL is required when NODE_ENV=production; use an SMTP URL such as smtps:\/\// });
  t.throws(() => loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail:25' }), { message: /SMS_WEBHOOK_URL is required/ });
  t.true(loadConfig({ NODE_ENV: 'production', ALLOW_DEV_OUTBOX: 'true' }).production);
  t.is(loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail:25', SMS_WEBHOOK_URL: 'https://sms.example/hook' }).delivery.smtpUrl, 'smtp://mail:25');
});

test('TRUST_PROXY_HOPS: 1 by default with TRUST_PROXY, 1-10, and only with TRUST_PROXY', (t) => {
  t.is(loadConfig({}).proxyHops, 0);
  t.is(loadConfig({ TRUST_PROXY: 'true' }).proxyHops, 1);
  t.is(loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2' }).proxyHops, 2);
  t.throws(() => loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '0' }), { message: /^invalid configuration: TRUST_PROXY_HOPS=0: less than 1; / });
  t.throws(() => loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: 'all' }), { message: /^invalid configuration: TRUST_PROXY_HOPS=all: not a whole number; use the number of proxies/ });
  t.throws(() => loadConfig({ TRUST_PROXY_HOPS: '2' }), { message: /^invalid configuration: TRUST_PROXY_HOPS=2: needs TRUST_PROXY=true; set TRUST_PROXY=true /});
});

test('demo mode: --demo or ENOT_DEMO, with the sample app and the orders API on the issuer host, and the orders resource configured', (t) => {
  t.is(loadConfig({}).demo, undefined);
  const config = loadConfig({}, { demo: true });
  t.deepEqual(config.demo, {
    listenHost: 'localhost',
    webAppUrl: 'http://localhost:3001',
    webPort: 3001,
    ordersApiUrl: 'http://localhost:4000/orders',
    apiPort: 4000,
    ordersResource: 'https://orders.example.com',
  });
  t.true(config.resourceServers.some((r) => r.identifier === 'https://orders.example.com' && r.scope === 'orders:read orders:write'));
  t.false(loadConfig({}).resourceServers.some((r) => r.identifier === 'https://orders.example.com'), 'only in demo mode');
  const env = { ENOT_DEMO: 'true', ISSUER: 'http://127.0.0.1:3100', PORT: '3100', ENOT_DEMO_WEB_PORT: '3101', ENOT_DEMO_API_PORT: '3102' };
  t.is(loadConfig(env).demo?.webAppUrl, 'http://127.0.0.1:3101');
  t.is(loadConfig(env).demo?.ordersApiUrl, 'http://127.0.0.1:3102/orders');
});

test('demo mode is refused where it would be a back door: https or public ISSUER, production, a DATABASE_URL without the opt-in', (t) => {
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ ISSUER: 'https://id.example.com' }, /^invalid configuration: demo mode \(ENOT_DEMO or --demo\) with ISSUER=https:\/\/id\.example\.com: demo mode is for a local http issuer only .*; use ISSUER=http:\/\/localhost:3000/],
    [{ ISSUER: 'https://localhost:3000' }, /with ISSUER=https:\/\/localhost:3000: demo mode is for a local http issuer only/],
    [{ ISSUER: 'http://192.168.1.20:3000' }, /with ISSUER=http:\/\/192\.168\.1\.20:3000: demo mode is for a local http issuer only/],
    [{ NODE_ENV: 'production', ALLOW_DEV_OUTBOX: 'true' }, /with NODE_ENV=production: .*unset ENOT_DEMO/],
    [{ DATABASE_URL: 'postgres://enot:hunter2@db.example.com/enot' }, /with DATABASE_URL is set: .*set ENOT_DEMO_ALLOW_DATABASE_URL=true/],
    [{ ENOT_DEMO_WEB_PORT: '3000' }, /PORT=3000, ENOT_DEMO_WEB_PORT=3000 and ENOT_DEMO_API_PORT=4000 must differ/],
  ];
  for (const [env, pattern] of refused) {
    for (const demo of [{ ENOT_DEMO: 'true' }, {}]) {
      const error = t.throws(() => loadConfig({ ...env, ...demo }, { demo: !('ENOT_DEMO' in demo) }), { instanceOf: ConfigError }, JSON.stringify(env));
      t.regex(error!.message, pattern);
      t.notRegex(error!.message, /hunter2/);
    }
    // The same settings without demo mode are fine.
    t.notThrows(() => loadConfig(env), JSON.stringify(env));
  }
  t.truthy(loadConfig({ ENOT_DEMO: 'true', DATABASE_URL: 'postgres://localhost/try', ENOT_DEMO_ALLOW_DATABASE_URL: 'true' }).demo, 'with the opt-in');
});

test('the server takes one argument, --demo; demo mode refused at start is one line, exit 1', async (t) => {
  assertOneLineError(t, await start({}, ['--demos']), /^enot-id: unknown argument --demos; the only one is --demo \(npm start -- --demo\)$/);
  assertOneLineError(t, await start({ ISSUER: 'https://id.example.com' }, ['--demo']), /^enot-id: invalid configuration: demo mode \(ENOT_DEMO or --demo\) with ISSUER=https:\/\/id\.example\.com: /);
});

test('branding: BRAND_NAME, BRAND_LOGO_URL, BRAND_COLOR and SUPPORT_URL are checked, in plain words', (t) => {
  t.deepEqual(loadConfig({}).brand, { name: 'Enot ID', logoUrl: undefined, colors: undefined, supportUrl: undefined });
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const good = loadConfig({ BRAND_NAME: ' Example ID ', BRAND_LOGO_URL: png, BRAND_COLOR: '#25C', SUPPORT_URL: 'mailto:help@example.com' }).brand;
  t.is(good.name, 'Example ID');
  t.is(good.logoUrl, png);
  t.is(good.colors?.accent, '#2255cc', '#rgb is written out');
  t.is(loadConfig({ BRAND_LOGO_URL: 'https://cdn.example.com/logo.webp', SUPPORT_URL: 'https://example.com/help' }).brand.supportUrl, 'https://example.com/help');
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ BRAND_LOGO_URL: 'javascript:alert(1)' }, /^invalid configuration: BRAND_LOGO_URL=javascript:alert\(1\): not an https URL or a data:image\/png, jpeg, gif or webp base64 URI; use an https URL such as /],
    [{ BRAND_LOGO_URL: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=' }, /^invalid configuration: BRAND_LOGO_URL=data:image\/svg\+xml;base64,PHN2Zz48L3N2Zz4=: an SVG image, which can carry scripts; use /],
    [{ BRAND_LOGO_URL: 'data:text/html;base64,PHNjcmlwdD4=' }, /BRAND_LOGO_URL=.*: a data: URI that is not a base64 PNG, JPEG, GIF or WebP image; use /],
    [{ BRAND_LOGO_URL: 'http://cdn.example.com/logo.png' }, /BRAND_LOGO_URL=http:\/\/cdn\.example\.com\/logo\.png: not an https URL/],
    [{ BRAND_COLOR: 'blue' }, /^invalid configuration: BRAND_COLOR=blue: not a hex colour; use a hex colour such as #2b59c3 or #25c$/],
    [{ BRAND_COLOR: '#12345' }, /BRAND_COLOR=#12345: not a hex colour; /],
    [{ BRAND_NAME: 'x'.repeat(61) }, /^invalid configuration: BRAND_NAME=x+: longer than 60 characters; use a short name /],
    [{ BRAND_NAME: 'Evil\u0007ID' }, /BRAND_NAME=.*: holds control characters; use /],
    [{ SUPPORT_URL: 'javascript:alert(1)' }, /^invalid configuration: SUPPORT_URL=javascript:alert\(1\): not an https URL or a mailto: address; use an https URL such as https:\/\/example\.com\/help, or an address such as mailto:help@example\.com$/],
    [{ SUPPORT_URL: 'http://example.com/help' }, /SUPPORT_URL=http:\/\/example\.com\/help: not an https URL or a mailto: address; /],
    [{ DOCS_URL: 'javascript:alert(1)' }, /^invalid configuration: DOCS_URL=javascript:alert\(1\): not a URL starting with https:\/\/ or http:\/\/ .*; use the URL of the published README such as /],
    [{ DOCS_URL: 'https://example.com/readme#quick-start' }, /DOCS_URL=.*: not a URL .*\(and without #…\); use /],
  ];
  for (const [env, pattern] of refused) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError }, JSON.stringify(env));
    t.regex(error!.message, pattern);
    t.regex(error!.message, /^invalid configuration: [A-Z_]+=.*: [^;]+; use .+ such as /, error!.message);
  }
});

test('BRAND_COLOR: the text on it is white or near-black, whichever keeps WCAG AA contrast (4.5:1), its hover shade too', (t) => {
  t.is(loadConfig({ BRAND_COLOR: '#2b59c3' }).brand.colors?.onAccent, '#ffffff', 'a dark blue takes white text');
  t.not(loadConfig({ BRAND_COLOR: '#ffd400' }).brand.colors?.onAccent, '#ffffff', 'a yellow takes dark text');
  // Every grey and a spread of colours, the hardest ones (around 4.5:1 both ways) among them.
  const colours = [...Array(256).keys()].map((v) => `#${v.toString(16).padStart(2, '0').repeat(3)}`);
  for (let i = 0; i < 4096; i += 7) colours.push(`#${[i >> 8, (i >> 4) & 15, i & 15].map((d) => d.toString(16).repeat(2)).join('')}`);
  for (const colour of colours) {
    const colors = loadConfig({ BRAND_COLOR: colour }).brand.colors!;
    t.true(contrast(colors.accent, colors.onAccent) >= 4.5, `${colour} with ${colors.onAccent}`);
    t.true(contrast(colors.accentHover, colors.onAccent) >= 4.5, `${colour} hovered (${colors.accentHover}) with ${colors.onAccent}`);
  }
  t.is(contrast('#ffffff', '#000000'), 21, 'the WCAG formula: black on white is 21:1');
  t.is(Math.round(contrast('#767676', '#ffffff') * 100) / 100, 4.54, 'and #767676 on white the known 4.54:1');
});

test('a bad BRAND_LOGO_URL stops the start with one line', async (t) => {
  assertOneLineError(t, await start({ BRAND_LOGO_URL: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=' }), /^enot-id: invalid configuration: BRAND_LOGO_URL=data:image\/svg\+xml;base64,PHN2Zz48L3N2Zz4=: an SVG image, which can carry scripts; use an https URL/);
});
