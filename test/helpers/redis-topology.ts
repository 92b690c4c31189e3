// A Redis Cluster (primaries with a replica each) or a Sentinel set (a primary, a
// replica, three Sentinels) of the machine's own redis-server, on loopback ports of
// their own and in a scratch directory, for the tests of Redis beyond one node
// (issue 14 §3). Each node can be killed (SIGKILL) and started again on the same
// port and directory, where it rejoins as a replica. Timeouts are short (a node is
// judged down after 1 s) so a failover takes a few seconds.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePorts } from './environment.ts';

const execFileAsync = promisify(execFile);
const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
/** A node (or Sentinel) not answered for this long is judged down. */
export const NODE_TIMEOUT_MS = 1_000;

/** Why these tests cannot run here, or undefined when they can. */
export function redisTopologyUnavailable(): string | undefined {
  if (!existsSync(REDIS_SERVER) || !existsSync(REDIS_CLI)) return 'needs redis-server and redis-cli (Debian package redis-server)';
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Node {
  port: number;
  dir: string;
  args: string[];
  child?: ChildProcess;
}

function startNode(node: Node): Promise<void> {
  const child = spawn(REDIS_SERVER, node.args, { cwd: node.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  node.child = child;
  return waitFor(async () => (await ask(node.port, 'PING')) === 'PONG', `redis-server on ${node.port} to answer`, 10_000);
}

/** One command to the node on `port` (undefined when it does not answer). */
async function ask(port: number, ...command: string[]): Promise<string | undefined> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    return String(await client.call(command[0]!, ...command.slice(1)));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** 'master' or 'slave' (INFO replication), undefined when the node does not answer. */
export async function roleOf(port: number): Promise<string | undefined> {
  return infoField(await ask(port, 'INFO', 'replication'), 'role');
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stopNode(node: Node, signal: NodeJS.Signals): Promise<void> {
  const child = node.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

interface Topology {
  nodes: Node[];
  base: string;
}

async function stopAll(topology: Topology): Promise<void> {
  await Promise.all(topology.nodes.map((node) => stopNode(node, 'SIGKILL')));
  await rm(topology.base, { recursive: true, force: true });
}

/** Kill (SIGKILL, as a crash) and start again, by port, on the same directory; stop all. */
function controls(topology: Topology) {
  const byPort = (port: number) => {
    const node = topology.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on ${port}`);
    return node;
  };
  return {
    kill: (port: number) => stopNode(byPort(port), 'SIGKILL'),
    restart: (port: number) => startNode(byPort(port)),
    stop: () => stopAll(topology),
  };
}

/** `ready` once it is healthy; otherwise every node is stopped and the error rethrown. */
async function healthyOrStopped<T extends { healthy(): Promise<void> }>(topology: Topology, ready: T): Promise<T> {
  try {
    await ready.healthy();
  } catch (err) {
    await stopAll(topology);
    throw err;
  }
  return ready;
}

/** A field of INFO's text. */
function infoField(info: string | undefined, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(info ?? '')?.[1]?.trim();
}

export interface RedisCluster {
  /** A REDIS_URL for the cluster (redis+cluster://…). */
  url: string;
  ports: number[];
  /** The port of the primary that holds `key`'s slot. */
  primaryOf(key: string): Promise<number>;
  /** Kills the node on `port` (SIGKILL), as a crash would. */
  kill(port: number): Promise<void>;
  /** Starts the node on `port` again; it rejoins (as a replica when it was failed over). */
  restart(port: number): Promise<void>;
  /** Resolves once every slot is served and every primary has a replica in sync. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `primaries` primaries with one replica each, on their own ports. */
export async function startRedisCluster(primaries = 3): Promise<RedisCluster> {
  const count = primaries * 2;
  const ports = await freePorts(count * 2);
  const base = await mkdtemp(path.join(os.tmpdir(), 'enot-redis-cluster-'));
  const topology: Topology = { base, nodes: [] };
  try {
    for (let i = 0; i < count; i++) {
      const dir = path.join(base, String(i));
      await mkdir(dir);
      topology.nodes.push({
        port: ports[i]!,
        dir,
        args: [
          '--port', String(ports[i]), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          // The bus port is its own free port (not port + 10000, which may be taken).
          '--cluster-port', String(ports[count + i]), '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--appendonly', 'no', '--save', '',
          '--dir', dir, '--protected-mode', 'no', '--daemonize', 'no',
        ],
      });
    }
    await Promise.all(topology.nodes.map(startNode));
    await execFileAsync(REDIS_CLI, ['--cluster', 'create', ...topology.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
  } catch (err) {
    await stopAll(topology);
    throw err;
  }
  const cluster: RedisCluster = {
    url: `redis+cluster://${topology.nodes.slice(0, 3).map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    ports: topology.nodes.map((n) => n.port),
    async primaryOf(key) {
      for (const node of topology.nodes) {
        const client = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
        client.on('error', () => {});
        try {
          await client.connect();
          const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
          // CLUSTER SLOTS: [[first, last, [host, port, id] of the primary, …replicas], …]
          const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
          const range = ranges.find(([first, last]) => slot >= first && slot <= last);
          if (range) return range[2][1];
        } catch {
          // a node that is down: ask the next
        } finally {
          client.disconnect();
        }
      }
      throw new Error(`no node knows the primary of ${key}`);
    },
    ...controls(topology),
    async healthy(timeoutMs = 30_000) {
      await waitFor(async () => {
        const infos = await Promise.all(topology.nodes.map((n) => ask(n.port, 'CLUSTER', 'INFO')));
        if (!infos.every((info) => infoField(info, 'cluster_state') === 'ok')) return false;
        const replication = await Promise.all(topology.nodes.map((n) => ask(n.port, 'INFO', 'replication')));
        const masters = replication.filter((r) => infoField(r, 'role') === 'master');
        return masters.length === primaries && masters.every((r) => /slave0:.*state=online/.test(r ?? ''));
      }, 'the cluster to serve every slot with a replica in sync', timeoutMs);
    },
  };
  return healthyOrStopped(topology, cluster);
}

export interface RedisSentinels {
  /** A REDIS_URL for the primary through the Sentinels (redis+sentinel://…/name). */
  url: string;
  /** The port of the current primary, as the Sentinels say. */
  primary(): Promise<number>;
  /** The port of the replica. */
  replica(): Promise<number>;
  kill(port: number): Promise<void>;
  restart(port: number): Promise<void>;
  /** Resolves once the Sentinels agree on a primary that has a replica in sync. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const SENTINEL_NAME = 'enot-primary';

/** A primary and a replica watched by three Sentinels (quorum 2). */
export async function startRedisSentinels(): Promise<RedisSentinels> {
  const ports = await freePorts(5);
  const [primaryPort, replicaPort, ...sentinelPorts] = ports as [number, number, number, number, number];
  const base = await mkdtemp(path.join(os.tmpdir(), 'enot-redis-sentinel-'));
  const topology: Topology = { base, nodes: [] };
  try {
    for (const [i, port] of [primaryPort, replicaPort].entries()) {
      const dir = path.join(base, `redis-${i}`);
      await mkdir(dir);
      topology.nodes.push({
        port,
        dir,
        args: [
          '--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'no', '--save', '', '--dir', dir,
          '--protected-mode', 'no', '--daemonize', 'no',
          ...(i === 1 ? ['--replicaof', '127.0.0.1', String(primaryPort)] : []),
        ],
      });
    }
    for (const [i, port] of sentinelPorts.entries()) {
      const dir = path.join(base, `sentinel-${i}`);
      await mkdir(dir);
      // Sentinel rewrites its configuration file as it learns: it must be its own and writable.
      const conf = path.join(dir, 'sentinel.conf');
      await writeFile(conf, [
        `port ${port}`, 'bind 127.0.0.1', 'protected-mode no', `dir ${dir}`,
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} ${NODE_TIMEOUT_MS}`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
        '',
      ].join('\n'));
      topology.nodes.push({ port, dir, args: [conf, '--sentinel'] });
    }
    await Promise.all(topology.nodes.slice(0, 2).map(startNode));
    await Promise.all(topology.nodes.slice(2).map(startNode));
  } catch (err) {
    await stopAll(topology);
    throw err;
  }
  async function primary(): Promise<number> {
    for (const port of sentinelPorts) {
      const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        await client.connect();
        const address = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME)) as [string, string] | null;
        if (address) return Number(address[1]);
      } catch {
        // the next Sentinel
      } finally {
        client.disconnect();
      }
    }
    throw new Error('no Sentinel names a primary');
  }
  const sentinels: RedisSentinels = {
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${SENTINEL_NAME}`,
    primary,
    async replica() {
      const current = await primary();
      return current === primaryPort ? replicaPort : primaryPort;
    },
    ...controls(topology),
    async healthy(timeoutMs = 30_000) {
      await waitFor(async () => {
        const port = await primary().catch(() => undefined);
        if (port === undefined) return false;
        const info = await ask(port, 'INFO', 'replication');
        if (infoField(info, 'role') !== 'master' || !/slave0:.*state=online/.test(info ?? '')) return false;
        // Every Sentinel knows the replica (it learns it from the primary's INFO).
        const known = await Promise.all(sentinelPorts.map((p) => ask(p, 'SENTINEL', 'REPLICAS', SENTINEL_NAME)));
        return known.every((k) => k !== undefined && k.length > 0);
      }, 'the Sentinels to agree on a primary with a replica in sync', timeoutMs);
    },
  };
  return healthyOrStopped(topology, sentinels);
}
