// The embedded PostgreSQL (server/db/embedded-postgres.ts, issue 15 §1): Enot ID
// starts it under DATA_DIR and stops it with itself; after a kill -9 of Enot ID the
// database server is left running, and the next start reuses it; nothing answered
// 200 before the kill is lost. Embedded mode only (server mode has no embedded server).
import test from 'ava';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { serverMode, testEnvironment } from './helpers/environment.ts';
import { startServerProcess } from './helpers/process.ts';
import { oidc, registerClient, TEST_IAT } from './helpers/oidc.ts';
import { processAlive as alive } from '../server/db/local-os.ts';
import { postmasterOf } from '../server/db/embedded-postgres.ts';

const embeddedOnly = serverMode ? test.skip : test;

const postmaster = (dataDir: string) => postmasterOf(path.join(dataDir, 'postgres'));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

embeddedOnly('kill -9 under load: the database server outlives Enot ID, is reused at the next start, and every token answered 200 still introspects', async (t) => {
  // A fresh DATA_DIR, as on a new machine: the first start runs initdb itself.
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT }, { freshDatabase: true });
  t.teardown(() => environment.cleanup());
  const dataDir = environment.env.DATA_DIR!;

  const first = await startServerProcess(environment.env);
  t.teardown(() => first.child.kill('SIGKILL'));
  const database = postmaster(dataDir);
  t.truthy(database, 'postmaster.pid under DATA_DIR/postgres');
  t.true(alive(database!.pid));
  // The cluster and its password are the server user's alone (PostgreSQL: 0700; ours: 0600).
  t.is(statSync(path.join(dataDir, 'postgres')).mode & 0o077, 0);
  t.is(statSync(path.join(dataDir, 'postgres-password')).mode & 0o077, 0);
  t.deepEqual(readdirSync(dataDir).filter((name) => name.startsWith('postgres')).sort(), ['postgres', 'postgres-password'], 'no scratch directory or password file left');

  const rp = await registerClient(environment.env.ISSUER!, { scope: 'api:read' });
  const answered: string[] = [];
  let killed = false;
  const loops = Array.from({ length: 6 }, async () => {
    while (!killed) {
      try {
        answered.push((await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token);
      } catch {
        if (!killed) throw new Error('a token request failed before the kill');
      }
    }
  });
  await until(() => answered.length >= 200, 30_000);
  killed = true;
  first.child.kill('SIGKILL');
  await Promise.all(loops);
  await first.exited.catch(() => {});

  t.true(alive(database!.pid), 'the database server is left running by the kill -9');

  const second = await startServerProcess(environment.env);
  t.teardown(() => second.child.kill('SIGKILL'));
  t.is(postmaster(dataDir)?.pid, database!.pid, 'the orphaned database server was reused');
  t.regex(second.output(), /"adopted":true/);

  let inactive = 0;
  for (const token of answered) if (!(await oidc.tokenIntrospection(rp, token)).active) inactive++;
  t.is(inactive, 0, `${answered.length} tokens answered 200 before the kill, all active after the restart`);
  t.log(`${answered.length} tokens issued before kill -9; all introspect as active after the restart`);

  second.child.kill('SIGTERM');
  const finished = await second.exited;
  t.is(finished.code, 0, finished.stderr);
  t.true(await until(() => !alive(database!.pid), 10_000), 'the database server stops with Enot ID');
  t.false(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid')), 'a clean stop leaves no postmaster.pid');
});

embeddedOnly('a start after a clean stop starts the database server again on the same data', async (t) => {
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => environment.cleanup());
  const dataDir = environment.env.DATA_DIR!;

  const first = await startServerProcess(environment.env);
  t.teardown(() => first.child.kill('SIGKILL'));
  const rp = await registerClient(environment.env.ISSUER!, { scope: 'api:read' });
  const before = postmaster(dataDir)!;
  first.child.kill('SIGTERM');
  t.is((await first.exited).code, 0);
  t.true(await until(() => !alive(before.pid), 10_000));

  const second = await startServerProcess(environment.env);
  t.teardown(() => second.child.kill('SIGKILL'));
  t.regex(second.output(), /"adopted":false/);
  t.not(postmaster(dataDir)?.pid, before.pid);
  // The client registered before the stop is still there.
  t.truthy((await oidc.clientCredentialsGrant(rp, { scope: 'api:read' })).access_token);
  second.child.kill('SIGTERM');
  t.is((await second.exited).code, 0);
});

embeddedOnly('a missing password file is one clear line at start, not a stack trace', async (t) => {
  const environment = await testEnvironment();
  t.teardown(() => environment.cleanup());
  rmSync(path.join(environment.env.DATA_DIR!, 'postgres-password'));
  const err = await t.throwsAsync(startServerProcess(environment.env));
  t.regex(err!.message, /password file .*postgres-password cannot be read \(ENOENT\)/);
  t.notRegex(err!.message, /^\s+at /m, 'no stack trace');
});

embeddedOnly('a DATA_DIR with the PGlite database of an earlier version: the start says it is not read, and the embedded database starts empty beside it', async (t) => {
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => environment.cleanup());
  const earlier = path.join(environment.env.DATA_DIR!, 'pg');
  mkdirSync(earlier);
  writeFileSync(path.join(earlier, 'PG_VERSION'), '17\n');
  const server = await startServerProcess(environment.env);
  t.teardown(() => server.child.kill('SIGKILL'));
  const warning = server.output().split('\n').find((line) => line.includes('PGlite database of an earlier Enot ID'));
  t.truthy(warning, server.output());
  t.like(JSON.parse(warning!), { level: 40, directory: earlier });
  t.true(existsSync(path.join(earlier, 'PG_VERSION')), 'the earlier data is left as it was');
  server.child.kill('SIGTERM');
  t.is((await server.exited).code, 0);
});

embeddedOnly('Enot ID reaches its PostgreSQL by a Unix socket in the cluster directory, and by loopback TCP when that path would be too long', async (t) => {
  const { mkdtemp } = await import('node:fs/promises');
  const os = await import('node:os');
  const pg = (await import('pg')).default;
  const { startEmbeddedPostgres } = await import('../server/db/embedded-postgres.ts');
  const short = await mkdtemp(path.join(os.tmpdir(), 'enot-sock-'));
  // sun_path holds 108 bytes: a DATA_DIR this deep cannot hold the socket.
  const long = path.join(await mkdtemp(path.join(os.tmpdir(), 'enot-sock-')), 'd'.repeat(100));
  // As root the cluster runs as another user, who must pass through DATA_DIR's parents.
  const { chmodSync } = await import('node:fs');
  chmodSync(path.dirname(long), 0o711);
  t.teardown(() => {
    rmSync(short, { recursive: true, force: true });
    rmSync(path.dirname(long), { recursive: true, force: true });
  });
  for (const [dataDir, over] of [[short, 'socket'], [long, 'tcp']] as const) {
    const embedded = await startEmbeddedPostgres(dataDir);
    try {
      const client = new pg.Client({ connectionString: embedded.url });
      await client.connect();
      // inet_server_addr() is null over a Unix socket, the address over TCP.
      const { rows } = await client.query('select inet_server_addr() as address');
      await client.end();
      t.is(rows[0].address === null ? 'socket' : 'tcp', over, dataDir);
      if (over === 'socket') {
        t.is(postmaster(dataDir)?.socket, path.join(dataDir, 'postgres'), 'postmaster.pid names the socket directory (adoption after a kill -9 uses it)');
      }
    } finally {
      await embedded.stop();
    }
  }
});
