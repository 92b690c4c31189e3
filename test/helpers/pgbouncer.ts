// Debian's PgBouncer in transaction pooling mode, in front of the test run's
// PostgreSQL (DATABASE_URL): its own ini file in a temporary directory, a free
// loopback port, few server connections so clients really share them. Stopped by
// the caller. docs/postgresql.md says which settings Enot ID needs and why.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './environment.ts';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Why the PgBouncer tests cannot run here, or undefined when they can. */
export function pgbouncerUnavailable(): string | undefined {
  if (!process.env.DATABASE_URL) return 'DATABASE_URL is unset: PgBouncer sits in front of a PostgreSQL server (server mode only)';
  if (!existsSync(PGBOUNCER)) return `${PGBOUNCER} is missing (Debian: apt-get install pgbouncer)`;
  return undefined;
}

export interface PgBouncer {
  /** DATABASE_URL through PgBouncer for `user`. */
  url(user: string): string;
  /** PgBouncer's log so far (stderr). */
  log(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The PostgreSQL behind it (postgres://user@host:port/database, trust authentication). */
  upstream: string;
  /** Every user name that may connect (auth_type trust still needs them in auth_file). */
  users: string[];
  /** Server connections per user and database. */
  poolSize: number;
  /** Startup parameters PgBouncer accepts and drops (it refuses any other it does not know). */
  ignoreStartupParameters: string[];
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const upstream = new URL(options.upstream);
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enot-pgbouncer-'));
  // PgBouncer refuses to run as root; as root the test hands it to nobody (-u), who must read the files.
  const asRoot = process.getuid?.() === 0;
  await chmod(dir, 0o755);
  const ini = path.join(dir, 'pgbouncer.ini');
  const users = path.join(dir, 'users.txt');
  await writeFile(users, options.users.map((u) => `"${u}" ""\n`).join(''), { mode: 0o644 });
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'max_client_conn = 200',
      `default_pool_size = ${options.poolSize}`,
      'reserve_pool_size = 0',
      `ignore_startup_parameters = ${options.ignoreStartupParameters.join(',')}`,
      'server_check_delay = 0',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const child = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'nobody'] : []), ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PgBouncer did not start in 10 s: ${output}`)), 10_000);
    const onData = () => {
      if (output.includes(`listening on 127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PgBouncer exited (${code}): ${output}`));
    });
  });
  const database = upstream.pathname.slice(1) || 'postgres';
  return {
    url: (user) => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // PgBouncer's immediate shutdown (SIGINT waits for clients)
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
