// Isolated storage for one test: a fresh DATA_DIR (the embedded PostgreSQL), or (when the run has
// DATABASE_URL / REDIS_URL) a fresh PostgreSQL schema and Redis key prefix.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { connectRedis } from '../../server/redis/connect.ts';
import { deleteKeysByPrefix } from './redis-keys.ts';
import { jobsSchema } from '../../server/jobs/queue.ts';
import { startEmbeddedPostgres } from '../../server/db/embedded-postgres.ts';

/** A free loopback port for a test's server (for several distinct ones at once, freePorts). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

const execFileAsync = promisify(execFile);

export const serverMode = Boolean(process.env.DATABASE_URL);

export interface TestEnvironment {
  /** Environment variables for loadConfig() or a child process. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * One initialised embedded PostgreSQL cluster per test process (ava runs each file in
 * its own), copied into each test's DATA_DIR: a copy of a stopped cluster is what
 * initdb would have written, without initdb's second of CPU per test. The cluster is
 * as initdb leaves it (no migrations), so every test still migrates its own database.
 * Tests of the first start itself pass `{ freshDatabase: true }`.
 */
let template: Promise<string> | undefined;
function embeddedTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enot-pg-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const embedded = await startEmbeddedPostgres(dir);
    await embedded.stop();
    return dir;
  })();
  return template;
}

// Test servers listen below the kernel's ephemeral range (ip_local_port_range). A port
// the kernel handed out to a probe (listen on 0) and that the probe gave back is free
// for anyone: the kernel may hand it out again as the source port of an outgoing
// connection (the suite opens thousands) or to another probe before the server binds
// it, and the server fails with EADDRINUSE (seen in CI). Ports below the range are
// never handed out by the kernel, so only another test's own pick can collide, and a
// pick is checked by binding it.
function pickRange(): [number, number] {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 12_000) return [10_000, low - 1];
  } catch {
    // not Linux: the IANA ephemeral range starts at 49152
  }
  return [20_000, 49_151];
}
const [PICK_LOW, PICK_HIGH] = pickRange();

function holdPort(port: number): Promise<ReturnType<typeof createServer> | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, '127.0.0.1', () => resolve(probe));
  });
}

/** `count` distinct free loopback ports below the ephemeral range: each is held open until all are chosen. */
export async function freePorts(count: number): Promise<number[]> {
  const held: ReturnType<typeof createServer>[] = [];
  try {
    for (let tries = 0; held.length < count; tries++) {
      if (tries > 1_000) throw new Error(`no ${count} free ports between ${PICK_LOW} and ${PICK_HIGH}`);
      const port = PICK_LOW + Math.floor(Math.random() * (PICK_HIGH - PICK_LOW + 1));
      const probe = await holdPort(port);
      if (probe) held.push(probe);
    }
    return held.map((probe) => (probe.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((probe) => new Promise((resolve) => probe.close(resolve))));
  }
}

export async function testEnvironment(overrides: Record<string, string> = {}, options: { freshDatabase?: boolean } = {}): Promise<TestEnvironment> {
  const id = randomBytes(6).toString('hex');
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enot-test-'));
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    SHUTDOWN_TIMEOUT: '5',
  };
  if (process.env.DATABASE_URL) {
    env.DATABASE_URL = process.env.DATABASE_URL;
    env.DATABASE_SCHEMA = `t_${id}`;
  }
  if (process.env.REDIS_URL) {
    env.REDIS_URL = process.env.REDIS_URL;
    env.REDIS_PREFIX = `t:${id}:`;
  }
  Object.assign(env, overrides);
  if (!env.DATABASE_URL && !options.freshDatabase) {
    const source = await embeddedTemplate();
    // cp -a keeps the owner (as root: the postgres user) and PostgreSQL's 0700 modes.
    await execFileAsync('cp', ['-a', path.join(source, 'postgres'), path.join(source, 'postgres-password'), dataDir]);
  }
  return {
    env,
    async cleanup() {
      await rm(dataDir, { recursive: true, force: true });
      if (env.DATABASE_URL && env.DATABASE_SCHEMA) {
        const db = knexFactory({ client: 'pg', connection: env.DATABASE_URL });
        // The job queue's tables live beside it (server/jobs/queue.ts jobsSchema).
        await db.raw('drop schema if exists ??, ?? cascade', [env.DATABASE_SCHEMA, jobsSchema(env.DATABASE_SCHEMA)]).finally(() => db.destroy());
      }
      if (env.REDIS_URL && env.REDIS_PREFIX) {
        const redis = await connectRedis(env.REDIS_URL);
        await deleteKeysByPrefix(redis, env.REDIS_PREFIX).finally(() => redis.quit());
      }
    },
  };
}
