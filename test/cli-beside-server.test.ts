// The CLI while a server runs (issue 11 §4), as an operator uses it: a real
// child process configured like the server. In embedded mode the server holds
// the database, so the CLI goes through its admin API with the credential the
// server wrote (DATA_DIR/operator-credential.json); with DATABASE_URL it runs
// the admin API's routes in its own process. Every command with --json.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { serverMode } from './helpers/environment.ts';
import { OPERATOR_CLIENT_ID } from '../server/admin/operator-credential.ts';
import { CLIENT_CACHE_TTL_MS } from '../adapters/client-cache.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';

const NODE = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const MAIN = fileURLToPath(new URL('../server/cli/main.ts', import.meta.url));
const ORDERS = 'https://orders.example';

let server: TestServer;
let smtp: SmtpCapture;

test.before(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({ SMTP_URL: smtp.url, MAILING_RATE: '6000' });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Result> {
  const inherited = Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'USER'].includes(name) || name.startsWith('PG'));
  const env = { ...(Object.fromEntries(inherited) as Record<string, string>), ...server.environment.env };
  return new Promise((resolve) => {
    const child = execFile(NODE, [MAIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** Runs a command with --json; it must succeed and print exactly one JSON object. */
async function ok(t: ExecutionContext, ...args: string[]): Promise<any> {
  const result = await cli(...args, '--json');
  t.is(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  const value = JSON.parse(result.stdout);
  t.true(value !== null && typeof value === 'object' && !Array.isArray(value), result.stdout);
  return value;
}

/** Runs a command with --json that must fail: exit 1, one line on stderr, the error object on stdout. */
async function fails(t: ExecutionContext, args: string[], message: RegExp): Promise<{ error: string; error_description: string }> {
  const result = await cli(...args, '--json');
  t.is(result.code, 1, result.stdout);
  t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
  t.regex(result.stderr, message);
  return JSON.parse(result.stdout);
}

async function token(clientId: string, secret: string): Promise<Response> {
  return fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: ORDERS, scope: 'orders:read' }),
  });
}

test.serial('roles, resources and permissions', async (t) => {
  const created = await ok(t, 'resource', 'create', ORDERS, '--name', 'Orders', '--scope', 'orders:read', '--scope', 'orders:write');
  t.like(created, { identifier: ORDERS, name: 'Orders', access_token_format: 'jwt', scopes: ['orders:read', 'orders:write'] });
  t.deepEqual((await ok(t, 'resource', 'permission', 'add', ORDERS, 'orders:admin')).scopes, ['orders:admin', 'orders:read', 'orders:write']);
  const described = await ok(t, 'resource', 'permission', 'update', ORDERS, 'orders:read', '--description', 'Read orders');
  t.deepEqual(described.permissions.find((p: { scope: string }) => p.scope === 'orders:read'), { scope: 'orders:read', description: 'Read orders' });
  t.is((await server.runtime.db('permissions').first('description').where({ resource: ORDERS, scope: 'orders:read' }))?.description, 'Read orders');
  await fails(t, ['resource', 'permission', 'update', ORDERS, 'orders:nothing', '--description', 'x'], /no such scope/);
  t.is((await ok(t, 'resource', 'update', ORDERS, '--ttl', '600')).access_token_ttl, 600);
  t.truthy((await ok(t, 'resource', 'list')).resources.find((r: { identifier: string }) => r.identifier === ORDERS));
  t.deepEqual((await ok(t, 'resource', 'show', ORDERS)).scopes, ['orders:admin', 'orders:read', 'orders:write']);
  const stored = await server.runtime.db('permissions').where({ resource: ORDERS }).orderBy('scope').pluck('scope');
  t.deepEqual(stored, ['orders:admin', 'orders:read', 'orders:write']);

  t.like(await ok(t, 'role', 'create', 'support', '--description', 'Help desk'), { name: 'support', description: 'Help desk', permissions: [] });
  const granted = await ok(t, 'role', 'grant', 'support', '--resource', ORDERS, '--scope', 'orders:read,orders:write');
  t.deepEqual(granted.permissions, [{ resource: ORDERS, scope: 'orders:read' }, { resource: ORDERS, scope: 'orders:write' }]);
  const revoked = await ok(t, 'role', 'revoke', 'support', '--resource', ORDERS, '--scope', 'orders:write');
  t.deepEqual(revoked.permissions, [{ resource: ORDERS, scope: 'orders:read' }]);
  t.deepEqual(await server.runtime.db('role_permissions').where({ role_name: 'support' }).pluck('scope'), ['orders:read']);
  t.is((await ok(t, 'role', 'update', 'support', '--description', 'Support desk')).description, 'Support desk');
  t.truthy((await ok(t, 'role', 'list')).roles.find((r: { name: string }) => r.name === 'support'));
  t.is((await ok(t, 'role', 'show', 'support')).name, 'support');

  await fails(t, ['role', 'grant', 'support', '--resource', ORDERS, '--scope', 'orders:nothing'], /permission.*does not exist/);
  await fails(t, ['role', 'delete', 'admin'], /cannot be deleted/);
  await fails(t, ['role', 'show', 'nobody'], /no role "nobody"/);
  t.deepEqual(await ok(t, 'resource', 'permission', 'remove', ORDERS, 'orders:admin'), { removed: { resource: ORDERS, scope: 'orders:admin' } });
  t.deepEqual(await ok(t, 'role', 'create', 'temp'), { name: 'temp', description: '', is_default: false, permissions: [] });
  t.deepEqual(await ok(t, 'role', 'delete', 'temp'), { deleted: 'temp' });
  t.falsy(await server.runtime.db('roles').first('name').where({ name: 'temp' }));
  const spare = 'https://spare.example';
  t.is((await ok(t, 'resource', 'create', spare, '--format', 'opaque')).access_token_format, 'opaque');
  t.deepEqual(await ok(t, 'resource', 'delete', spare), { deleted: spare });
  t.falsy(await server.runtime.db('resources').first('identifier').where({ identifier: spare }));
  await fails(t, ['resource', 'show', spare], /no resource "https:\/\/spare\.example"/);
});

test.serial('accounts by email or phone: create, find, roles, block, sign out, delete', async (t) => {
  const byEmail = await ok(t, 'user', 'create', '--email', 'Ada@Example.com', '--role', 'support');
  t.like(byEmail, { email: 'Ada@example.com', email_verified: true, phone: null, status: 'active', has_password: false });
  t.deepEqual(byEmail.roles, ['support', 'user']);
  const byPhone = await ok(t, 'user', 'create', '--phone', '+49 1512 3456789');
  t.like(byPhone, { email: null, phone: '+4915123456789', phone_verified: true });
  await fails(t, ['user', 'create', '--phone', '+49 1512 3456789'], /an account with this phone exists/);

  // Named by id, by email in any case, by phone as people type it.
  t.is((await ok(t, 'user', 'show', byEmail.id)).id, byEmail.id);
  t.is((await ok(t, 'user', 'show', 'ada@example.com')).id, byEmail.id);
  t.is((await ok(t, 'user', 'show', '+49 (1512) 345-6789')).id, byPhone.id);
  await fails(t, ['user', 'show', 'nobody@example.com'], /no account with email nobody@example\.com/);

  const listed = await ok(t, 'user', 'list', '--email', 'example.com');
  t.deepEqual(listed.accounts.map((a: { id: string }) => a.id), [byEmail.id]);
  t.is(listed.next_cursor, null);
  t.deepEqual((await ok(t, 'user', 'list', '--phone', '+49 1512')).accounts.map((a: { id: string }) => a.id), [byPhone.id]);
  const paged = await ok(t, 'user', 'list', '--limit', '1');
  t.is(paged.accounts.length, 1);
  t.truthy(paged.next_cursor);
  t.is((await ok(t, 'user', 'list', '--limit', '1', '--cursor', paged.next_cursor)).accounts.length, 1);

  t.deepEqual((await ok(t, 'user', 'roles', 'add', '+4915123456789', 'admin', 'support')).roles, ['admin', 'support', 'user']);
  t.deepEqual((await ok(t, 'user', 'roles', 'remove', '+4915123456789', 'admin')).roles, ['support', 'user']);
  t.deepEqual(await server.runtime.db('account_roles').where({ account_id: byPhone.id }).orderBy('role_name').pluck('role_name'), ['support', 'user']);

  const updated = await ok(t, 'user', 'update', byPhone.id, '--email', 'phone-owner@example.com');
  t.like(updated, { email: 'phone-owner@example.com', phone: '+4915123456789' });
  t.is((await ok(t, 'user', 'update', byPhone.id, '--no-phone')).phone, null);

  t.is((await ok(t, 'user', 'block', 'ada@example.com')).status, 'blocked');
  t.is((await server.runtime.db('accounts').first('status').where({ id: byEmail.id }))?.status, 'blocked');
  t.is((await ok(t, 'user', 'unblock', 'ada@example.com')).status, 'active');
  t.deepEqual(await ok(t, 'user', 'sign-out', byEmail.id), { signed_out: byEmail.id });
  t.deepEqual(await ok(t, 'user', 'delete', byEmail.id), { deleted: byEmail.id });
  t.falsy(await server.runtime.db('accounts').first('id').where({ id: byEmail.id }));
  await fails(t, ['user', 'show', byEmail.id], /no account has this id/);
});

test.serial('clients: create with roles and a resource, show, update, rotate the secret, list, delete', async (t) => {
  const created = await ok(t, 'client', 'create', '--name', 'Orders API', '--grant-type', 'client_credentials', '--role', 'support', '--resource-server', ORDERS);
  t.like(created, { client_name: 'Orders API', grant_types: ['client_credentials'], roles: ['support'], resource_servers: [ORDERS], first_party: false });
  t.regex(created.client_secret, /^[\w-]{43}$/);
  // The role grants orders:read: a token for the resource carries it.
  const first = await token(created.client_id, created.client_secret);
  t.is(first.status, 200);
  t.is(((await first.json()) as { scope: string }).scope, 'orders:read');

  const shown = await ok(t, 'client', 'show', created.client_id);
  t.false('client_secret' in shown);
  t.is((await ok(t, 'client', 'update', created.client_id, '--name', 'Orders service', '--no-roles')).client_name, 'Orders service');
  t.deepEqual((await ok(t, 'client', 'show', created.client_id)).roles, []);

  const rotated = await ok(t, 'client', 'rotate-secret', created.client_id);
  t.not(rotated.client_secret, created.client_secret);
  // The old secret stops at once where the server rotated it; with DATABASE_URL another process
  // rotated it, and this server may remember the client for up to CLIENT_CACHE_TTL_MS.
  if (serverMode) await new Promise((resolve) => setTimeout(resolve, CLIENT_CACHE_TTL_MS + 100));
  t.is((await token(created.client_id, created.client_secret)).status, 401);
  t.is((await token(created.client_id, rotated.client_secret)).status, 200);

  t.truthy((await ok(t, 'client', 'list')).clients.find((c: { client_id: string }) => c.client_id === created.client_id));
  // The audit record of the creation names the client created.
  const [creation] = (await ok(t, 'audit', 'tail', '-n', '1', '--action', 'clients.create')).records;
  t.like(creation, { target_kind: 'clients', target_id: created.client_id, outcome: 'success' });
  t.deepEqual(await ok(t, 'client', 'delete', created.client_id), { deleted: created.client_id });
  await fails(t, ['client', 'show', created.client_id], new RegExp(`no client with id "${created.client_id}"`));
});

test.serial('keys, initial access tokens and the audit trail', async (t) => {
  const before = (await ok(t, 'keys', 'list')).keys.filter((k: { retired_at: string | null }) => !k.retired_at).map((k: { kid: string }) => k.kid).sort();
  const rotated = await ok(t, 'keys', 'rotate');
  t.deepEqual([...rotated.retired].sort(), before);
  const published = ((await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  for (const kid of before) t.true(published.includes(kid), 'retired keys stay published');
  // In embedded mode the server rotated its own keys and signs with them now.
  if (!serverMode) for (const kid of rotated.created) t.true(published.includes(kid));

  const iat = await ok(t, 'initial-access-token', 'create', '--expires-in', '600');
  const registered = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${iat.initial_access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['https://app.example/cb'] }),
  });
  t.is(registered.status, 201);

  const { records } = await ok(t, 'audit', 'tail', '-n', '5', '--action', 'keys.rotate');
  t.is(records.length, 1);
  // Oldest first, as a log reads; who did it depends on the way the CLI reached the admin API.
  t.like(records[0], serverMode ? { actor_kind: 'operator', outcome: 'success' } : { actor_kind: 'client', actor_id: OPERATOR_CLIENT_ID, outcome: 'success' });
  const all = (await ok(t, 'audit', 'tail', '-n', '200')).records as { at: string; action: string }[];
  t.true(all.length > 20);
  t.deepEqual(all.map((r) => r.at), [...all.map((r) => r.at)].sort(), 'oldest first');
  t.false(JSON.stringify(all).includes(iat.initial_access_token), 'no token in the audit log');
  const text = await cli('audit', 'tail', '-n', '3');
  t.is(text.code, 0);
  t.is(text.stdout.trim().split('\n').length, 3);
});

test.serial('mailings: create from options and files, start, status until sent, pause, resume, cancel', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enot-mailing-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ids = [];
  for (const email of ['cli.one@example.com', 'cli.two@example.com', 'cli.three@example.com']) ids.push((await ok(t, 'user', 'create', '--email', email)).id);
  await writeFile(path.join(dir, 'body.txt'), 'Hello {{email}}, from a file.');
  const created = await ok(t, 'mailing', 'create', '--name', 'CLI news', '--subject-en', 'CLI news for {{email}}', '--text-file-en', path.join(dir, 'body.txt'),
    '--html-en', '<p>{{email}}</p>', '--subject-ru', 'Новости', '--text-ru', 'Привет', '--account', ids[0], '--account', `${ids[1]},${ids[2]}`);
  t.like(created, { name: 'CLI news', status: 'draft', progress: { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 } });
  t.like(await ok(t, 'mailing', 'start', created.id), { id: created.id, status: 'running' });
  await fails(t, ['mailing', 'start', created.id], /the mailing is running/);
  let status;
  for (let tries = 0; tries < 30; tries++) {
    status = await ok(t, 'mailing', 'status', created.id);
    if (status.progress.sent === 3) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  t.deepEqual(status.progress, { queued: 0, sending: 0, sent: 3, failed: 0, skipped: 0 });
  const mails = smtp.messages.filter((m) => m.subject.startsWith('CLI news for'));
  t.deepEqual(mails.map((m) => m.envelopeTo[0]).sort(), ['cli.one@example.com', 'cli.three@example.com', 'cli.two@example.com']);
  t.regex(mails[0]!.text ?? '', /^Hello cli\.\w+@example\.com, from a file\./);
  const text = await cli('mailing', 'status', created.id);
  t.is(text.code, 0);
  t.regex(text.stdout, /status:\s+finished/, 'every recipient sent: finished, no longer running');
  t.regex(text.stdout, /sent 3/);

  // Templates from a JSON file, the audience by a filter; pause, resume and cancel.
  await writeFile(path.join(dir, 'templates.json'), JSON.stringify({ en: { subject: 'Filtered', text: 'Hi' } }));
  const filtered = await ok(t, 'mailing', 'create', '--name', 'Later', '--templates', path.join(dir, 'templates.json'), '--created-from', new Date(Date.now() + 3_600_000).toISOString(), '--language', 'en');
  t.is(filtered.status, 'draft');
  await fails(t, ['mailing', 'pause', filtered.id], /the mailing is draft/);
  // Nobody matches yet: started, it has nothing left to send, so it reads as finished.
  t.is((await ok(t, 'mailing', 'start', filtered.id)).status, 'finished');
  t.is((await ok(t, 'mailing', 'pause', filtered.id)).status, 'paused');
  t.is((await ok(t, 'mailing', 'resume', filtered.id)).status, 'finished');
  t.is((await ok(t, 'mailing', 'cancel', filtered.id)).status, 'cancelled');
  t.deepEqual((await ok(t, 'mailing', 'status', filtered.id)).progress, { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 }, 'nobody was created in the future');

  await fails(t, ['mailing', 'status', randomUUID()], /no mailing has this id/);
  const usage = await cli('mailing', 'create', '--name', 'x', '--json');
  t.is(usage.code, 1);
  t.regex(usage.stderr, /--subject-en and --text-en/);
  const mixed = await cli('mailing', 'create', '--name', 'x', '--subject-en', 's', '--text-en', 't', '--account', ids[0], '--role', 'user', '--json');
  t.regex(mixed.stderr, /--account names the audience alone/);
});

test.serial('embedded mode: the credential file, commands that need the database alone, and a missing credential', async (t) => {
  if (serverMode) {
    // With DATABASE_URL the CLI never needs the server: no credential is written.
    await t.throwsAsync(stat(path.join(server.environment.env.DATA_DIR!, 'operator-credential.json')), { code: 'ENOENT' });
    return;
  }
  const file = path.join(server.environment.env.DATA_DIR!, 'operator-credential.json');
  t.is((await stat(file)).mode & 0o777, 0o600, 'readable by the server\'s user alone');

  const migrate = await fails(t, ['migrate'], /in use by the server \(process \d+\) \(it applied the migrations when it started\)/);
  t.is(migrate.error, 'server_running');

  await rename(file, `${file}.away`);
  try {
    await fails(t, ['user', 'list'], /operator-credential\.json\) is missing or not readable/);
  } finally {
    await rename(`${file}.away`, file);
  }
  t.is((await ok(t, 'user', 'list')).next_cursor, null);
});
