// HAProxy (Debian's package) in front of Enot ID processes, for the scale-out
// part: started by the benchmark on loopback with a config generated into a
// temporary directory, stopped and the directory removed afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exitOf, stopper, type Running } from './processes.ts';

/** The haproxy binary on PATH or in the sbin directories (Debian: /usr/sbin/haproxy), or undefined. */
export function findHaproxy(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const file = path.join(dir, 'haproxy');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** A frontend on `port` balancing over `servers` (host:port). */
export interface Pool {
  name: string;
  port: number;
  servers: string[];
}

export interface RunningHaproxy extends Running {
  /** "HAProxy version 2.6.12-…" */
  version: string;
  urls: Record<string, string>;
  /** HTTP responses each server of a pool has sent so far, in the pool's order (from the stats page). */
  responses(pool: string): Promise<number[]>;
}

function configFor(pools: Pool[], statsPort: number): string {
  const lines = [
    'global',
    '  maxconn 4096',
    // No logging: the proxy's own cost stays small and the same in every setup.
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  option forwardfor',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 30s',
    // Node closes a kept-alive backend connection after 5 s idle; a request
    // sent on it at that moment is retried instead of answered 502.
    '  retry-on conn-failure empty-response',
    ...pools.flatMap((pool) => [
      `frontend ${pool.name}`,
      `  bind 127.0.0.1:${pool.port}`,
      `  default_backend ${pool.name}`,
      `backend ${pool.name}`,
      // Every request on its own: the steps of one sign-in land on different processes.
      '  balance roundrobin',
      ...pool.servers.map((server, i) => `  server p${i + 1} ${server}`),
    ]),
    'listen stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
  ];
  return `${lines.join('\n')}\n`;
}

export async function startHaproxy(binary: string, pools: Pool[], statsPort: number, logFile: string): Promise<RunningHaproxy> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'enot-bench-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, configFor(pools, statsPort));
  const version = execFileSync(binary, ['-v'], { encoding: 'utf8' }).split('\n')[0]!.replace(/ - https?:.*$/, '');
  try {
    execFileSync(binary, ['-c', '-q', '-f', file], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`haproxy rejected the generated config: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
  const began = performance.now();
  const fd = openSync(logFile, 'a');
  // -db: in the foreground, so it is our child and stops with us.
  const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = exitOf(child);
  const stats = `http://127.0.0.1:${statsPort}/stats`;
  const stopChild = stopper(child, exited);
  const stop = async (graceMs = 5000) => {
    const code = await stopChild(graceMs);
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`haproxy exited before serving: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    if (await fetch(stats).then((r) => r.ok, () => false)) break;
    if (performance.now() - began > 10_000) {
      await stop();
      throw new Error('haproxy did not answer within 10 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    child, pid: child.pid!, url: stats, startMs: performance.now() - began, exited, stop, version,
    urls: Object.fromEntries(pools.map((pool) => [pool.name, `http://127.0.0.1:${pool.port}`])),
    async responses(pool) {
      const [header, ...rows] = (await (await fetch(`${stats};csv`)).text()).trim().split('\n');
      const columns = header!.replace(/^# /, '').split(',');
      const at = (name: string) => columns.indexOf(name);
      const classes = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'].map(at);
      return rows
        .map((row) => row.split(','))
        .filter((cells) => cells[at('pxname')] === pool && !['FRONTEND', 'BACKEND'].includes(cells[at('svname')]!))
        .map((cells) => classes.reduce((sum, i) => sum + Number(cells[i] || 0), 0));
    },
  };
}
