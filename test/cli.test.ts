// The CLI as an operator runs it: a real child process, configured only by its
// environment, on storage of its own per test. Commands within one test run one
// after another (the embedded database admits one process at a time).
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../server/config/index.ts';
import { openDatabase, type Database } from '../server/db/connect.ts';
import { migrations } from '../migrations/index.ts';
import { sqlAdapterFactory } from '../adapters/sql.ts';
import { testEnvironment } from './helpers/environment.ts';
import { verifyPassword } from '../server/accounts/passwords.ts';

const NODE = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const MAIN = fileURLToPath(new URL('../server/cli/main.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../server/cli/bin.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

type Cli = ((...args: string[]) => Promise<Result>) & {
  env: Record<string, string>;
  /** The same, with `input` on standard input. */
  withInput(input: string, ...args: string[]): Promise<Result>;
};

/** A CLI bound to fresh storage that is deleted when the test ends. */
async function isolatedCli(t: ExecutionContext, overrides: Record<string, string> = {}): Promise<Cli> {
  const environment = await testEnvironment(overrides);
  t.teardown(() => environment.cleanup());
  // Only what a login shell would pass on, so no configuration leaks in from the test runner;
  // USER and PG* are libpq's defaults for a DATABASE_URL that names no user or password.
  const inherited = Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'USER'].includes(name) || name.startsWith('PG'));
  const env = { ...(Object.fromEntries(inherited) as Record<string, string>), ...environment.env };
  const withInput = (input: string | undefined, ...args: string[]) =>
    new Promise<Result>((resolve) => {
      const child = execFile(NODE, [MAIN, ...args], { env, timeout: 180_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(input ?? '');
    });
  const cli = (...args: string[]) => withInput(undefined, ...args);
  return Object.assign(cli, { env, withInput });
}

/** Parses stdout, which with --json must be exactly one JSON object. */
function json(t: ExecutionContext, result: Result): Record<string, any> {
  const value = JSON.parse(result.stdout);
  t.true(value !== null && typeof value === 'object' && !Array.isArray(value), result.stdout);
  return value;
}

/** A user error: exit 1, one line on stderr naming the problem, no stack trace. */
function assertUserError(t: ExecutionContext, result: Result, message: RegExp) {
  t.is(result.code, 1, result.stderr);
  const [first] = result.stderr.split('\n');
  t.regex(first!, /^enot-id: /);
  t.regex(first!, message);
  t.notRegex(result.stderr, /^\s+at /m, 'no stack trace');
}

async function withDatabase<T>(cli: Cli, use: (db: Database) => Promise<T>): Promise<T> {
  const { db, close } = await openDatabase(loadConfig(cli.env));
  try {
    return await use(db);
  } finally {
    await close();
  }
}

test('migrate applies every migration once and reports their names', async (t) => {
  const cli = await isolatedCli(t);
  const first = await cli('migrate', '--json');
  t.is(first.code, 0, first.stderr);
  t.deepEqual(json(t, first), { applied: migrations.map(([name]) => name) });

  const again = await cli('migrate', '--json');
  t.is(again.code, 0, again.stderr);
  t.deepEqual(json(t, again), { applied: [] });

  const text = await cli('migrate');
  t.is(text.code, 0);
  t.regex(text.stdout, /up to date/);
});

test('user create makes an account with roles; a second one with the same email is refused', async (t) => {
  const cli = await isolatedCli(t);
  // Roles are created, not conjured by naming them (the admin API's rule: a typo is not a new role).
  assertUserError(t, await cli('user', 'create', '--email', 'Ann@Example.COM', '--role', 'editor'), /no such role: editor/);
  for (const role of ['editor', 'auditor']) t.is((await cli('role', 'create', role)).code, 0);
  const created = await cli('user', 'create', '--email', 'Ann@Example.COM', '--password', 'correct horse', '--role', 'admin,editor', '--role', 'auditor', '--json');
  t.is(created.code, 0, created.stderr);
  const account = json(t, created);
  t.regex(account.id, /^[0-9a-f-]{36}$/);
  t.is(account.email, 'Ann@example.com');
  // The roles asked for and the default role of new accounts (DEFAULT_ROLES: user).
  t.deepEqual(account.roles, ['admin', 'auditor', 'editor', 'user']);

  const stored = await withDatabase(cli, (db) => db('accounts').first('id', 'email').where({ id: account.id }));
  t.is(stored?.email, 'Ann@example.com');

  const duplicate = await cli('user', 'create', '--email', 'Ann@example.com', '--json');
  assertUserError(t, duplicate, /an account with this email exists/);
  t.deepEqual(json(t, duplicate), { error: 'conflict', error_description: 'an account with this email exists' });

  const shortPassword = await cli('user', 'create', '--email', 'bob@example.com', '--password', 'short');
  assertUserError(t, shortPassword, /password: use at least 8 characters/);
  t.is(shortPassword.stdout, '', 'without --json, errors stay off stdout');
});

test('user create --password-stdin takes the password from standard input, not the command line', async (t) => {
  const cli = await isolatedCli(t);
  const created = await cli.withInput('a passphrase with spaces\n', 'user', 'create', '--email', 'cy@example.com', '--password-stdin', '--json');
  t.is(created.code, 0, created.stderr);
  const { id } = json(t, created);
  const hash = await withDatabase(cli, async (db) => (await db('accounts').first('password_hash').where({ id }))?.password_hash as string);
  t.true(await verifyPassword(hash, 'a passphrase with spaces'), 'the line ending is not part of the password');
  t.false(await verifyPassword(hash, 'a passphrase with spaces\n'));

  const weak = await cli.withInput('short\n', 'user', 'create', '--email', 'dee@example.com', '--password-stdin');
  assertUserError(t, weak, /password: use at least 8 characters/);
  const both = await cli.withInput('whatever long\n', 'user', 'create', '--email', 'eve@example.com', '--password', 'x', '--password-stdin');
  assertUserError(t, both, /--password or --password-stdin, not both/);
});

test('client create prints the secret once; client list shows the client without it', async (t) => {
  const cli = await isolatedCli(t);
  const created = await cli('client', 'create', '--name', 'Shop', '--redirect-uri', 'https://shop.example/cb', '--scope', 'openid email', '--json');
  t.is(created.code, 0, created.stderr);
  const client = json(t, created);
  t.regex(client.client_id, /^[0-9a-f]{32}$/, '128 random bits in hex: never starts with "-"');
  t.regex(client.client_secret, /^[\w-]{43}$/);
  t.like(client, {
    client_name: 'Shop',
    redirect_uris: ['https://shop.example/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid email',
  });

  const publicApp = await cli('client', 'create', '--name', 'Phone app', '--public', '--redirect-uri', 'http://127.0.0.1/cb', '--json');
  t.is(publicApp.code, 0, publicApp.stderr);
  const pub = json(t, publicApp);
  t.is(pub.token_endpoint_auth_method, 'none');
  t.false('client_secret' in pub);

  // A machine client with roles: what its client-credentials tokens may carry (issue 11).
  for (const role of ['reporting', 'auditor']) t.is((await cli('role', 'create', role)).code, 0);
  const machine = await cli('client', 'create', '--name', 'Reports', '--grant-type', 'client_credentials', '--role', 'reporting,auditor', '--json');
  t.is(machine.code, 0, machine.stderr);
  const reports = json(t, machine);
  t.deepEqual(reports.roles, ['auditor', 'reporting']);
  const stored = await withDatabase(cli, (db) => db('client_roles').where({ client_id: reports.client_id }).orderBy('role_name').select('role_name'));
  t.deepEqual(stored.map((r: { role_name: string }) => r.role_name), ['auditor', 'reporting']);
  t.is((await cli('client', 'create', '--name', 'Bad', '--grant-type', 'client_credentials', '--role', 'Not A Role')).code, 1);

  // An API's own client, registered as the resource server that may introspect its tokens (RFC 7662 §4).
  const apiClient = await cli('client', 'create', '--name', 'API', '--grant-type', 'client_credentials', '--resource-server', 'urn:enot-id:api', '--json');
  t.is(apiClient.code, 0, apiClient.stderr);
  const api = json(t, apiClient);
  t.deepEqual(api.resource_servers, ['urn:enot-id:api']);
  const served = await withDatabase(cli, (db) => db('resource_clients').where({ client_id: api.client_id }).select('resource'));
  t.deepEqual(served, [{ resource: 'urn:enot-id:api' }]);
  const unknown = await cli('client', 'create', '--name', 'Bad', '--grant-type', 'client_credentials', '--resource-server', 'https://nowhere.example');
  assertUserError(t, unknown, /no such resource: https:\/\/nowhere\.example/);
  assertUserError(t, await cli('client', 'create', '--name', 'Bad', '--public', '--redirect-uri', 'http://127.0.0.1/cb', '--resource-server', 'urn:enot-id:api'), /confidential/);

  const listed = await cli('client', 'list', '--json');
  t.is(listed.code, 0, listed.stderr);
  const { clients } = json(t, listed);
  t.deepEqual(clients.map((c: { client_id: string }) => c.client_id).sort(), [client.client_id, pub.client_id, reports.client_id, api.client_id].sort());
  const shop = clients.find((c: { client_id: string }) => c.client_id === client.client_id);
  t.is(shop.client_name, 'Shop');
  t.false('client_secret' in shop);
  t.false(listed.stdout.includes(client.client_secret));

  const text = await cli('client', 'list');
  t.is(text.code, 0);
  t.true(text.stdout.includes(client.client_id));
  t.false(text.stdout.includes(client.client_secret));
});

test('client create rejects metadata oidc-provider would not accept, storing nothing', async (t) => {
  const cli = await isolatedCli(t);
  const bad = await cli('client', 'create', '--name', 'Broken', '--redirect-uri', 'not a url');
  assertUserError(t, bad, /redirect_uris/);
  t.is(bad.stderr.trim().split('\n').length, 1, 'one line');

  const badJson = await cli('client', 'create', '--name', 'Broken', '--redirect-uri', 'not a url', '--json');
  t.is(badJson.code, 1);
  t.is(json(t, badJson).error, 'invalid_redirect_uri');

  const listed = await cli('client', 'list', '--json');
  t.deepEqual(json(t, listed), { clients: [] });
});

test('client create holds clients to the same metadata rules as registration (RFC 8252 §7.3, RFC 6749 §4.4)', async (t) => {
  const cli = await isolatedCli(t);
  const http = await cli('client', 'create', '--name', 'Plain http', '--redirect-uri', 'http://app.example.com/cb', '--json');
  t.is(http.code, 1);
  t.is(json(t, http).error, 'invalid_redirect_uri');
  const publicCredentials = await cli('client', 'create', '--name', 'Public', '--public', '--redirect-uri', 'http://localhost:8080/cb', '--grant-type', 'authorization_code', '--grant-type', 'client_credentials', '--json');
  t.is(publicCredentials.code, 1);
  t.is(json(t, publicCredentials).error, 'invalid_client_metadata');
  const local = await cli('client', 'create', '--name', 'Local development', '--redirect-uri', 'http://localhost:8080/cb', '--json');
  t.is(local.code, 0, local.stderr);
});

test('client delete removes a client; deleting an unknown one fails clearly', async (t) => {
  const cli = await isolatedCli(t);
  const { client_id: id } = json(t, await cli('client', 'create', '--name', 'Temp', '--grant-type', 'client_credentials', '--json'));

  const deleted = await cli('client', 'delete', id, '--json');
  t.is(deleted.code, 0, deleted.stderr);
  t.deepEqual(json(t, deleted), { deleted: id });
  t.deepEqual(json(t, await cli('client', 'list', '--json')), { clients: [] });

  const again = await cli('client', 'delete', id);
  assertUserError(t, again, new RegExp(`no client with id "${id}"`));

  // Ids registered dynamically may start with "-": after "--" they are not options.
  assertUserError(t, await cli('client', 'delete', '--', '-not-an-option'), /no client with id "-not-an-option"/);

  const missing = await cli('client', 'delete');
  t.is(missing.code, 1);
  t.regex(missing.stderr, /usage: enot-id client delete <client_id>/);
});

test("client delete removes the client's registration access tokens and stored grants, not another client's", async (t) => {
  const cli = await isolatedCli(t);
  const doomed = json(t, await cli('client', 'create', '--name', 'Doomed', '--redirect-uri', 'https://doomed.example/cb', '--json')).client_id;
  const kept = json(t, await cli('client', 'create', '--name', 'Kept', '--redirect-uri', 'https://kept.example/cb', '--json')).client_id;

  // Stored as oidc-provider stores them (dynamic registration, sign-in), through the server's own adapter.
  const now = Math.floor(Date.now() / 1000);
  await withDatabase(cli, async (db) => {
    const adapters = sqlAdapterFactory(db);
    for (const clientId of [doomed, kept]) {
      const rat = `rat-${clientId}`;
      const grant = `grant-${clientId}`;
      const refresh = `rt-${clientId}`;
      await adapters('RegistrationAccessToken').upsert(rat, { jti: rat, kind: 'RegistrationAccessToken', clientId, iat: now }, 0);
      await adapters('Grant').upsert(grant, { jti: grant, kind: 'Grant', clientId, accountId: 'a1', iat: now, exp: now + 600 }, 600);
      await adapters('RefreshToken').upsert(refresh, { jti: refresh, kind: 'RefreshToken', clientId, grantId: grant, accountId: 'a1', iat: now, exp: now + 600 }, 600);
    }
  });

  const deleted = await cli('client', 'delete', doomed, '--json');
  t.is(deleted.code, 0, deleted.stderr);
  t.deepEqual(json(t, deleted), { deleted: doomed });

  const left = await withDatabase(cli, (db) =>
    db('oidc_models').select('model', 'id').whereIn('model', ['RegistrationAccessToken', 'Grant', 'RefreshToken']).orderBy(['model', 'id']),
  );
  // RFC 7592 §2.3: the deleted client's registration access token (and its stored grant and tokens) are gone.
  t.deepEqual(left, [
    { model: 'Grant', id: `grant-${kept}` },
    { model: 'RefreshToken', id: `rt-${kept}` },
    { model: 'RegistrationAccessToken', id: `rat-${kept}` },
  ]);
  const clients = json(t, await cli('client', 'list', '--json')).clients.map((c: { client_id: string }) => c.client_id);
  t.deepEqual(clients, [kept]);
});

test('initial-access-token create stores a token that expires as asked', async (t) => {
  const cli = await isolatedCli(t);
  const created = await cli('initial-access-token', 'create', '--expires-in', '600', '--json');
  t.is(created.code, 0, created.stderr);
  const out = json(t, created);
  t.is(out.expires_in, 600);
  t.regex(out.initial_access_token, /^[\w-]{43}$/);

  const row = await withDatabase(cli, (db) =>
    db('oidc_models').first('expires_at').where({ model: 'InitialAccessToken', id: out.initial_access_token }),
  );
  t.truthy(row, 'stored where the registration endpoint looks for it');
  const secondsLeft = (new Date(row.expires_at).getTime() - Date.now()) / 1000;
  t.true(secondsLeft > 500 && secondsLeft <= 600, `expires in ${secondsLeft} s`);

  const bad = await cli('initial-access-token', 'create', '--expires-in', 'soon');
  assertUserError(t, bad, /--expires-in must be a whole number/);
});

test('keys rotate retires the active keys and creates new ones', async (t) => {
  const cli = await isolatedCli(t);
  // The keys a first start creates (one ES256, one RS256) are the first to be retired.
  const first = json(t, await cli('keys', 'rotate', '--json'));
  t.is(first.retired.length, 2);
  t.is(first.created.length, 2);
  t.deepEqual(first.created.filter((kid: string) => first.retired.includes(kid)), []);

  const second = await cli('keys', 'rotate', '--json');
  t.is(second.code, 0, second.stderr);
  const { retired, created } = json(t, second);
  t.deepEqual([...retired].sort(), [...first.created].sort());
  t.is(created.length, 2);
  t.deepEqual(created.filter((kid: string) => first.created.includes(kid)), []);

  const rows = await withDatabase(cli, (db) => db('signing_keys').select('kid', 'alg', 'retired_at', 'expires_at'));
  const active = rows.filter((r) => r.retired_at === null);
  t.deepEqual(active.map((r) => r.kid).sort(), [...created].sort());
  t.deepEqual(active.map((r) => r.alg).sort(), ['ES256', 'RS256']);
  // Retired keys stay published for max(access token TTL, ID token TTL) + clock slack = 3600 + 300 s.
  for (const kid of retired) {
    const row = rows.find((r) => r.kid === kid)!;
    const keptFor = (new Date(row.expires_at).getTime() - Date.now()) / 1000;
    t.true(keptFor > 3800 && keptFor <= 3900, `${kid} kept for ${keptFor} s`);
  }

  const text = await cli('keys', 'rotate');
  t.is(text.code, 0);
  t.regex(text.stdout, /^created: es256-.+, rs256-/m);
  t.regex(text.stdout, /within a minute/);
});

test('help, unknown commands and bad arguments', async (t) => {
  const cli = await isolatedCli(t);
  for (const args of [[], ['help'], ['--help']]) {
    const help = await cli(...args);
    t.is(help.code, 0);
    t.regex(help.stdout, /^usage: enot-id <command>/);
    t.regex(help.stdout, /keys rotate/);
  }

  const unknown = await cli('frobnicate');
  assertUserError(t, unknown, /unknown command "frobnicate"/);
  t.regex(unknown.stderr, /usage: enot-id <command>/);
  t.is(unknown.stdout, '');

  const unknownJson = await cli('frobnicate', '--json');
  t.is(unknownJson.code, 1);
  t.deepEqual(json(t, unknownJson), { error: 'invalid_request', error_description: 'unknown command "frobnicate"' });

  const badOption = await cli('user', 'create', '--email', 'a@example.com', '--admin');
  assertUserError(t, badOption, /--admin/);
  t.regex(badOption.stderr, /usage: enot-id user create \(--email E \| --phone P\)/);
});

test('through the enot-id command (bin.js, as `npm link` installs it): stdout is exactly one JSON object', async (t) => {
  const cli = await isolatedCli(t);
  const viaBin = await new Promise<Result>((resolve) => {
    execFile(NODE, [BIN, 'client', 'list', '--json'], { cwd: ROOT, env: cli.env, timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
  t.is(viaBin.code, 0, viaBin.stderr);
  t.true(Array.isArray(json(t, viaBin).clients), viaBin.stdout);
});

test('through npm as the README shows it (npm run -s cli -- … --json): stdout is exactly one JSON object, success or error', async (t) => {
  const cli = await isolatedCli(t);
  const viaNpm = (...args: string[]) =>
    new Promise<Result>((resolve) => {
      execFile('npm', ['run', '-s', 'cli', '--', ...args], { cwd: ROOT, env: cli.env, timeout: 180_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });
  const listed = await viaNpm('role', 'list', '--json');
  t.is(listed.code, 0, listed.stderr);
  t.true(json(t, listed).roles.some((r: { name: string }) => r.name === 'admin'));
  const refused = await viaNpm('role', 'show', 'nobody', '--json');
  t.is(refused.code, 1);
  t.like(json(t, refused), { error: 'not_found' });
});

test('a bad configuration is one line and exit 1', async (t) => {
  const cli = await isolatedCli(t, { ACCESS_TOKEN_TTL: 'soon' });
  const result = await cli('migrate', '--json');
  assertUserError(t, result, /ACCESS_TOKEN_TTL/);
  t.is(result.stderr.trim().split('\n').length, 1);
  t.is(json(t, result).error, 'invalid_configuration');
});

test('unreachable storage is one error line, and stdout still holds one JSON object', async (t) => {
  // Nothing listens on port 1; an empty DATABASE_SCHEMA means the default, and no schema to clean up.
  const cli = await isolatedCli(t, { DATABASE_URL: 'postgres://127.0.0.1:1/none', DATABASE_SCHEMA: '' });
  const result = await cli('client', 'list', '--json');
  t.is(result.code, 1);
  t.regex(result.stderr, /^enot-id: PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/none is unreachable: connection refused \(ECONNREFUSED\)/m);
  t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
  t.like(json(t, result), { error: 'temporarily_unavailable' });
  t.regex(json(t, result).error_description, /^PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/none is unreachable: connection refused \(ECONNREFUSED\); check DATABASE_URL/);
});
